import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy

CLUSTER_VARS = {
    "DEV_ENV_DB": "dev-db",
    "DEV_ENV_BUCKET": "dev-bucket",
    "PROD_ENV_DB": "prod-db",
    "SHARED_REGION": "eu-west-1",
    "X_TRACE": "on",
}


def _policy(**fields):
    return env_policy.normalise_policy(fields)


def _seed_policy(**seed):
    return env_policy.normalise_policy({"seed_vars": seed})


def _env(policy, workspace="my-workspace", **kwargs):
    entries, errors = env_policy.effective_env(policy, workspace, **kwargs)
    assert errors == []
    return {entry["name"]: (entry["value"], entry["source"]) for entry in entries}


def _inherited(env):
    return {name: source for name, (_value, source) in env.items() if name in CLUSTER_VARS}


def test_default_policy_inherits_and_shares_nothing():
    assert env_policy.default_policy() == {
        "variables": {},
        "secrets": {},
        "inherit": False,
        "user_defined_vars": None,
        "workspace_env_pattern": None,
        "env_rules": {},
        "share_secrets_across_workspaces": False,
        "inherit_pod_annotations": False,
    }
    assert env_policy.validate_policy(env_policy.default_policy()) == []


def test_seed_form_becomes_the_model():
    policy = env_policy.policy_from_seed_vars({
        "INHERIT_ENV_VARS": "1",
        "USER_DEFINED_VARS": "A, B,DEV_*,",
        "WORKSPACE_ENV_PATTERN": "dev_{workspace_name}",
        "USER_DEFINED_VARS__ENV__dev": "DEV_ENV_*,re:^X_.*$",
        "SHARE_SECRETS_ACROSS_WORKSPACES": "1",
        "INHERIT_POD_ANNOTATIONS": "true",
        "A": "a",
        "DEV_ENV_DB": "dev-db",
    })
    assert policy == {
        "variables": {"A": "a", "DEV_ENV_DB": "dev-db"},
        "secrets": {},
        "inherit": True,
        "user_defined_vars": ["A", "B", "DEV_*"],
        "workspace_env_pattern": "dev_{workspace_name}",
        "env_rules": {"dev": ["DEV_ENV_*", "re:^X_.*$"]},
        "share_secrets_across_workspaces": True,
        "inherit_pod_annotations": True,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("true", True), ("TRUE", True), ("Yes", True), (True, True),
     ("0", False), ("false", False), ("False", False), ("NO", False), (0, False)],
)
def test_seed_booleans(text, expected):
    assert env_policy.policy_from_seed_vars({"INHERIT_ENV_VARS": text})["inherit"] is expected


def test_structured_fields_and_seed_vars_combine():
    policy = env_policy.normalise_policy({
        "seed_vars": {"INHERIT_ENV_VARS": "1", "USER_DEFINED_VARS": "A,B", "A": "same", "B": "seed"},
        "inherit": True,
        "user_defined_vars": ["A", "B"],
        "variables": {"A": "same", "C": "structured"},
        "workspace_env_pattern": None,  # an unset module option
    })
    assert policy["inherit"] is True
    assert policy["user_defined_vars"] == ["A", "B"]
    assert policy["variables"] == {"A": "same", "B": "seed", "C": "structured"}
    assert policy["workspace_env_pattern"] is None


@pytest.mark.parametrize(
    ("params", "start"),
    [
        ({"seed_vars": {"INHERIT_ENV_VARS": "0"}, "inherit": True}, "inherit: set differently in seed_vars"),
        ({"seed_vars": {"USER_DEFINED_VARS": "A"}, "user_defined_vars": "A,B"}, "user_defined_vars: set differently"),
        ({"seed_vars": {"A": "seed"}, "variables": {"A": "other"}}, "variables.A: set differently in seed_vars"),
        ({"seed_vars": {"USER_DEFINED_VARS__ENV__dev": "D_*"}, "env_rules": {"dev": ["E_*"]}}, "env_rules.dev: set"),
        ({"variables": {"TOKEN": "a"}, "secrets": {"TOKEN": "b"}}, "secrets.TOKEN: also a plain variable"),
        ({"seed_vars": {"TOKEN": "a"}, "secrets": {"TOKEN": "b"}}, "secrets.TOKEN: also a plain variable"),
    ],
)
def test_conflicting_settings_are_refused(params, start):
    with pytest.raises(ValueError) as raised:
        env_policy.normalise_policy(params)
    assert str(raised.value).startswith(start)
    assert "other" not in str(raised.value) and "'b'" not in str(raised.value)


