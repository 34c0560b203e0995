import json

import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import roles as role_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import rbac
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import roles

# The documented permission table (docs/roles.md), written out independently of the code.
TABLE = {
    #               status open  lifecycle configure manage_roles delete
    "owner": dict(zip(roles.ACTIONS, (True, True, True, True, True, True), strict=True)),
    "admin": dict(zip(roles.ACTIONS, (True, True, True, True, True, False), strict=True)),
    "editor": dict(zip(roles.ACTIONS, (True, True, True, True, False, False), strict=True)),
    "viewer": dict(zip(roles.ACTIONS, (True, False, False, False, False, False), strict=True)),
}
VALID = {"role": "editor", "subject": {"kind": "user", "name": "alice@example.com"}, "scope": "workspace",
         "workspace": "alice-dev", "state": "present"}


@pytest.mark.parametrize(("role", "action"), [(r, a) for r in roles.ROLES for a in roles.ACTIONS])
def test_permission_table(role, action):
    assert roles.allows(role, action) is TABLE[role][action]


def test_table_rows_list_the_roles_of_each_action():
    rows = {row["action"]: row["roles"] for row in roles.permission_table()}
    assert rows["open"] == ["owner", "admin", "editor"]
    assert rows["manage_roles"] == ["owner", "admin"]
    assert rows["delete"] == ["owner"]
    assert rows["status"] == list(roles.ROLES)


@pytest.mark.parametrize(("stronger", "weaker"), list(zip(roles.ROLES, roles.ROLES[1:], strict=False)))
def test_each_role_can_do_what_the_weaker_one_can(stronger, weaker):
    assert roles.PERMISSIONS[weaker] < roles.PERMISSIONS[stronger]
    assert roles.stronger(stronger, weaker) == stronger == roles.stronger(weaker, stronger)


def test_valid_input_becomes_an_assignment_with_defaults():
    assignment, errors = roles.validate({"role": "viewer", "subject": {"name": "data-team", "kind": "group"},
                                         "scope": "global", "workspace": None})
    assert errors == []
    assert assignment == {"backend": "kubernetes", "namespace": "workspaces", "role": "viewer",
                          "subject": {"kind": "group", "name": "data-team"}, "scope": "global", "workspace": None,
                          "state": "present"}
    removal, errors = roles.validate({**VALID, "role": None, "state": "absent", "subject": {"name": "bob"}})
    assert errors == [] and removal["role"] is None and removal["subject"] == {"kind": "user", "name": "bob"}


@pytest.mark.parametrize(("overrides", "field", "fix"), [
    ({"role": "superuser"}, "role:", "use one of owner, admin, editor, viewer"),
    ({"role": None}, "role:", "state: present needs a role"),
    ({"subject": None}, "subject:", "{kind: user, name: alice@example.com}"),
    ({"subject": {}}, "subject:", "as a kind and a name"),
    ({"subject": "alice"}, "subject:", "as a kind and a name"),
    ({"subject": {"kind": "user", "name": ""}}, "subject.name:", "give the user or group name"),
    ({"subject": {"kind": "user", "name": "   "}}, "subject.name:", "give the user or group name"),
    ({"subject": {"kind": "user", "name": None}}, "subject.name:", "give the user or group name"),
    ({"subject": {"kind": "user", "name": " alice"}}, "subject.name:", "exactly as the API server authenticates"),
    ({"subject": {"kind": "user", "name": "al\nice"}}, "subject.name:", "control characters"),
    ({"subject": {"kind": "group", "name": "system:authenticated"}}, "subject.name:", "system identit"),
    ({"subject": {"kind": "robot", "name": "r2"}}, "subject.kind:", "use user or group"),
    ({"subject": {"name": "r2", "email": "r2@example.com"}}, "subject.email:", "give kind and name only"),
    ({"scope": "global"}, "workspace:", "remove workspace, or use scope: workspace"),
    ({"workspace": None}, "workspace:", "give workspace, or use scope: global"),
    ({"workspace": ""}, "workspace:", "give workspace, or use scope: global"),
    ({"workspace": "Alice_Dev"}, "workspace:", "lower-case letters"),
    ({"workspace": "w" * 53}, "workspace:", "at most 52"),
    ({"scope": "team"}, "scope:", "use global or workspace"),
    ({"state": "gone"}, "state:", "use present or absent"),
])
def test_bad_input_names_the_field_and_the_fix(overrides, field, fix):
    assignment, errors = roles.validate({**VALID, **overrides})
    assert assignment is None
    assert len(errors) == 1
    assert errors[0].startswith(field)
    assert fix in errors[0]


def test_every_problem_is_reported_at_once():
    _assignment, errors = roles.validate({"role": "root", "subject": {"name": ""}, "scope": "global",
                                          "workspace": "a"})
    assert [error.partition(":")[0] for error in errors] == ["subject.name", "workspace", "role"]


