"""workspace_role against the real API server (RBAC checked with SubjectAccessReview) and the real Docker engine."""

import json
import time
import uuid

import pytest
from ansible_runner import audit_write_events, run_module
from docker_workspaces import kept_control_documents

kubernetes = pytest.importorskip("kubernetes")
from kubernetes.client import AuthorizationV1Api, CoreV1Api, RbacAuthorizationV1Api  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import roles as role_docker  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import store as docker_store  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import client as k8s_client  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import rbac as rbac_objects  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import roles as role_k8s  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.common import archive  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import roles  # noqa: E402

OWN, OTHER, LATER = "role-a", "role-b", "role-later"
ROLE_MODULE = "atelier.workspaces.workspace_role"

# What each action of the permission table means as API requests: (verb, resource, subresource, name).
# Written out here, apart from roles.py, so the live matrix checks the table rather than the code.
ACTION_REQUESTS = {
    "status": lambda ws: [
        ("get", "statefulsets", "", ws), ("get", "pods", "", f"{ws}-0"), ("list", "pods", "", f"{ws}-0"),
        ("watch", "pods", "", f"{ws}-0"), ("get", "pods", "log", f"{ws}-0"), ("get", "services", "", ws),
        ("get", "persistentvolumeclaims", "", f"{ws}-data"),
    ],
    "open": lambda ws: [
        ("create", "pods", "exec", f"{ws}-0"), ("get", "pods", "exec", f"{ws}-0"),
        ("create", "pods", "portforward", f"{ws}-0"),
    ],
    "lifecycle": lambda ws: [
        ("update", "statefulsets", "scale", ws), ("patch", "statefulsets", "scale", ws),
        ("delete", "pods", "", f"{ws}-0"),
    ],
    "configure": lambda ws: [("update", "configmaps", "", f"{ws}-hooks"), ("patch", "configmaps", "", f"{ws}-hooks")],
    "manage_roles": lambda ws: [
        ("update", "rolebindings", "", f"atelier-workspace-{ws}-{role}") for role in ("admin", "editor", "viewer")
    ],
    "delete": lambda ws: [
        ("delete", "statefulsets", "", ws), ("delete", "services", "", ws),
        ("delete", "persistentvolumeclaims", "", f"{ws}-data"),
    ],
}
API_GROUPS = {"statefulsets": "apps", "rolebindings": "rbac.authorization.k8s.io"}
# The documented table (docs/roles.md), as roles.py must also say.
TABLE = {
    "owner": {"status", "open", "lifecycle", "configure", "manage_roles", "delete"},
    "admin": {"status", "open", "lifecycle", "configure", "manage_roles"},
    "editor": {"status", "open", "lifecycle", "configure"},
    "viewer": {"status"},
}


def _subjects(scope):
    """The subjects the matrix assigns on a scope: one user and one group per role."""
    return {(role, kind): {"kind": kind, "name": f"{scope}-{role}@example.test" if kind == "user" else
                           f"team-{scope}-{role}"} for role in roles.ROLES for kind in ("user", "group")}


def _writes_by_module(namespace):
    """Write requests the collection sent for this namespace's objects and for ClusterRoles (audit log).

    A server-side dry run is audited like a write but changes nothing, so it is not counted.
    """
    count = 0
    for event in audit_write_events():
        ref = event.get("objectRef") or {}
        ours = ref.get("namespace") == namespace or ref.get("resource") == "clusterroles" or (
            ref.get("resource") == "namespaces" and ref.get("name") == namespace)
        count += ours and "dryRun=All" not in event["requestURI"]
    return count


def _twice(args, namespace, **kwargs):
    """Run the role module twice: the second run reports no change and sends no write."""
    first = run_module(ROLE_MODULE, args, **kwargs)
    writes = _writes_by_module(namespace)
    second = run_module(ROLE_MODULE, args, **kwargs)
    assert second["changed"] is False, second["actions"]
    assert second["actions"] == []
    assert _writes_by_module(namespace) == writes, "the unchanged re-run sent write requests"
    assert second["assignment"] == first["assignment"]
    return first


