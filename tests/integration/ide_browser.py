"""JupyterLab as a user meets it: the served page, then the application a real browser draws from it."""

import re
import subprocess
import time
import urllib.error
import urllib.request

from ansible_runner import run_module

# only the JupyterLab application draws these, in the browser: the shell and a file browser entry
LAB_SHELL = re.compile(r'<div[^>]*\bclass="[^"]*\bjp-LabShell\b[^"]*"[^>]*\bid="main"')
LISTED = '<span class="jp-DirListing-itemText"[^>]*><span>{}</span>'


def wait_http(url, timeout=90):
    """The page's HTML as served, once the IDE answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def browser_dom(chromium, url, profile, wanted, attempts=5):
    """The DOM after Chromium ran the page's scripts; retried until every pattern in `wanted` is drawn."""
    dom = ""
    for _attempt in range(attempts):
        completed = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
        dom = completed.stdout
        if all(re.search(pattern, dom) for pattern in wanted):
            return dom
        time.sleep(1)
    missing = [pattern for pattern in wanted if not re.search(pattern, dom)]
    raise AssertionError(f"the browser did not draw {missing} at {url}; DOM starts with:\n{dom[:2000]}")


def access_token(args):
    """The workspace's access secret, as its owner reads it: workspace_info with show_access."""
    wanted = {key: args[key] for key in ("name", "backend", "namespace", "kubeconfig", "docker_host") if key in args}
    info = run_module("atelier.workspaces.workspace_info", {**wanted, "show_access": True})
    access = info["workspaces"][0]["access"]
    assert access["mode"] == "token" and len(access["token"]) >= 40
    return access["token"]


def http_status(url, headers=None):
    """The status an HTTP GET gets, redirects not followed."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def open_lab(chromium, profile, url, proof, token):
    """Open JupyterLab under `url` (ending in '/') with the access secret in Chromium; its file browser must
    list `proof`."""
    served = wait_http(f"{url}lab?token={token}")
    assert "<title>JupyterLab</title>" in served
    listed = LISTED.format(re.escape(proof))
    # what the server sends is a shell of scripts: the IDE itself exists only once a browser ran them
    assert not LAB_SHELL.search(served)
    assert not re.search(listed, served)
    dom = browser_dom(chromium, f"{url}lab?token={token}", profile, [LAB_SHELL.pattern, listed])
    assert "<title>JupyterLab</title>" in dom