def test_unknown_policy_field_is_refused():
    with pytest.raises(ValueError, match=r"^inherits: not a policy field"):
        env_policy.normalise_policy({"inherits": True})


@pytest.mark.parametrize(
    ("pattern", "workspace", "expected"),
    [
        ("dev_{workspace_name}", "my-workspace", "dev_my-workspace"),
        ("env-{workspace_name}-prod", "analytics", "env-analytics-prod"),
        ("{workspace_name}", "production", "production"),
    ],
)
def test_env_from_pattern_seed_examples(pattern, workspace, expected):
    policy = _seed_policy(WORKSPACE_ENV_PATTERN=pattern)
    assert env_policy.validate_policy(policy) == []
    assert env_policy.workspace_env_value(policy, workspace) == (expected, "pattern")
    assert _env(policy, workspace)["ENV"] == (expected, "pattern")


def test_explicit_env_wins_over_pattern():
    policy = _policy(workspace_env_pattern="dev_{workspace_name}")
    assert env_policy.workspace_env_value(policy, "analytics", {"ENV": "staging"}) == ("staging", "explicit")
    assert _env(policy, "analytics", explicit_env={"ENV": "staging"})["ENV"] == ("staging", "explicit")


def test_no_pattern_and_no_explicit_env_leaves_env_unset():
    policy = env_policy.default_policy()
    assert env_policy.workspace_env_value(policy, "analytics", {"OTHER": "x"}) == (None, None)
    assert "ENV" not in _env(policy, "analytics")


def test_env_dev_inherits_dev_family_only():
    policy = _seed_policy(INHERIT_ENV_VARS="1", USER_DEFINED_VARS__ENV__dev="DEV_ENV_*", **CLUSTER_VARS)
    env = _env(policy, explicit_env={"ENV": "dev"})
    assert _inherited(env) == {"DEV_ENV_DB": "rule:dev", "DEV_ENV_BUCKET": "rule:dev"}
    assert env["DEV_ENV_DB"] == ("dev-db", "rule:dev")


COMBINED_SEED = {
    "INHERIT_ENV_VARS": "1",
    "WORKSPACE_ENV_PATTERN": "dev_{workspace_name}",
    "USER_DEFINED_VARS__ENV__dev_workspace1": "DEV_ENV_*",
    "USER_DEFINED_VARS__ENV__dev_workspace2": "PROD_ENV_*",
    **CLUSTER_VARS,
}


@pytest.mark.parametrize(
    ("workspace", "env_value", "inherited"),
    [
        ("workspace1", "dev_workspace1", dict.fromkeys(["DEV_ENV_DB", "DEV_ENV_BUCKET"], "rule:dev_workspace1")),
        ("workspace2", "dev_workspace2", {"PROD_ENV_DB": "rule:dev_workspace2"}),
        ("workspace3", "dev_workspace3", {}),
    ],
)
def test_combined_pattern_and_rules_example(workspace, env_value, inherited):
    env = _env(_seed_policy(**COMBINED_SEED), workspace)
    assert env["ENV"] == (env_value, "pattern")
    assert _inherited(env) == inherited


def test_rules_follow_the_explicit_env():
    env = _env(_seed_policy(**COMBINED_SEED), "workspace1", explicit_env={"ENV": "dev_workspace2"})
    assert env["ENV"] == ("dev_workspace2", "explicit")
    assert _inherited(env) == {"PROD_ENV_DB": "rule:dev_workspace2"}


def test_wildcard_rule_key_and_exact_key_both_apply():
    policy = _policy(
        variables=CLUSTER_VARS, inherit=True, env_rules={"dev_*": ["DEV_ENV_*"], "dev_alice": ["DEV_ENV_DB", "X_*"]}
    )
    assert _inherited(_env(policy, explicit_env={"ENV": "dev_alice"})) == {
        "DEV_ENV_DB": "rule:dev_alice",
        "DEV_ENV_BUCKET": "rule:dev_*",
        "X_TRACE": "rule:dev_alice",
    }