@pytest.fixture(scope="module")
def namespace(k8s_api):
    name = f"role-tests-{uuid.uuid4().hex[:6]}"
    yield name
    CoreV1Api(k8s_api).delete_namespace(name)
    _delete_cluster_roles_unless_used(k8s_api, name)


def _delete_cluster_roles_unless_used(k8s_api, namespace):
    rbac = RbacAuthorizationV1Api(k8s_api)
    selector = rbac_objects.label_selector()
    still_bound = [b for b in rbac.list_role_binding_for_all_namespaces(label_selector=selector).items
                   if b.metadata.namespace != namespace and b.subjects]
    if not still_bound:
        for cluster_role in rbac.list_cluster_role(label_selector=selector).items:
            rbac.delete_cluster_role(cluster_role.metadata.name)


@pytest.fixture(scope="module")
def connection(kubeconfig, namespace):
    return {"backend": "kubernetes", "kubeconfig": kubeconfig, "namespace": namespace}


def _create_workspace(connection, name):
    run_module("atelier.workspaces.workspace", {
        **connection, "name": name, "image": "atelier/busybox:local", "command": ["sleep", "infinity"],
        "storage": {"size": "1Gi"}, "wait": False})


@pytest.fixture(scope="module")
def workspaces(connection):
    for name in (OWN, OTHER):
        _create_workspace(connection, name)
    return connection


@pytest.fixture(scope="module")
def matrix_assignments(workspaces, namespace):
    """Every role to a user and a group, on workspace OWN and globally; each assignment run twice."""
    for scope in ("workspace", "global"):
        for (role, _kind), subject in _subjects(scope).items():
            target = {"scope": "workspace", "workspace": OWN} if scope == "workspace" else {"scope": "global"}
            result = _twice({**workspaces, **target, "role": role, "subject": subject}, namespace)
            assert result["changed"] is True
            assert result["assignment"]["role"] == role
    return workspaces


def _review(k8s_api, namespace, subject, verb, resource, subresource="", name=None):
    """Whether the API server would allow the request to this user or to a member of this group."""
    who = {"user": subject["name"]} if subject["kind"] == "user" else {
        "user": "some-member@example.test", "groups": [subject["name"], "system:authenticated"]}
    attributes = {"namespace": namespace, "verb": verb, "group": API_GROUPS.get(resource, ""),
                  "resource": resource, "subresource": subresource}
    if name:
        attributes["name"] = name
    review = AuthorizationV1Api(k8s_api).create_subject_access_review(
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
         "spec": {**who, "resourceAttributes": attributes}})
    return review.status.allowed


def _live_matrix(k8s_api, namespace, subject, targets):
    """{(action, workspace, request): allowed} as the API server decides."""
    return {(action, ws, request): _review(k8s_api, namespace, subject, *request)
            for action, requests in ACTION_REQUESTS.items() for ws in targets for request in requests(ws)}


@pytest.mark.parametrize("scope", ["workspace", "global"])
def test_live_permission_matrix_equals_the_table(k8s_api, namespace, matrix_assignments, scope):
    assert {role: set(actions) for role, actions in roles.PERMISSIONS.items()} == TABLE
    for (role, kind), subject in _subjects(scope).items():
        actual = _live_matrix(k8s_api, namespace, subject, (OWN, OTHER))
        expected = {(action, ws, request): action in TABLE[role] and (scope == "global" or ws == OWN)
                    for action, ws, request in actual}
        wrong = {key: value for key, value in actual.items() if value != expected[key]}
        assert wrong == {}, f"{scope} {role} ({kind}): the API server decides otherwise than the table"


def test_a_viewer_cannot_open_the_workspace(k8s_api, namespace, matrix_assignments):
    for scope in ("workspace", "global"):
        viewer = _subjects(scope)[("viewer", "user")]
        assert _review(k8s_api, namespace, viewer, "get", "pods", "", f"{OWN}-0")
        assert not _review(k8s_api, namespace, viewer, "create", "pods", "exec", f"{OWN}-0")
        assert not _review(k8s_api, namespace, viewer, "create", "pods", "portforward", f"{OWN}-0")