ALICE, BOB = ("user", "alice"), ("group", "devs")


@pytest.mark.parametrize(("before", "role", "state", "after", "alice_after"), [
    ({}, "viewer", "present", {"viewer": {ALICE}}, "viewer"),
    ({"viewer": {ALICE}}, "viewer", "present", {"viewer": {ALICE}}, "viewer"),
    ({"viewer": {ALICE, BOB}}, "editor", "present", {"viewer": {BOB}, "editor": {ALICE}}, "editor"),
    # given two roles by hand: an assignment leaves exactly one
    ({"owner": {ALICE}, "viewer": {ALICE}}, "admin", "present", {"admin": {ALICE}}, "admin"),
    ({"editor": {ALICE, BOB}}, None, "absent", {"editor": {BOB}}, None),
    ({"editor": {ALICE}}, "editor", "absent", {}, None),
    ({"editor": {ALICE}}, "viewer", "absent", {"editor": {ALICE}}, "editor"),  # not the role named: kept
    ({}, None, "absent", {}, None),
])
def test_assignment_changes(before, role, state, after, alice_after):
    holders = {name: frozenset(keys) for name, keys in before.items()}
    changed = roles.changed_holders(holders, ALICE, role, state)
    assert changed == {name: frozenset(after.get(name, ())) for name in roles.ROLES}
    assert roles.role_of(changed, ALICE) == alice_after


def test_describe_lists_strongest_role_first():
    assert roles.describe({"viewer": {ALICE}, "owner": {BOB}}, "global") == [
        {"role": "owner", "subject": {"kind": "group", "name": "devs"}, "scope": "global"},
        {"role": "viewer", "subject": {"kind": "user", "name": "alice"}, "scope": "global"},
    ]


def _grants(rule_list):
    """Every (group, resource, verb, name) a rule list allows; name None means every object."""
    return {(group, resource, verb, name)
            for rule in rule_list for group in rule["apiGroups"] for resource in rule["resources"]
            for verb in rule["verbs"] for name in rule.get("resourceNames") or [None]}


def _covers(holder, wanted):
    """RBAC's escalation check: every permission of `wanted` is held, by name or for every object."""
    return all(grant in holder or (*grant[:3], None) in holder for grant in wanted)


def test_viewer_of_a_workspace_sees_only_its_objects():
    assert rbac.rules("viewer", "ws") == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"],
         "resourceNames": ["ws-hooks"]},
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["get", "list", "watch"],
         "resourceNames": ["ws-data"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"], "resourceNames": ["ws-0"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"], "resourceNames": ["ws-0"]},
        {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"], "resourceNames": ["ws"]},
        {"apiGroups": ["apps"], "resources": ["statefulsets"], "verbs": ["get", "list", "watch"],
         "resourceNames": ["ws"]},
        {"apiGroups": ["networking.istio.io"], "resources": ["virtualservices"], "verbs": ["get", "list", "watch"],
         "resourceNames": ["ws"]},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "list", "watch"],
         "resourceNames": ["ws"]},
    ]


@pytest.mark.parametrize("role", roles.ROLES)
def test_workspace_rules_name_only_that_workspaces_objects(role):
    own = {"ws", "ws-0", "ws-data", "ws-hooks", *(rbac.object_name(r, "ws") for r in roles.ROLES)}
    for rule in rbac.rules(role, "ws"):
        assert rule["resourceNames"] and set(rule["resourceNames"]) <= own, rule


@pytest.mark.parametrize("workspace", ["ws", None])
@pytest.mark.parametrize("role", roles.ROLES)
def test_no_role_reaches_secrets_or_writes_pod_templates_services_or_routes(role, workspace):
    grants = _grants(rbac.rules(role, workspace))
    assert not [g for g in grants if g[1] == "secrets"]
    writes = {"create", "update", "patch"}
    for resource in ("statefulsets", "pods", "services", "ingresses", "virtualservices", "roles", "clusterroles"):
        assert not [g for g in grants if g[1] == resource and g[2] in writes], resource
    assert not [g for g in grants if g[2] in ("bind", "escalate", "impersonate", "*") or "*" in g[:2]]


@pytest.mark.parametrize("workspace", ["ws", None])
@pytest.mark.parametrize(("stronger", "weaker"), list(zip(roles.ROLES, roles.ROLES[1:], strict=False)))
def test_a_role_holds_every_permission_of_the_weaker_ones(stronger, weaker, workspace):
    assert _covers(_grants(rbac.rules(stronger, workspace)), _grants(rbac.rules(weaker, workspace)))


@pytest.mark.parametrize("role", roles.ROLES)
def test_a_global_role_holds_the_workspace_role_so_it_can_manage_workspace_bindings(role):
    assert _covers(_grants(rbac.rules(role)), _grants(rbac.rules(role, "ws")))