def test_regex_rule_matches_whole_name():
    policy = _policy(variables=CLUSTER_VARS, inherit=True, env_rules={"dev": ["re:^(DEV_ENV|X)_[A-Z]+$"]})
    assert _inherited(_env(policy, explicit_env={"ENV": "dev"})) == {
        "DEV_ENV_DB": "rule:dev",
        "DEV_ENV_BUCKET": "rule:dev",
        "X_TRACE": "rule:dev",
    }


def test_regex_is_not_a_prefix_search():
    policy = _policy(variables=CLUSTER_VARS, inherit=True, env_rules={"dev": ["re:SHARED"]})
    assert env_policy.validate_policy(policy) == [
        "env_rules.dev[0]: matches no cluster variable; define a variable it matches or remove 're:SHARED'"
    ]


def test_wildcards_are_case_sensitive():
    policy = _policy(variables={"dev_env_db": "x", "DEV_ENV_DB": "y"}, inherit=True, user_defined_vars=["DEV_*"])
    assert "dev_env_db" not in _env(policy)


@pytest.mark.parametrize(
    ("user_defined_vars", "inherited"),
    [
        (None, {}),  # self-hosted: an unset allow-list inherits nothing
        ([], {}),
        (["SHARED_REGION", "X_*"], {"SHARED_REGION": "allow-list", "X_TRACE": "allow-list"}),
    ],
)
def test_allow_list_set_and_not_set(user_defined_vars, inherited):
    policy = _policy(variables=CLUSTER_VARS, inherit=True, user_defined_vars=user_defined_vars)
    assert _inherited(_env(policy)) == inherited


def test_unset_allow_list_still_applies_rules():
    policy = _policy(variables=CLUSTER_VARS, inherit=True, env_rules={"dev": ["PROD_ENV_*"]})
    assert _inherited(_env(policy, explicit_env={"ENV": "dev"})) == {"PROD_ENV_DB": "rule:dev"}


def test_nothing_is_inherited_without_inherit():
    policy = _policy(variables=CLUSTER_VARS, workspace_env_pattern="dev_{workspace_name}")
    assert _inherited(_env(policy)) == {}


# Every layer offers values; each name below is offered by the layers from its winner downwards.
PRECEDENCE_POLICY = {
    "inherit": True,
    "variables": {name: "cluster" for name in ("A", "B", "ENV", "R", "ALLOWED", "USER_CODE_PATH")},
    "user_defined_vars": ["*"],
    "env_rules": {"p_w": ["A", "B", "R"]},
    "workspace_env_pattern": "p_{workspace_name}",
}
PRECEDENCE_ARGS = {
    "explicit_env": {"A": "explicit"},
    "secret_refs": [{"key": "a", "env_var": "A"}, {"key": "b", "env_var": "B"}],
    "own_secrets": {"a": "secret", "b": "secret"},
    "user_code_path": "/code",
}


@pytest.mark.parametrize(
    ("name", "value", "source"),
    [
        ("A", "explicit", "explicit"),  # over secret, rule and allow-list
        ("B", "secret", "secret"),  # over rule and allow-list
        ("ENV", "p_w", "pattern"),  # over allow-list
        ("R", "cluster", "rule:p_w"),  # over allow-list
        ("ALLOWED", "cluster", "allow-list"),
        ("USER_CODE_PATH", "cluster", "allow-list"),  # over system
    ],
)
def test_precedence_of_layers(name, value, source):
    env = _env(_policy(**PRECEDENCE_POLICY), "w", **PRECEDENCE_ARGS)
    assert env[name] == (value, source)


def test_user_code_path_is_the_lowest_layer():
    assert _env(env_policy.default_policy(), user_code_path="/code") == {"USER_CODE_PATH": ("/code", "system")}
    entries, _errors = env_policy.effective_env(
        env_policy.default_policy(), "w", explicit_env={"USER_CODE_PATH": "/x"}, user_code_path="/code"
    )
    assert entries == [{"name": "USER_CODE_PATH", "value": "/x", "source": "explicit", "secret": False}]