def test_a_workspace_role_grants_nothing_on_another_workspace(k8s_api, namespace, matrix_assignments):
    owner = _subjects("workspace")[("owner", "user")]
    requests = [request for requests in ACTION_REQUESTS.values() for request in requests(OTHER)]
    requests += [("list", "pods", "", None), ("list", "statefulsets", "", None), ("list", "events", "", None)]
    assert [r for r in requests if _review(k8s_api, namespace, owner, *r)] == []
    # only a global role may list every workspace's objects; the others need a metadata.name field selector
    assert _review(k8s_api, namespace, _subjects("global")[("viewer", "user")], "list", "pods")


@pytest.mark.parametrize("scope", ["workspace", "global"])
def test_nobody_reaches_a_secret_or_writes_what_leads_to_another_workspace(
        k8s_api, namespace, matrix_assignments, scope):
    forbidden = [(verb, "secrets", "", name) for verb in ("get", "list", "watch", "update", "patch", "delete")
                 for name in (f"{OWN}-env", f"{OTHER}-env", None)]
    # a pod template can mount any Secret or claim; a Service selector or route can point at another IDE
    forbidden += [(verb, resource, "", name) for verb in ("update", "patch") for resource, name in (
        ("statefulsets", OWN), ("services", OWN), ("pods", f"{OWN}-0"))]
    forbidden += [("create", "pods", "", None), ("create", "statefulsets", "", None)]
    for (role, kind), subject in _subjects(scope).items():
        allowed = [request for request in forbidden if _review(k8s_api, namespace, subject, *request)]
        assert allowed == [], f"{scope} {role} ({kind})"


def _impersonating(kubeconfig, user, groups=()):
    client = kubernetes.config.new_client_from_config(config_file=kubeconfig)
    client.set_default_header("Impersonate-User", user)
    for group in groups:  # the client sends one header value; several groups would need a list
        client.set_default_header("Impersonate-Group", group)
    return RbacAuthorizationV1Api(client)


def _add_subject_as(rbac, namespace, binding_name, subject):
    binding = rbac.read_namespaced_role_binding(binding_name, namespace)
    binding.subjects = [*(binding.subjects or []), kubernetes.client.RbacV1Subject(
        kind="User", api_group="rbac.authorization.k8s.io", name=subject)]
    return rbac.replace_namespaced_role_binding(binding_name, namespace, binding)


def test_roles_are_managed_by_owners_and_admins_within_the_escalation_check(
        k8s_api, kubeconfig, namespace, matrix_assignments):
    subjects = _subjects("workspace")
    editor = _impersonating(kubeconfig, subjects[("editor", "user")]["name"])
    with pytest.raises(ApiException) as refused:
        _add_subject_as(editor, namespace, f"atelier-workspace-{OWN}-viewer", "newcomer@example.test")
    assert refused.value.status == 403

    admin = _impersonating(kubeconfig, subjects[("admin", "user")]["name"])
    _add_subject_as(admin, namespace, f"atelier-workspace-{OWN}-editor", "by-hand@example.test")
    with pytest.raises(ApiException) as refused:  # not in the admin's role: only owners make owners
        _add_subject_as(admin, namespace, f"atelier-workspace-{OWN}-owner", "by-hand@example.test")
    assert refused.value.status == 403

    # a global admin may edit every binding of the namespace, but RBAC refuses a role it does not hold itself;
    # a workspace's bindings exist from its first assignment on
    seed = {**matrix_assignments, "workspace": OTHER, "subject": {"name": "seed@example.test"}}
    run_module(ROLE_MODULE, {**seed, "role": "viewer"})
    global_admin = _impersonating(kubeconfig, "any@example.test", [_subjects("global")[("admin", "group")]["name"]])
    with pytest.raises(ApiException) as escalation:
        _add_subject_as(global_admin, namespace, "atelier-workspaces-owner", "by-hand@example.test")
    assert escalation.value.status == 403 and "not currently held" in escalation.value.body
    _add_subject_as(global_admin, namespace, f"atelier-workspace-{OTHER}-viewer", "by-hand-b@example.test")

    # the module sees what was assigned by hand, and takes it back like any assignment
    seen = role_k8s.assignments(_cluster(kubeconfig), namespace, OWN)
    assert {"role": "editor", "subject": {"kind": "user", "name": "by-hand@example.test"},
            "scope": "workspace"} in seen
    for workspace, role, name in ((OWN, "editor", "by-hand@example.test"), (OTHER, "viewer", "by-hand-b@example.test")):
        removed = run_module(ROLE_MODULE, {**matrix_assignments, "workspace": workspace, "subject": {"name": name},
                                           "state": "absent"})
        assert removed["actions"] == [f"remove user:{name} from RoleBinding/atelier-workspace-{workspace}-{role}"]
    run_module(ROLE_MODULE, {**seed, "state": "absent"})


