"""Guarded document changes without an engine: the pair's stamps, the port's half-by-half pair write under a
race, the Kubernetes store's resourceVersion guard and the Docker lock's lease."""

import copy

import pytest
from memory_backend import MemoryStore

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import lock
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import store as k8s_store
from ansible_collections.atelier.workspaces.plugins.module_utils.common import document_pair, pair_writes

KEY = document_pair.REVISION_KEY


def test_a_pair_view_hides_the_stamps_and_a_missing_plain_half_means_no_pair():
    assert document_pair.view({"a": "1", KEY: "r"}, {"s": "2", KEY: "r"}) == ({"a": "1"}, {"s": "2"})
    assert document_pair.view(None, {"s": "leftover"}) == (None, None)
    assert document_pair.view({}, {}) == (None, None)  # an emptied Docker document


def test_halves_of_one_write_are_consistent_and_unchanged():
    stored = document_pair.stamped(({"a": "1"}, {"s": "2"}), "r1")
    assert document_pair.consistent(*stored)
    assert document_pair.unchanged(stored, ({"a": "1"}, {"s": "2"}))
    assert not document_pair.unchanged(stored, ({"a": "1"}, {"s": "3"}))
    mixed = (stored[0], {**stored[1], KEY: "r2"})
    assert not document_pair.consistent(*mixed)
    assert not document_pair.unchanged(mixed, ({"a": "1"}, {"s": "2"})), "a mixed pair is written again"


def test_removing_a_pair_also_removes_a_secret_half_left_over():
    assert document_pair.stamped((None, {"s": "x"}), "r") == (None, None)
    assert document_pair.unchanged((None, None), (None, None))
    assert not document_pair.unchanged((None, {"s": "x"}), (None, None))


def test_unstamped_halves_written_before_stamps_existed_still_read():
    store = MemoryStore()
    store.documents[("doc", False)] = {"a": "1"}
    store.documents[("doc", True)] = {"s": "2"}
    assert store.read_pair("doc") == ({"a": "1"}, {"s": "2"})


class RacingStore(MemoryStore):
    """A memory store in which another run writes its whole pair while this one is between its halves."""

    def __init__(self):
        super().__init__()
        self.other_run = None

    def update(self, document, change, secret=False, dry_run=False):
        if not secret and self.other_run:
            other, self.other_run = self.other_run, None
            other()
        return super().update(document, change, secret, dry_run)


def test_a_pair_written_half_by_half_ends_whole_when_another_run_cuts_in():
    store = RacingStore()
    store.other_run = lambda: store.update_pair("doc", lambda _stored: ({"by": "b"}, {"token": "b"}))
    assert store.update_pair("doc", lambda _stored: ({"by": "a"}, {"token": "a"})) is True
    # the run that wrote last found the halves mixed and wrote its pair again
    assert store.read_pair("doc") == ({"by": "a"}, {"token": "a"})
    plain, secret = store.read("doc"), store.read("doc", secret=True)
    assert plain[KEY] == secret[KEY]


def test_a_run_whose_second_half_lost_puts_its_first_half_back():
    store = RacingStore()
    store.update_pair("doc", lambda _stored: ({"v": "1"}, {"token": "1"}))
    first_secret = store.read("doc", secret=True)
    seen = []

    def plain_changed_meanwhile():
        plain = store.read("doc")
        store.documents[("doc", False)] = {**plain, "other": "x"}  # same revision: still one pair
        seen.append(store.read("doc", secret=True))

    store.other_run = plain_changed_meanwhile
    writes = store.writes
    assert store.update_pair("doc", lambda stored: ({**stored[0], "v": "2"}, {"token": "2"})) is True
    assert seen[0]["token"] == "2", "the first half was written before the second one lost"
    # its secret half, that half put back, then both halves again
    assert store.writes - writes == 4
    assert store.read_pair("doc") == ({"v": "2", "other": "x"}, {"token": "2"})
    assert store.read("doc", secret=True) != first_secret


def test_a_pair_left_mixed_by_a_killed_run_is_waited_for_then_written_whole(monkeypatch):
    monkeypatch.setattr(pair_writes, "SETTLE_SECONDS", 0.3)
    store = MemoryStore()
    store.update_pair("doc", lambda _stored: ({"v": "1"}, {"token": "1"}))
    store.documents[("doc", True)] = {"token": "killed", KEY: "never-committed"}
    assert store.update_pair("doc", lambda stored: ({**stored[0], "n": "1"}, {"token": "2"})) is True
    assert store.read_pair("doc") == ({"v": "1", "n": "1"}, {"token": "2"})


def test_an_unchanged_pair_costs_no_write_and_dry_run_writes_nothing():
    store = MemoryStore()
    assert store.update_pair("doc", lambda _stored: ({"a": "1"}, {}), dry_run=True) is True
    assert store.writes == 0
    store.update_pair("doc", lambda _stored: ({"a": "1"}, {}))
    writes = store.writes
    assert store.update_pair("doc", lambda stored: stored) is False
    assert store.writes == writes