def test_entries_are_sorted_by_name():
    entries, _errors = env_policy.effective_env(_policy(**PRECEDENCE_POLICY), "w", **PRECEDENCE_ARGS)
    assert [entry["name"] for entry in entries] == sorted(entry["name"] for entry in entries)


@pytest.mark.parametrize(
    ("share", "own", "expected"),
    [
        (False, {"token": "own"}, "own"),
        (True, {"token": "own"}, "own"),  # the workspace's own secret comes first
        (True, {}, "cluster"),
    ],
)
def test_secret_lookup_own_then_shared(share, own, expected):
    policy = _policy(secrets={"token": "cluster"}, share_secrets_across_workspaces=share)
    entries, errors = env_policy.resolve_secret_refs([{"key": "token", "env_var": "API_TOKEN"}], own, policy)
    assert errors == []
    assert entries == [{"name": "API_TOKEN", "value": expected, "source": "secret", "secret": True}]


def test_shared_secret_is_not_found_with_sharing_off():
    policy = _seed_policy(SHARE_SECRETS_ACROSS_WORKSPACES="0")
    policy["secrets"] = {"token": "cluster"}
    entries, errors = env_policy.resolve_secret_refs([{"key": "token"}], {}, policy)
    assert entries == []
    assert errors[0].startswith("secrets[0].key: 'token'")
    assert "sharing across workspaces is off" in errors[0]


def test_shared_secret_missing_everywhere_says_where_it_looked():
    policy = _policy(share_secrets_across_workspaces=True)
    _entries, errors = env_policy.resolve_secret_refs([{"key": "token"}], {}, policy)
    assert errors[0].startswith("secrets[0].key: 'token' is neither a secret of this workspace nor a shared")


def test_secret_env_var_defaults_to_key():
    entries, _errors = env_policy.resolve_secret_refs([{"key": "TOKEN", "env_var": None}], {"TOKEN": "t"}, _policy())
    assert entries[0]["name"] == "TOKEN"


def test_redact_hides_only_secret_values_and_copies():
    entries, _errors = env_policy.effective_env(
        _policy(), "w", explicit_env={"PLAIN": "p"},
        secret_refs=[{"key": "token", "env_var": "API_TOKEN"}], own_secrets={"token": "s3cret"},
    )
    redacted = env_policy.redact(entries)
    assert redacted == [
        {"name": "API_TOKEN", "value": env_policy.REDACTED, "source": "secret", "secret": True},
        {"name": "PLAIN", "value": "p", "source": "explicit", "secret": False},
    ]
    assert env_policy.REDACTED == "********"
    assert entries[0]["value"] == "s3cret"


def _entries(**values):
    return [{"name": name, "value": value, "source": "explicit", "secret": name == "TOKEN"}
            for name, value in values.items()]


def test_config_hash_is_stable_across_runs_and_orderings():
    entries = _entries(A="1", TOKEN="s3cret")
    digest = env_policy.config_hash(entries)
    assert digest == "92a5f46dc0d8c865"  # pinned: a different value would restart every workspace
    assert env_policy.config_hash(list(reversed(entries))) == digest
    assert env_policy.config_hash([dict(reversed(list(e.items()))) for e in entries]) == digest
    assert not env_policy.stale(digest, entries)


@pytest.mark.parametrize(
    "changed",
    [
        _entries(A="1", TOKEN="rotated"),
        _entries(A="2", TOKEN="s3cret"),
        _entries(A="1"),
        _entries(A="1", TOKEN="s3cret", B=""),
    ],
    ids=["secret value", "plain value", "removed", "added"],
)
def test_config_hash_changes_with_any_name_or_value(changed):
    digest = env_policy.config_hash(_entries(A="1", TOKEN="s3cret"))
    assert env_policy.config_hash(changed) != digest
    assert env_policy.stale(digest, changed)


def test_config_hash_cannot_be_forged_by_newlines_in_values():
    assert env_policy.config_hash(_entries(A="1\nB=2")) != env_policy.config_hash(_entries(A="1", B="2"))


def _errors(params, **env_kwargs):
    try:
        policy = env_policy.normalise_policy(params)
    except ValueError as error:
        return [str(error)]
    _entries, errors = env_policy.effective_env(policy, "my-workspace", **env_kwargs)
    return errors