def test_global_assignments_cover_a_workspace_created_later(k8s_api, namespace, matrix_assignments):
    _create_workspace(matrix_assignments, LATER)
    try:
        for scope in ("global", "workspace"):
            for (role, kind), subject in _subjects(scope).items():
                actual = _live_matrix(k8s_api, namespace, subject, (LATER,))
                expected = {key: scope == "global" and key[0] in TABLE[role] for key in actual}
                assert actual == expected, f"{scope} {role} ({kind}) on a workspace created later"
    finally:
        run_module("atelier.workspaces.workspace", {**matrix_assignments, "name": LATER, "state": "absent",
                                                    "purge": True})


def _cluster(kubeconfig):
    return k8s_client.Cluster(k8s_client.connect({"kubeconfig": kubeconfig}))


def _binding_subjects(k8s_api, namespace, name):
    binding = RbacAuthorizationV1Api(k8s_api).read_namespaced_role_binding(name, namespace)
    return sorted((s.kind, s.name) for s in binding.subjects or [])


@pytest.mark.parametrize("scope", ["workspace", "global"])
def test_a_new_role_replaces_the_old_one_on_the_scope(k8s_api, namespace, workspaces, scope):
    target = {"scope": "workspace", "workspace": OTHER} if scope == "workspace" else {"scope": "global"}
    prefix = f"atelier-workspace-{OTHER}" if scope == "workspace" else "atelier-workspaces"
    subject = {"kind": "user", "name": f"changing-{scope}@example.test"}
    args = {**workspaces, **target, "subject": subject}
    _twice({**args, "role": "viewer"}, namespace)
    assert not _review(k8s_api, namespace, subject, "create", "pods", "exec", f"{OTHER}-0")

    replaced = _twice({**args, "role": "editor"}, namespace, diff=True)
    assert replaced["actions"] == [f"remove user:{subject['name']} from RoleBinding/{prefix}-viewer",
                                   f"add user:{subject['name']} to RoleBinding/{prefix}-editor"]
    assert replaced["diff"]["before"]["role"] == "viewer" and replaced["diff"]["after"]["role"] == "editor"
    assert ("User", subject["name"]) not in _binding_subjects(k8s_api, namespace, f"{prefix}-viewer")
    assert ("User", subject["name"]) in _binding_subjects(k8s_api, namespace, f"{prefix}-editor")
    assert _review(k8s_api, namespace, subject, "create", "pods", "exec", f"{OTHER}-0")

    # absent naming another role leaves the assignment alone; without a role it removes whichever there is
    kept = run_module(ROLE_MODULE, {**args, "role": "viewer", "state": "absent"})
    assert kept["changed"] is False and kept["assignment"]["role"] == "editor"
    removed = _twice({**args, "state": "absent"}, namespace)
    assert removed["assignment"] is None
    assert not _review(k8s_api, namespace, subject, "get", "pods", "", f"{OTHER}-0")


