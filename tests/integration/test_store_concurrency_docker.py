"""Parallel runs against one Docker engine keep every change of the control documents.

Each writer is its own process, as parallel ansible-playbook runs are; they all start together.
"""

import json
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from ansible_runner import run_module
from docker_workspaces import container, exec_as_user, kept_control_documents, remove_workspaces
from store_writer import ORDER, finish, start, writers

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import lock
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import roles as role_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import store as docker_store

WRITERS = 10
ROLE_MODULE = "atelier.workspaces.workspace_role"
HELPER_IMAGE = "atelier/busybox:local"


def _lock_containers(docker_client, document):
    return docker_client.containers.list(all=True, filters={"name": lock.name(document)})


@pytest.fixture()
def document(docker_client):
    """A control document of this test alone; its files and any lock left are removed afterwards."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    for found in _lock_containers(docker_client, name):
        found.remove(force=True)
    files = [f"{docker_store.MOUNT}/{docker_store.file_name(name, secret)}" for secret in (False, True)]
    # the engine cannot delete a file of a stopped container: a throwaway one mounting the volume does
    docker_client.containers.run(HELPER_IMAGE, ["rm", "-f", *files], remove=True, network_disabled=True,
                                 volumes={docker_store.VOLUME: {"bind": docker_store.MOUNT, "mode": "rw"}})


@pytest.fixture()
def store(docker_client):
    return docker_store.DockerStore(docker_client.api)


def _keys(prefix):
    return [f"{prefix}-{index:02d}" for index in range(WRITERS)]


def _assert_all_kept_once(mapping, keys):
    assert {key for key in mapping if key != ORDER} == set(keys)
    order = json.loads(mapping[ORDER])
    assert sorted(order) == sorted(keys), "a change was lost or applied twice"


def _lock_events(docker_client, document, since):
    events = docker_client.events(since=since, until=time.time() + 0.5, decode=True)
    return [event for event in events if (event.get("Actor") or {}).get("Attributes", {}).get("name")
            == lock.name(document)]


@pytest.mark.parametrize("kind", ["plain", "secret"])
def test_parallel_writers_of_one_document_are_all_kept(docker_client, document, store, kind):
    keys = _keys(kind)
    results = writers("docker", document, kind, keys)
    assert [result["changed"] for result in results] == [True] * WRITERS
    _assert_all_kept_once(store.read(document, secret=kind == "secret"), keys)
    assert _lock_containers(docker_client, document) == []


def test_an_unchanged_document_costs_reads_only(docker_client, document, store):
    assert store.update(document, lambda _current: {"a": "1"}) is True
    since = time.time()
    assert store.update(document, lambda current: current) is False
    assert store.update(document, lambda _current: {"a": "1"}) is False
    assert store.update(document, lambda _current: {"a": "2"}, dry_run=True) is True
    assert _lock_events(docker_client, document, since) == [], "an unchanged document took a lock"
    assert store.read(document) == {"a": "1"}


def test_parallel_writers_of_a_pair_keep_both_halves_whole(docker_client, document, store):
    keys = _keys("pair")
    results = writers("docker", document, "pair", keys)
    assert all(result["changed"] for result in results)
    plain, secret = store.read_pair(document)
    _assert_all_kept_once(plain, keys)
    assert secret == dict.fromkeys(keys, "secret")
    assert _lock_containers(docker_client, document) == []


def test_a_lock_left_by_a_killed_run_holds_the_next_one_up_for_its_lease_only(docker_client, document, store):
    lease = 5
    holder = start("docker", document, "plain", "killed", "--hold", "--lease", lease)
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read()[-3000:]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert len(_lock_containers(docker_client, document)) == 1, "the killed run left its lock"

    started = time.monotonic()
    after = start("docker", document, "plain", "after-kill")
    assert after.stdout.readline().strip() == "ready"
    after.stdin.write("go\n")
    after.stdin.flush()
    assert finish(after, timeout=120)["changed"] is True
    waited = time.monotonic() - started
    assert waited < lease + 30, f"the next run waited {waited:.0f}s for a lock with a lease of {lease}s"
    assert store.read(document) == {"after-kill": "kept", ORDER: '["after-kill"]'}
    assert _lock_containers(docker_client, document) == []


# --- workspace_role: the roles document ------------------------------------------------------------------------

@pytest.fixture()
def role_workspace(docker_client):
    name = f"conc-role-{uuid.uuid4().hex[:6]}"
    # the roles document is the engine's: put back as it was
    with kept_control_documents(docker_client):
        run_module("atelier.workspaces.workspace", {"backend": "docker", "name": name, "image": HELPER_IMAGE,
                                                    "command": ["sleep", "infinity"], "wait": False})
        yield name
        run_module("atelier.workspaces.workspace", {"backend": "docker", "name": name, "state": "absent",
                                                    "purge": True})
        remove_workspaces(docker_client, name)


def test_parallel_role_assignments_on_one_workspace_are_all_kept(docker_client, role_workspace):
    people = [f"conc-{index:02d}@example.test" for index in range(WRITERS)]

    def assign(person):
        return run_module(ROLE_MODULE, {"backend": "docker", "workspace": role_workspace, "role": "editor",
                                        "subject": {"name": person}})

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        results = list(pool.map(assign, people))
    assert all(result["changed"] for result in results)
    stored = json.loads(role_docker.read_document(docker_client.api)[role_docker.scope_key(role_workspace)])
    assert stored == {f"user:{person}": "editor" for person in people}

    again = assign(people[0])
    assert again["changed"] is False and again["actions"] == []
    # the last export into the workspace is of the last document
    exported = json.loads(exec_as_user(container(docker_client, role_workspace), f"cat {role_docker.EXPORT_PATH}"))
    assert sorted(exported["effective"]) == sorted(f"user:{person}" for person in people)
