"""A writer of one control document, run as its own process so that writers race as separate runs do.

As a script: connect to the engine, print "ready", wait for a line on stdin (so that all writers start
together), then add KEY to the document (to the given half, or to both halves of a pair) and append it to
the document's "order" list, which shows a change applied twice; print {"changed": ...}. With --hold it
takes the Docker document's lock instead, prints "held" and keeps it until it is killed.

For the tests: writers() starts several and returns what each printed.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
ORDER = "order"


def _store(options):
    sys.path.insert(0, str(REPO_ROOT / ".work" / "collections"))
    if options.engine == "docker":
        from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client, store

        return store.DockerStore(client.connect({}), lease=options.lease)
    from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import client, store

    return store.K8sStore(client.Cluster(client.connect({"kubeconfig": options.kubeconfig})), options.namespace)


def _with_key(mapping, key):
    """The mapping with the key set and appended to the order list (appended again if the change ran twice)."""
    found = dict(mapping or {})
    found[key] = "kept"
    found[ORDER] = json.dumps([*json.loads(found.get(ORDER) or "[]"), key])
    return found


def _hold(store, document):
    from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import lock
    from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import store as docker_store

    store._ensure_holder()
    with lock.Lock(store.api, document, docker_store.HOLDER_IMAGE, lease=store.lease):
        print("held", flush=True)
        time.sleep(600)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=("docker", "kubernetes"))
    parser.add_argument("document")
    parser.add_argument("kind", choices=("plain", "secret", "pair"))
    parser.add_argument("key")
    parser.add_argument("--namespace")
    parser.add_argument("--kubeconfig")
    parser.add_argument("--lease", type=float, default=30)
    parser.add_argument("--hold", action="store_true")
    options = parser.parse_args()
    store = _store(options)
    if options.hold:
        _hold(store, options.document)
        return
    print("ready", flush=True)
    sys.stdin.readline()
    if options.kind == "pair":
        changed = store.update_pair(options.document, lambda pair: (
            _with_key(pair[0], options.key), {**(pair[1] or {}), options.key: "secret"}))
    else:
        changed = store.update(options.document, lambda current: _with_key(current, options.key),
                               secret=options.kind == "secret")
    print(json.dumps({"changed": changed}), flush=True)


def start(*args):
    """One writer process; stdout and stdin are pipes."""
    return subprocess.Popen([str(PYTHON), __file__, *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, timeout):
    """What a writer printed last, parsed; it must have succeeded."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"writer failed ({process.returncode}): {err[-3000:]}"
    return json.loads(out.strip().splitlines()[-1])


def writers(engine, document, kind, keys, *extra, timeout=180):
    """Start one writer per key, let them all go at once, and return their results in key order."""
    processes = [start(engine, document, kind, key, *extra) for key in keys]
    try:
        for process in processes:
            line = process.stdout.readline()
            assert line.strip() == "ready", f"writer did not start: {line}{process.stderr.read()[-3000:]}"
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        return [finish(process, timeout) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


if __name__ == "__main__":
    main()