def _rbac_state(k8s_api, namespace):
    """Every RBAC object of the collection in the namespace, and the ClusterRoles, with their resourceVersions."""
    rbac = RbacAuthorizationV1Api(k8s_api)
    selector = "app.kubernetes.io/managed-by=atelier.workspaces"
    found = [*rbac.list_namespaced_role(namespace, label_selector=selector).items,
             *rbac.list_namespaced_role_binding(namespace, label_selector=selector).items,
             *rbac.list_cluster_role(label_selector=selector).items]
    return sorted((type(obj).__name__, obj.metadata.name, obj.metadata.resource_version) for obj in found)


def test_check_mode_predicts_and_changes_nothing(k8s_api, namespace, workspaces):
    subject = {"kind": "group", "name": "check-mode-team"}
    args = {**workspaces, "workspace": OTHER, "subject": subject, "role": "admin"}
    before, writes = _rbac_state(k8s_api, namespace), _writes_by_module(namespace)
    predicted = run_module(ROLE_MODULE, args, check=True, diff=True)
    assert predicted["changed"] is True
    assert f"add group:check-mode-team to RoleBinding/atelier-workspace-{OTHER}-admin" in predicted["actions"] or (
        f"create RoleBinding/atelier-workspace-{OTHER}-admin with group:check-mode-team" in predicted["actions"])
    assert predicted["diff"] == {"before": {}, "after": {"role": "admin", "subject": subject, "scope": "workspace",
                                                         "workspace": OTHER}}
    assert _writes_by_module(namespace) == writes
    assert _rbac_state(k8s_api, namespace) == before
    assert not _review(k8s_api, namespace, subject, "create", "pods", "exec", f"{OTHER}-0")

    applied = run_module(ROLE_MODULE, args)
    assert applied["actions"] == predicted["actions"]
    removal = run_module(ROLE_MODULE, {**args, "state": "absent"}, check=True)
    assert removal["changed"] is True and removal["assignment"] is None
    assert _review(k8s_api, namespace, subject, "create", "pods", "exec", f"{OTHER}-0")
    run_module(ROLE_MODULE, {**args, "state": "absent"})


@pytest.mark.parametrize(("overrides", "field"), [
    ({"role": "superuser"}, "role"),
    ({"subject": {}}, "subject:"),
    ({"subject": {"kind": "group"}}, "subject.name:"),
    ({"subject": {"kind": "user", "name": ""}}, "subject.name:"),
    ({"subject": {"kind": "group", "name": " padded "}}, "subject.name:"),
    ({"subject": {"kind": "group", "name": "system:authenticated"}}, "subject.name:"),
    ({"subject": {"name": "alice", "email": "alice@example.test"}}, "subject.email:"),
    ({"subject": {"kind": "robot", "name": "r2"}}, "subject.kind:"),
    ({"subject": "alice"}, "argument 'subject'"),
    ({"workspace": "role-missing"}, "workspace:"),
    ({"workspace": "Role_A"}, "workspace:"),
    ({"scope": "global"}, "workspace:"),
    ({"workspace": None}, "workspace:"),
    ({"role": None}, "role:"),
])
def test_bad_input_names_the_field_and_changes_nothing(k8s_api, namespace, workspaces, overrides, field):
    args = {**workspaces, "workspace": OWN, "role": "viewer", "subject": {"kind": "user", "name": "bad@example.test"}}
    before, writes = _rbac_state(k8s_api, namespace), _writes_by_module(namespace)
    result = run_module(ROLE_MODULE, {key: value for key, value in {**args, **overrides}.items() if value is not None},
                        expect_failure=True)
    assert field in result["msg"]
    assert result.get("changed", False) is False
    assert _writes_by_module(namespace) == writes
    assert _rbac_state(k8s_api, namespace) == before


