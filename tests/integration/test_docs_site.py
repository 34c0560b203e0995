"""The documentation site of `make docs` (hack/docs.sh), opened in a real browser: the workspace
module's page draws its options table, and the index leads to the module, role, plugin and guide pages."""

import os
import re
import subprocess

import pytest
from ansible_runner import REPO_ROOT, VENV_BIN

SITE = REPO_ROOT / ".work" / "docs" / "build" / "html"


@pytest.fixture(scope="module")
def site():
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
               ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".work" / "collections"))
    completed = subprocess.run(["bash", str(REPO_ROOT / "hack" / "docs.sh")], capture_output=True, text=True,
                               env=env, cwd=REPO_ROOT, timeout=900, check=False)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    return SITE


def _dom(chromium, page, profile):
    """The page as the browser drew it."""
    completed = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_workspace_module_page_shows_its_options_table(chromium, site, tmp_path):
    dom = _dom(chromium, site / "workspace_module.html", tmp_path / "profile")
    assert "atelier.workspaces.workspace module" in dom
    tables = re.findall(r'<table class="[^"]*\bansible-option-table\b.*?</table>', dom, re.S)
    assert tables, "no options table on the page"
    options = tables[0]
    for option in ("name", "backend", "image", "state", "purge"):
        assert f'id="parameter-{option}"' in options, option
    # the choices of state are rendered inside the table
    assert '<span class="pre">archived</span>' in options


def test_index_leads_to_every_kind_of_page(chromium, site, tmp_path):
    dom = _dom(chromium, site / "index.html", tmp_path / "profile")
    for page in ("workspace_module.html", "workspace_info_module.html", "workspace_image_role.html",
                 "k8s_cluster_role.html", "workspaces_inventory.html", "guides/env-policy.html",
                 "guides/roles.html", "guides/cluster-setup.html"):
        assert f'href="{page}' in dom, page
