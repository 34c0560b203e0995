"""The layers of plugins/module_utils import each other in one direction only."""

import ast
import pathlib

import pytest

MODULE_UTILS = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
PREFIX = "ansible_collections.atelier.workspaces.plugins.module_utils"
NEUTRAL = ("common", "domain", "plan")
# Swarm mode is Docker underneath: it reuses the Docker backend's connection, plan, store and roles document.
MAY_REUSE = {"swarm": ("docker",)}


def imported(source):
    """The module_utils modules a file imports, as dotted paths below module_utils."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            base = node.module[len(PREFIX):].lstrip(".")
            found.extend(f"{base}.{alias.name}".lstrip(".") for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(alias.name[len(PREFIX):].lstrip(".") for alias in node.names if alias.name.startswith(PREFIX))
    return found


def broken_rule(where, target):
    """Why `where` (a path below module_utils, dotted) may not import `target`, or None."""
    layer, target_layer = where.split(".")[0], target.split(".")[0]
    if layer in NEUTRAL and target_layer in ("backends", "tasks", "ports"):
        return f"{where} is backend-neutral but imports {target}"
    if layer == "backends" and where != "backends.registry":
        own, other = where.split(".")[1], target.split(".")[1] if target_layer == "backends" else None
        if target_layer == "tasks":
            return f"{where} imports the task layer ({target})"
        if other and other != own and other not in MAY_REUSE.get(own, ()):
            return f"{where} imports another backend ({target})"
    if layer == "tasks" and target_layer == "backends" and target != "backends.registry":
        return f"{where} reaches a backend other than through backends.registry ({target})"
    return None


def violations(files):
    """Every broken rule in {dotted path: source}."""
    return [rule for where, source in files.items() for target in imported(source)
            if (rule := broken_rule(where, target))]


def tree():
    return {".".join(path.relative_to(MODULE_UTILS).with_suffix("").parts): path.read_text()
            for path in MODULE_UTILS.rglob("*.py")}


def test_the_tree_keeps_every_import_rule():
    assert violations(tree()) == []


@pytest.mark.parametrize("where, source, expected", [
    ("domain.idle", f"from {PREFIX}.backends.docker import client\n", "backend-neutral"),
    ("plan", f"from {PREFIX}.tasks import workspace\n", "backend-neutral"),
    ("backends.kubernetes.apply", f"from {PREFIX}.backends.docker import plan\n", "another backend"),
    ("backends.docker.apply", f"from {PREFIX}.backends.swarm import client\n", "another backend"),
    ("tasks.info", f"from {PREFIX}.backends.kubernetes import observe\n", "backends.registry"),
    ("tasks.info", f"import {PREFIX}.backends.docker.client\n", "backends.registry"),
])
def test_a_broken_rule_is_found(where, source, expected):
    found = violations({where: source})
    assert len(found) == 1 and expected in found[0]


def test_allowed_imports_pass():
    assert violations({
        "backends.swarm.backend": f"from {PREFIX}.backends.docker import client\n",
        "tasks.workspace": f"from {PREFIX}.backends import registry\nfrom {PREFIX}.domain import roles\n",
        "backends.registry": f"from {PREFIX}.backends.kubernetes.backend import KubernetesBackend\n",
    }) == []


def test_no_task_names_a_backend():
    for path in (MODULE_UTILS / "tasks").glob("*.py"):
        source = path.read_text()
        for name in ("'docker'", '"docker"', "'kubernetes'", '"kubernetes"', "swarm"):
            assert name not in source, f"{path.name} names a backend: {name}"