def test_exec_and_port_forward_are_narrowed_to_the_stable_pod():
    grants = _grants(rbac.rules("editor", "ws"))
    assert {g for g in grants if g[1] in ("pods/exec", "pods/portforward")} == {
        ("", resource, verb, "ws-0") for resource in ("pods/exec", "pods/portforward") for verb in ("get", "create")}


def test_admins_edit_the_bindings_below_owner_and_owners_all_of_them():
    def editable(role):
        return {g[3] for g in _grants(rbac.rules(role, "ws")) if g[1] == "rolebindings" and g[2] == "update"}

    assert editable("owner") == {rbac.object_name(r, "ws") for r in roles.ROLES}
    assert editable("admin") == {rbac.object_name(r, "ws") for r in ("admin", "editor", "viewer")}
    assert editable("editor") == editable("viewer") == set()


def test_objects_are_labelled_and_named_per_scope():
    role = rbac.workspace_role("editor", "team", "ws")
    assert role["kind"] == "Role" and role["metadata"] == {
        "name": "atelier-workspace-ws-editor", "namespace": "team",
        "labels": {"app.kubernetes.io/managed-by": "atelier.workspaces", "workspaces.atelier.dev/name": "ws",
                   "workspaces.atelier.dev/role": "editor", "workspaces.atelier.dev/scope": "workspace"}}
    cluster_role = rbac.cluster_role("editor")
    assert cluster_role["kind"] == "ClusterRole" and "namespace" not in cluster_role["metadata"]
    assert cluster_role["metadata"]["labels"]["workspaces.atelier.dev/scope"] == "global"
    assert "workspaces.atelier.dev/name" not in cluster_role["metadata"]["labels"]
    assert all("resourceNames" not in rule for rule in cluster_role["rules"])
    assert {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list", "watch"]} in cluster_role["rules"]
    assert rbac.label_selector("ws") == ("app.kubernetes.io/managed-by=atelier.workspaces,"
                                         "workspaces.atelier.dev/name=ws,workspaces.atelier.dev/scope=workspace")
    assert rbac.label_selector() == (
        "app.kubernetes.io/managed-by=atelier.workspaces,workspaces.atelier.dev/scope=global")


def test_global_and_workspace_names_never_collide():
    global_names = {rbac.object_name(r) for r in roles.ROLES}
    for workspace in ("s", "a", "workspaces", "s-owner"):
        assert not global_names & {rbac.object_name(r, workspace) for r in roles.ROLES}


def test_bindings_reference_their_role_and_keep_foreign_subjects():
    service_account = {"kind": "ServiceAccount", "name": "ci", "namespace": "team"}
    binding = rbac.role_binding("viewer", "team", {BOB, ALICE}, "ws", kept=[service_account])
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "atelier-workspace-ws-viewer"}
    assert binding["subjects"] == [
        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"},
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"},
        service_account,
    ]
    assert [rbac.key_of_rbac_subject(s) for s in binding["subjects"]] == [BOB, ALICE, None]
    empty = rbac.role_binding("owner", "team", set())
    assert empty["subjects"] == [] and empty["roleRef"]["kind"] == "ClusterRole"
    assert empty["roleRef"]["name"] == "atelier-workspaces-owner"


def test_docker_export_is_read_only_advisory_and_gives_each_subject_its_stronger_role():
    found = [
        {"role": "viewer", "subject": {"kind": "user", "name": "alice"}, "scope": "workspace"},
        {"role": "editor", "subject": {"kind": "user", "name": "alice"}, "scope": "global"},
        {"role": "owner", "subject": {"kind": "group", "name": "devs"}, "scope": "workspace"},
    ]
    exported = role_docker.export("ws", found)
    assert exported["path"] == "/etc/atelier/roles.json" and exported["mode"] == "0444"
    assert exported["env"] == {"ATELIER_ROLES_FILE": "/etc/atelier/roles.json"}
    content = json.loads(exported["content"])
    assert content["enforced"] is False and content["workspace"] == "ws"
    assert content["effective"] == {"group:devs": "owner", "user:alice": "editor"}
    assert content["permissions"]["viewer"] == ["status"]
    assert content["assignments"] == found


def test_docker_document_round_trip():
    holders = roles.changed_holders({}, ALICE, "admin", "present")
    document = role_docker._with_scope({"global": '{"group:ops": "viewer"}'}, "ws", holders)
    assert json.loads(document["workspace:ws"]) == {"user:alice": "admin"}
    assert role_docker._holders(document, "ws") == holders
    assert role_docker._holders(document, None)["viewer"] == {("group", "ops")}
    assert "workspace:ws" not in role_docker._with_scope(document, "ws", {})