def test_terminated_workspace_loses_its_bindings_and_info_shows_assignments(
        k8s_api, kubeconfig, namespace, matrix_assignments):
    name = "role-short-lived"
    _create_workspace(matrix_assignments, name)
    run_module(ROLE_MODULE, {**matrix_assignments, "workspace": name, "role": "owner",
                             "subject": {"name": "short@example.test"}})
    cluster = _cluster(kubeconfig)
    shown = role_k8s.assignments(cluster, namespace, name)
    assert shown[0] == {"role": "owner", "subject": {"kind": "user", "name": "short@example.test"},
                        "scope": "workspace"}
    assert [entry for entry in shown if entry["scope"] == "global"] == role_k8s.assignments(cluster, namespace)
    assert len(shown) == 1 + len(_subjects("global"))

    expected = [f"delete RoleBinding/atelier-workspace-{name}-{role}" for role in roles.ROLES] + [
        f"delete Role/atelier-workspace-{name}-{role}" for role in roles.ROLES]
    state, writes = _rbac_state(k8s_api, namespace), _writes_by_module(namespace)
    assert sorted(role_k8s.remove_workspace_bindings(cluster, namespace, name, dry_run=True)) == sorted(expected)
    assert _rbac_state(k8s_api, namespace) == state
    assert sorted(role_k8s.remove_workspace_bindings(cluster, namespace, name, dry_run=False)) == sorted(expected)
    assert _writes_by_module(namespace) == writes + len(expected)
    assert role_k8s.assignments(cluster, namespace, name) == role_k8s.assignments(cluster, namespace)
    assert not _review(k8s_api, namespace, {"kind": "user", "name": "short@example.test"}, "get", "pods", "",
                       f"{name}-0")
    assert role_k8s.remove_workspace_bindings(cluster, namespace, name, dry_run=False) == []

    run_module("atelier.workspaces.workspace", {**matrix_assignments, "name": name, "state": "absent", "purge": True})
    writes = _writes_by_module(namespace)
    gone = run_module(ROLE_MODULE, {**matrix_assignments, "workspace": name, "subject": {"name": "short@example.test"},
                                    "state": "absent"})
    assert gone["changed"] is False and _writes_by_module(namespace) == writes


def test_parallel_assignments_are_all_kept(k8s_api, kubeconfig, namespace, workspaces):
    from concurrent.futures import ThreadPoolExecutor

    name = "role-parallel"
    _create_workspace(workspaces, name)
    people = [f"parallel-{index:02d}@example.test" for index in range(12)]

    def assign(person):
        return run_module(ROLE_MODULE, {**workspaces, "workspace": name, "role": "editor", "subject": {"name": person}})

    try:
        # the first assignments race to create the bindings, the later ones to change the same subject list
        with ThreadPoolExecutor(max_workers=len(people)) as pool:
            results = list(pool.map(assign, people))
        assert all(result["changed"] for result in results)
        held = _binding_subjects(k8s_api, namespace, f"atelier-workspace-{name}-editor")
        assert held == sorted(("User", person) for person in people)
    finally:
        role_k8s.remove_workspace_bindings(_cluster(kubeconfig), namespace, name, dry_run=False)
        run_module("atelier.workspaces.workspace", {**workspaces, "name": name, "state": "absent", "purge": True})


# --- Docker: stored with the engine's host, advisory ----------------------------------------------------------------

DOCKER_WORKSPACE = "role-docker"


@pytest.fixture(scope="module")
def docker_workspace(docker_client):
    args = {"backend": "docker", "name": DOCKER_WORKSPACE, "image": "atelier/busybox:local",
            "command": ["sleep", "infinity"], "wait": False}
    # the engine's roles document is shared with its other workspaces: it is put back as it was
    with kept_control_documents(docker_client):
        run_module("atelier.workspaces.workspace", args)
        yield {"backend": "docker", "workspace": DOCKER_WORKSPACE}
        run_module("atelier.workspaces.workspace", {**args, "state": "absent", "purge": True})