class FakeCluster:
    """Objects with resourceVersions, refusing a write of a stale one as the API server does."""

    def __init__(self):
        self.objects, self.version, self.writes = {}, 0, []
        self.before_write = None  # another run's write, made once just before this run's next one

    def _stored(self, key, obj):
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.objects[key] = obj
        return copy.deepcopy(obj)

    def _write(self, verb):
        if self.before_write:
            other, self.before_write = self.before_write, None
            other()
        self.writes.append(verb)

    def get(self, kind, namespace, name):
        return copy.deepcopy(self.objects.get((kind, namespace, name)))

    def ensure_namespace(self, namespace):
        return False

    def apply(self, obj, manager=None):
        self._write("apply")
        key = (obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"])
        if key in self.objects:  # the empty object applied again changes nothing
            return copy.deepcopy(self.objects[key])
        return self._stored(key, copy.deepcopy(obj))

    def merge_patch(self, kind, namespace, name, patch, conflict=None, missing=None):
        self._write("patch")
        found = self.objects.get((kind, namespace, name))
        if found is None:
            return missing
        if found["metadata"]["resourceVersion"] != patch["metadata"]["resourceVersion"]:
            return conflict
        data = {**(found.get("data") or {}), **patch["data"]}
        found["data"] = {key: value for key, value in data.items() if value is not None}
        return self._stored((kind, namespace, name), found)

    def delete(self, kind, namespace, name, resource_version=None, conflict=None, missing=None):
        self._write("delete")
        found = self.objects.get((kind, namespace, name))
        if found is None:
            return missing
        if resource_version and found["metadata"]["resourceVersion"] != resource_version:
            return conflict
        del self.objects[(kind, namespace, name)]
        return {}


def add(key):
    return lambda current: {**(current or {}), key: "1"}


def test_the_kubernetes_store_recomputes_a_change_that_lost_the_race():
    cluster = FakeCluster()
    store = k8s_store.K8sStore(cluster, "control")
    assert store.update("doc", add("first")) is True
    cluster.before_write = lambda: k8s_store.K8sStore(cluster, "control").update("doc", add("other"))
    assert store.update("doc", add("mine")) is True
    assert store.read("doc") == {"first": "1", "other": "1", "mine": "1"}
    # created empty then filled; the other run's patch, this run's refused one, then the one computed again
    assert cluster.writes == ["apply", "patch", "patch", "patch", "patch"]


def test_a_pair_on_kubernetes_costs_one_create_and_one_patch_per_half():
    cluster = FakeCluster()
    store = k8s_store.K8sStore(cluster, "control")
    assert store.update_pair("doc", lambda _pair: ({"a": "1"}, {"s": "2"})) is True
    assert cluster.writes == ["apply", "patch", "apply", "patch"]
    assert store.read_pair("doc") == ({"a": "1"}, {"s": "2"})


def test_the_kubernetes_store_removes_keys_the_change_drops():
    cluster = FakeCluster()
    store = k8s_store.K8sStore(cluster, "control")
    store.update("doc", lambda _current: {"a": "1", "b": "2"})
    assert store.update("doc", lambda current: {"b": current["b"]}) is True
    assert store.read("doc") == {"b": "2"}


def test_the_kubernetes_store_fills_an_object_another_run_created_first():
    cluster = FakeCluster()
    store = k8s_store.K8sStore(cluster, "control")
    cluster.before_write = lambda: k8s_store.K8sStore(cluster, "control").update("doc", add("other"), secret=True)
    assert store.update("doc", add("mine"), secret=True) is True
    assert store.read("doc", secret=True) == {"other": "1", "mine": "1"}
    stored = cluster.objects[("Secret", "control", "atelier-doc")]
    assert stored["metadata"]["labels"][k8s_store.LABEL_DOCUMENT] == "doc"
    assert stored["data"]["mine"] == "MQ==", "a secret document is stored base64-encoded"


def test_the_kubernetes_store_deletes_with_the_version_it_read_and_writes_nothing_unchanged():
    cluster = FakeCluster()
    store = k8s_store.K8sStore(cluster, "control")
    store.update("doc", add("a"))
    cluster.writes.clear()
    assert store.update("doc", lambda current: current) is False
    assert store.update("doc", lambda _current: None, dry_run=True) is True
    assert cluster.writes == []
    cluster.before_write = lambda: k8s_store.K8sStore(cluster, "control").update("doc", add("b"))
    assert store.update("doc", lambda current: None if current == {"a": "1"} else {"kept": "b"}) is True
    assert store.read("doc") == {"kept": "b"}, "the delete of a version another run replaced was refused"


def test_a_lock_runs_out_by_the_engine_clock_after_its_own_lease():
    created = {"Created": "2030-01-01T00:00:00.123456789Z", "Config": {"Labels": {lock.LABEL_LEASE: "5"}}}
    start = 1893456000.123456
    assert lock.seconds_left(created, start + 1) == pytest.approx(4.0)
    assert lock.seconds_left(created, start + 60) == 0.0
    no_lease = {"Created": "2030-01-01T00:00:00Z", "Config": {"Labels": {}}}
    assert lock.seconds_left(no_lease, 1893456000.0) == lock.LEASE_SECONDS
    assert lock.seconds_left({"Config": {}}, None) == lock.LEASE_SECONDS
