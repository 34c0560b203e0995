"""The collection as an execution environment and a bare controller get it: from its built tarball, the Python
and system requirements ansible-builder finds, and a venv with only ansible-core and requirements.txt that
imports every plugin and module_utils file."""

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from ansible_runner import REPO_ROOT, VENV_BIN

CACHE = Path(os.environ.get("ATELIER_CACHE", Path.home() / ".cache" / "atelier-workspaces"))
META_FILES = ("requirements.txt", "bindep.txt", "meta/execution-environment.yml")


def _run(*command, **kwargs):
    completed = subprocess.run([str(part) for part in command], capture_output=True, text=True, check=False,
                               **kwargs)
    assert completed.returncode == 0, f"{command}: {completed.stdout}{completed.stderr}"
    return completed.stdout


def _requirement_lines(path):
    """The requirement lines of a pip or bindep file, without comments and blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in Path(path).read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _dev_pin(name):
    for line in _requirement_lines(REPO_ROOT / "requirements-dev.txt"):
        if line.startswith(f"{name}=="):
            return line
    raise AssertionError(f"requirements-dev.txt pins no {name}")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The collection built as users get it, and installed into an empty collections path."""
    work = tmp_path_factory.mktemp("collection")
    _run(VENV_BIN / "ansible-galaxy", "collection", "build", "--output-path", work, REPO_ROOT)
    tarball = next(work.glob("atelier-workspaces-*.tar.gz"))
    _run(VENV_BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", work / "collections", tarball,
         env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(work / "collections")})
    return tarball, work / "collections"


def test_tarball_carries_the_requirement_files(built):
    tarball, _collections = built
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    assert set(META_FILES) <= names


def test_ansible_builder_context_lists_the_collection_requirements(built, tmp_path):
    tarball, collections = built
    definition = {
        "version": 3,
        "images": {"base_image": {"name": "localhost/ee-base:latest"}},
        "dependencies": {
            "ansible_core": {"package_pip": _dev_pin("ansible-core")},
            "ansible_runner": {"package_pip": "ansible-runner"},
            "galaxy": {"collections": [{"name": f"collections/{tarball.name}", "type": "file"}]},
        },
        "additional_build_files": [{"src": str(tarball), "dest": "collections"}],
    }
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump(definition), encoding="utf-8")
    context = tmp_path / "context"
    _run(VENV_BIN / "ansible-builder", "create", "-f", tmp_path / "execution-environment.yml", "-c", context,
         "--output-filename", "Containerfile")

    build = context / "_build"
    assert (build / "collections" / tarball.name).is_file()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))
    assert galaxy["collections"] == [{"name": f"collections/{tarball.name}", "type": "file"}]
    assert "introspect.py introspect" in (context / "Containerfile").read_text(encoding="utf-8")

    # what the builder stage runs once the galaxy stage has installed the collection
    pip, bindep = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    _run(VENV_BIN / "python", build / "scripts" / "introspect.py", "introspect", "--sanitize",
         f"--write-pip={pip}", f"--write-bindep={bindep}", collections)
    assert "atelier.workspaces" in pip.read_text(encoding="utf-8")
    assert _requirement_lines(pip) == _requirement_lines(REPO_ROOT / "requirements.txt")
    assert _requirement_lines(bindep) == _requirement_lines(REPO_ROOT / "bindep.txt")


def _runtime_venv():
    """A venv with ansible-core (the dev pin) and requirements.txt only, cached by what it was made from."""
    core = _dev_pin("ansible-core")
    recipe = f"{sys.version_info[:2]}\n{core}\n{(REPO_ROOT / 'requirements.txt').read_text(encoding='utf-8')}"
    venv = CACHE / "runtime-venv" / hashlib.sha256(recipe.encode()).hexdigest()[:16]
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        _run(sys.executable, "-m", "venv", "--clear", venv)
        _run(python, "-m", "pip", "install", "-q", core, "-r", REPO_ROOT / "requirements.txt")
        (venv / ".complete").write_text(recipe, encoding="utf-8")
    return python


IMPORT_ALL = """
import importlib, json, pathlib, sys
root = pathlib.Path(sys.argv[1])
plugins = root / "ansible_collections" / "atelier" / "workspaces" / "plugins"
sys.path.insert(0, str(root))
names = []
for path in sorted(plugins.rglob("*.py")):
    parts = path.relative_to(root).with_suffix("").parts
    name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    importlib.import_module(name)
    names.append(name)
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client as docker_client
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import client as k8s_client
import importlib.metadata as metadata
print(json.dumps({"imported": names, "docker": docker_client.HAS_DOCKER, "kubernetes": k8s_client.HAS_KUBERNETES,
                  "distributions": sorted({d.metadata["Name"].lower() for d in metadata.distributions()})}))
"""


def test_runtime_needs_only_ansible_core_and_requirements_txt(built):
    _tarball, collections = built
    python = _runtime_venv()
    found = json.loads(_run(python, "-c", IMPORT_ALL, collections, cwd=collections))
    prefix = "ansible_collections.atelier.workspaces.plugins."
    for kind in ("modules", "module_utils"):
        imported = [name for name in found["imported"] if f"{name}.".startswith(f"{prefix}{kind}.")]
        assert len(imported) == len(list((REPO_ROOT / "plugins" / kind).rglob("*.py"))), kind
    assert found["docker"] is True and found["kubernetes"] is True
    # none of the dev tools is there to lean on
    assert not {"ansible", "molecule", "pytest", "ansible-lint"} & set(found["distributions"])