INHERITING = {"inherit": True, "variables": {"DEV_ENV_DB": "d"}}

BAD_INPUT = [
    ({"variables": {"1BAD": "x"}}, {}, "variables.1BAD: '1BAD' is not a valid variable name"),
    ({"variables": {"BAD-NAME": "x"}}, {}, "variables.BAD-NAME:"),
    ({"variables": {"PORT": 8080}}, {}, "variables.PORT: the value must be a string"),
    ({"secrets": {"my-key": "x"}}, {}, "secrets.my-key:"),
    ({"inherit": "sometimes"}, {}, "inherit: must be true or false"),
    ({**INHERITING, "user_defined_vars": ["re:(unclosed"]}, {}, "user_defined_vars[0]: invalid regular expression"),
    ({**INHERITING, "user_defined_vars": ["A", ""]}, {}, "user_defined_vars[1]: must be a variable name"),
    ({**INHERITING, "env_rules": {"dev": ["DEV_ENV_*", "re:[a-"]}}, {}, "env_rules.dev[1]: invalid regular expression"),
    ({**INHERITING, "env_rules": {"dev": ["PROD_ENV_*"]}}, {}, "env_rules.dev[0]: matches no cluster variable"),
    ({"variables": {"DEV_ENV_DB": "d"}, "env_rules": {"dev": ["DEV_ENV_*"]}}, {}, "env_rules: rules have no effect"),
    ({"user_defined_vars": ["A"]}, {}, "user_defined_vars: has no effect while inherit is false"),
    ({"workspace_env_pattern": "dev"}, {}, "workspace_env_pattern: 'dev' has no {workspace_name}"),
    ({"workspace_env_pattern": "{team}_{workspace_name}"}, {}, "workspace_env_pattern: unknown placeholder {team}"),
    ({"workspace_env_pattern": "dev\n{workspace_name}"}, {}, "workspace_env_pattern: 'dev\\n{workspace_name}' gives"),
    ({"workspace_env_pattern": "a=b_{workspace_name}"}, {}, "workspace_env_pattern: 'a=b_{workspace_name}' gives"),
    ({"workspace_env_pattern": "dev {workspace_name}"}, {}, "workspace_env_pattern: 'dev {workspace_name}' gives"),
    ({"seed_vars": {"INHERIT_ENV_VARS": "maybe"}}, {}, "seed_vars.INHERIT_ENV_VARS: 'maybe' is not a boolean"),
    ({"seed_vars": {"SHARE_SECRETS_ACROSS_WORKSPACES": "on"}}, {}, "seed_vars.SHARE_SECRETS_ACROSS_WORKSPACES:"),
    ({}, {"secret_refs": [{"env_var": "X"}]}, "secrets[0].key: required"),
    ({}, {"secret_refs": [{"key": "missing"}]}, "secrets[0].key: 'missing' is not a secret of this workspace and"),
    ({}, {"secret_refs": [{"key": "api-token"}], "own_secrets": {"api-token": "t"}}, "secrets[0].env_var: 'api-token'"),
    (
        {},
        {
            "secret_refs": [{"key": "a", "env_var": "T"}, {"key": "b", "env_var": "T"}],
            "own_secrets": {"a": "1", "b": "2"},
        },
        "secrets[1].env_var: T is already set by secrets[0]",
    ),
    ({}, {"explicit_env": {"MY VAR": "x"}}, "env.MY VAR:"),
]


@pytest.mark.parametrize(("params", "env_kwargs", "start"), BAD_INPUT, ids=[row[2].split(":")[0] for row in BAD_INPUT])
def test_bad_input_names_the_field(params, env_kwargs, start):
    errors = _errors(params, **env_kwargs)
    assert len(errors) == 1, errors
    assert errors[0].startswith(start), errors[0]


def test_policy_errors_come_without_entries():
    entries, errors = env_policy.effective_env(_policy(workspace_env_pattern="dev"), "w", explicit_env={"A": "1"})
    assert entries == []
    assert errors


def test_secret_error_messages_never_show_values():
    errors = env_policy.validate_policy(_policy(secrets={"TOKEN": 12345}))
    assert errors == ["secrets.TOKEN: the value must be a string; quote it in YAML"]