def _stored_roles(docker_client):
    """The roles document as the engine's host holds it, and its modification time."""
    found = docker_client.api.get_archive(docker_store.HOLDER, f"{docker_store.MOUNT}/roles.json")
    stream, stat = found
    return archive.first_json(stream), stat["mtime"]


def test_docker_assignments_are_stored_with_the_engine_and_read_back(docker_client, docker_workspace):
    alice = {"kind": "user", "name": "docker-alice"}
    first = run_module(ROLE_MODULE, {**docker_workspace, "role": "viewer", "subject": alice}, diff=True)
    assert first["changed"] is True
    assert first["actions"] == [f"store user:docker-alice as viewer in roles[workspace:{DOCKER_WORKSPACE}]",
                                f"export roles into workspace {DOCKER_WORKSPACE}"]
    stored, written_at = _stored_roles(docker_client)
    assert json.loads(stored[f"workspace:{DOCKER_WORKSPACE}"]) == {"user:docker-alice": "viewer"}

    time.sleep(1.1)  # the archive's mtime has a one-second resolution
    again = run_module(ROLE_MODULE, {**docker_workspace, "role": "viewer", "subject": alice})
    assert again["changed"] is False and again["actions"] == []
    assert _stored_roles(docker_client)[1] == written_at, "the unchanged re-run rewrote the document"

    replaced = run_module(ROLE_MODULE, {**docker_workspace, "role": "admin", "subject": alice}, diff=True)
    assert replaced["diff"]["before"]["role"] == "viewer" and replaced["diff"]["after"]["role"] == "admin"
    global_devs = {"backend": "docker", "scope": "global", "role": "editor", "subject": {"kind": "group",
                                                                                         "name": "docker-devs"}}
    run_module(ROLE_MODULE, global_devs)
    try:
        # a fresh module run, and the functions workspace_info uses, read what the engine's host holds
        fresh = run_module(ROLE_MODULE, {**docker_workspace, "role": "admin", "subject": alice})
        assert fresh["changed"] is False
        assert fresh["assignments"] == [{"role": "admin", "subject": alice, "scope": "workspace"}]
        # global assignments the engine's user made are there too; these are the test's own
        found = [row for row in role_docker.assignments(docker_client.api, DOCKER_WORKSPACE)
                 if row["subject"]["name"].startswith("docker-")]
        assert found == [{"role": "admin", "subject": alice, "scope": "workspace"},
                         {"role": "editor", "subject": {"kind": "group", "name": "docker-devs"}, "scope": "global"}]
        content = json.loads(role_docker.export(DOCKER_WORKSPACE, found)["content"])
        assert content["enforced"] is False
        assert content["effective"] == {"group:docker-devs": "editor", "user:docker-alice": "admin"}
    finally:
        run_module(ROLE_MODULE, {**global_devs, "state": "absent"})
    assert "group:docker-devs" not in _stored_roles(docker_client)[0].get("global", "")


def test_docker_check_mode_and_bad_input_change_nothing(docker_client, docker_workspace):
    bob = {"kind": "user", "name": "docker-bob"}
    before = _stored_roles(docker_client) if _holder_exists(docker_client) else None
    predicted = run_module(ROLE_MODULE, {**docker_workspace, "role": "editor", "subject": bob}, check=True)
    assert predicted["changed"] is True and predicted["assignment"]["role"] == "editor"
    missing = run_module(ROLE_MODULE, {**docker_workspace, "workspace": "role-nowhere", "role": "editor",
                                       "subject": bob}, expect_failure=True)
    assert missing["msg"].startswith("workspace: 'role-nowhere' does not exist on this Docker engine")
    unknown = run_module(ROLE_MODULE, {**docker_workspace, "role": "root", "subject": bob}, expect_failure=True)
    assert "role" in unknown["msg"]
    assert (_stored_roles(docker_client) if _holder_exists(docker_client) else None) == before
    assert role_docker.remove_workspace_assignments(docker_client.api, "role-nowhere", dry_run=False) == []


def _holder_exists(docker_client):
    return any(c.name == docker_store.HOLDER for c in docker_client.containers.list(all=True))
