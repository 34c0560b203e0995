# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster-level environment policy and the environment of one workspace (pure, no I/O).

A workspace's environment is assembled from layers; a higher layer replaces a
variable of the same name from a lower one. Highest first:

1. ``explicit``   - variables written in the workspace definition itself
2. ``secret``     - secret references, from the workspace's own secrets or,
                    when sharing is on, the cluster's
3. ``pattern``    - ENV built from ``workspace_env_pattern`` when ENV is not explicit
4. ``rule:<KEY>`` - cluster variables inherited by the env rule whose KEY matches ENV
5. ``allow-list`` - cluster variables inherited by ``user_defined_vars``
6. ``system``     - USER_CODE_PATH, and IDE_BASE_URL when a route serves the
                    IDE under a path

Above them all, ``access`` holds the workspace's own access secret (see
domain/access), which nothing else may set.

Layers 4 and 5 apply only when ``inherit`` is true. As on self-hosted clusters,
an unset allow-list inherits nothing (rules still apply). Env rules are matched
against the final ENV value, explicit or from the pattern.

Running workspaces do not pick up later cluster changes by themselves:
``config_hash`` of the resolved environment, stored with the workspace, tells
with ``stale`` which ones need a restart.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import access

REDACTED = "********"
ACCESS_SOURCE = "access"
SECRET_SOURCES = ("secret", ACCESS_SOURCE)
PLACEHOLDER = "{workspace_name}"
REGEX_PREFIX = "re:"

# The seed's cluster variables that configure the policy instead of being inherited.
SEED_INHERIT = "INHERIT_ENV_VARS"
SEED_ALLOW_LIST = "USER_DEFINED_VARS"
SEED_RULE_PREFIX = "USER_DEFINED_VARS__ENV__"
SEED_ENV_PATTERN = "WORKSPACE_ENV_PATTERN"
SEED_SHARE_SECRETS = "SHARE_SECRETS_ACROSS_WORKSPACES"
SEED_POD_ANNOTATIONS = "INHERIT_POD_ANNOTATIONS"
SEED_FLAGS = {
    SEED_INHERIT: "inherit",
    SEED_SHARE_SECRETS: "share_secrets_across_workspaces",
    SEED_POD_ANNOTATIONS: "inherit_pod_annotations",
}

FLAGS = ("inherit", "share_secrets_across_workspaces", "inherit_pod_annotations")
# Fields whose entries are merged one by one when a policy is given in two forms.
MAPPINGS = ("variables", "secrets", "env_rules")

_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# An ENV value also names the rule variable USER_DEFINED_VARS__ENV__<value>, so it
# may hold printable ASCII except whitespace and '=' (0x21-0x7e without 0x3d).
_ENV_VALUE_RE = re.compile(r"[!-<>-~]+")
_PLACEHOLDER_RE = re.compile(r"\{[^{}]*\}")
# Any valid workspace name; the pattern's literal text decides whether ENV is valid.
_SAMPLE_WORKSPACE = "workspace"


def default_policy():
    """A policy that inherits nothing and shares nothing."""
    return {
        "variables": {},
        "secrets": {},
        "inherit": False,
        "user_defined_vars": None,
        "workspace_env_pattern": None,
        "env_rules": {},
        "share_secrets_across_workspaces": False,
        "inherit_pod_annotations": False,
    }


def _parse_bool(name, value):
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"seed_vars.{name}: '{value}' is not a boolean; use 1/0, true/false or yes/no")


def _split_patterns(value):
    """A comma-separated seed list; a list is kept as it is (so regexes may hold commas)."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    return value  # left for validate_policy to report


def policy_from_seed_vars(seed):
    """The seed's form (cluster environment variables) -> a policy.

    Raises ValueError, naming the variable, for a boolean that is not 1/0, true/false or yes/no.
    Lists are comma-separated, so a regular expression there cannot hold a comma.
    """
    if not isinstance(seed, dict):
        raise ValueError("seed_vars: must be a mapping of cluster variable NAME: value")
    policy = default_policy()
    for name, value in seed.items():
        if name in SEED_FLAGS:
            policy[SEED_FLAGS[name]] = _parse_bool(name, value)
        elif name == SEED_ALLOW_LIST:
            policy["user_defined_vars"] = _split_patterns(value)
        elif name == SEED_ENV_PATTERN:
            policy["workspace_env_pattern"] = value
        elif name.startswith(SEED_RULE_PREFIX):
            policy["env_rules"][name[len(SEED_RULE_PREFIX):]] = _split_patterns(value)
        else:
            policy["variables"][name] = value
    return policy


def normalise_policy(params):
    """Structured policy fields (any subset), optionally over "seed_vars" in the seed's form.

    The two forms combine: seed_vars fills what the structured fields leave out, and for
    variables, secrets and env_rules the entries of both are kept. A field given as None
    counts as not given. Raises ValueError for an unknown field, a bad boolean in seed_vars,
    a setting the two forms give different values, or a secret that is also a plain variable.
    """
    params = dict(params or {})
    seed = params.pop("seed_vars", None)
    policy = default_policy() if seed is None else policy_from_seed_vars(seed)
    unknown = sorted(set(params) - set(policy))
    if unknown:
        raise ValueError(f"{unknown[0]}: not a policy field; use one of seed_vars, {', '.join(policy)}")
    seeded = default_policy() if seed is None else _normalise_lists(policy_from_seed_vars(seed))
    structured = _normalise_lists({**default_policy(), **{k: v for k, v in params.items() if v is not None}})
    for field, value in params.items():
        if value is None:
            continue
        if field in MAPPINGS and isinstance(value, dict) and isinstance(policy[field], dict):
            _refuse_conflicts(field, seeded[field], structured[field])
            policy[field] = {**policy[field], **value}
        else:
            if field in _seeded_fields(seed) and seeded[field] != structured[field]:
                raise ValueError(f"{field}: set differently in seed_vars; give it in one place only")
            policy[field] = value
    policy = _normalise_lists(policy)
    both = sorted(set(policy["variables"]) & set(policy["secrets"])) if _all_dicts(policy) else []
    if both:
        raise ValueError(f"secrets.{both[0]}: also a plain variable; keep a value in variables or in secrets, not both")
    return policy


def _seeded_fields(seed):
    """The structured fields a seed_vars mapping sets."""
    fields = {SEED_FLAGS[name] for name in seed or {} if name in SEED_FLAGS}
    fields.update(field for name, field in ((SEED_ALLOW_LIST, "user_defined_vars"),
                                            (SEED_ENV_PATTERN, "workspace_env_pattern")) if name in (seed or {}))
    return fields


def _all_dicts(policy):
    return isinstance(policy["variables"], dict) and isinstance(policy["secrets"], dict)


def _normalise_lists(policy):
    if isinstance(policy["user_defined_vars"], (str, list, tuple)):
        policy["user_defined_vars"] = _split_patterns(policy["user_defined_vars"])
    if isinstance(policy["env_rules"], dict):
        policy["env_rules"] = {key: _split_patterns(value) for key, value in policy["env_rules"].items()}
    return policy


def _refuse_conflicts(field, seeded, structured):
    for key in sorted(set(seeded) & set(structured)):
        if seeded[key] != structured[key]:
            # no value in the message: it may be a secret
            raise ValueError(f"{field}.{key}: set differently in seed_vars; give it in one place only")


def _matches(pattern, name):
    if pattern.startswith(REGEX_PREFIX):
        return re.fullmatch(pattern[len(REGEX_PREFIX):], name) is not None
    return fnmatch.fnmatchcase(name, pattern)


def _matches_any(patterns, name):
    return any(_matches(pattern, name) for pattern in patterns)


def _name_error(field, name):
    if isinstance(name, str) and _ENV_NAME_RE.fullmatch(name):
        return None
    return f"{field}: '{name}' is not a valid variable name; use letters, digits and '_', not starting with a digit"


def _mapping_errors(field, mapping):
    if not isinstance(mapping, dict):
        return [f"{field}: must be a mapping of NAME: value"]
    errors = []
    for name, value in mapping.items():
        error = _name_error(f"{field}.{name}", name)
        if error:
            errors.append(error)
        elif not isinstance(value, str):
            # no value in the message: it may be a secret
            errors.append(f"{field}.{name}: the value must be a string; quote it in YAML")
    return errors


def _flag_errors(policy):
    return [f"{flag}: must be true or false" for flag in FLAGS if not isinstance(policy[flag], bool)]


def _pattern_error(field, pattern):
    if not isinstance(pattern, str) or pattern in ("", REGEX_PREFIX):
        return f"{field}: must be a variable name, a wildcard such as 'DEV_ENV_*' or 're:<regular expression>'"
    if pattern.startswith(REGEX_PREFIX):
        try:
            re.compile(pattern[len(REGEX_PREFIX):])
        except re.error as error:
            return f"{field}: invalid regular expression '{pattern[len(REGEX_PREFIX):]}' ({error}); fix the expression"
    return None


def _pattern_list_errors(field, patterns):
    if not isinstance(patterns, list):
        return [f"{field}: must be a list of patterns or a comma-separated string"]
    errors = [_pattern_error(f"{field}[{index}]", pattern) for index, pattern in enumerate(patterns)]
    return [error for error in errors if error]


def _env_pattern_errors(pattern):
    field = "workspace_env_pattern"
    if pattern is None:
        return []
    if not isinstance(pattern, str):
        return [f"{field}: must be a string such as 'dev_{PLACEHOLDER}'"]
    errors = [
        f"{field}: unknown placeholder {placeholder} in '{pattern}'; only {PLACEHOLDER} is replaced"
        for placeholder in _PLACEHOLDER_RE.findall(pattern)
        if placeholder != PLACEHOLDER
    ]
    if PLACEHOLDER not in pattern:
        errors.append(f"{field}: '{pattern}' has no {PLACEHOLDER}; write for example 'dev_{PLACEHOLDER}'")
    elif not errors and not _ENV_VALUE_RE.fullmatch(pattern.replace(PLACEHOLDER, _SAMPLE_WORKSPACE)):
        errors.append(
            f"{field}: {pattern!r} gives ENV values with whitespace, control characters or '='; "
            f"use letters, digits and punctuation such as '-' or '_'"
        )
    return errors


def _env_rule_errors(rules, variables):
    if not isinstance(rules, dict):
        return ["env_rules: must be a mapping of ENV value (or wildcard): list of patterns"]
    errors = []
    for key, patterns in rules.items():
        if not isinstance(key, str) or not key:
            errors.append("env_rules: a rule needs an ENV value or wildcard as its key, for example 'dev_*'")
            continue
        field = f"env_rules.{key}"
        pattern_errors = _pattern_list_errors(field, patterns)
        errors.extend(pattern_errors)
        if pattern_errors or not isinstance(variables, dict):
            continue
        # a family that inherits nothing is almost always a typo in the pattern
        errors.extend(
            f"{field}[{index}]: matches no cluster variable; define a variable it matches or remove '{pattern}'"
            for index, pattern in enumerate(patterns)
            if not any(_matches(pattern, name) for name in variables)
        )
    return errors


def _inheritance_errors(policy):
    if policy["inherit"] is not False:
        return []
    errors = []
    if policy["user_defined_vars"] is not None:
        errors.append("user_defined_vars: has no effect while inherit is false; set inherit: true or remove it")
    if policy["env_rules"]:
        errors.append("env_rules: rules have no effect while inherit is false; set inherit: true or remove them")
    return errors


def validate_policy(policy):
    """Error messages for a normalised policy, each starting with the field to fix."""
    errors = _mapping_errors("variables", policy["variables"])
    errors += _mapping_errors("secrets", policy["secrets"])
    errors += _flag_errors(policy)
    if policy["user_defined_vars"] is not None:
        errors += _pattern_list_errors("user_defined_vars", policy["user_defined_vars"])
    errors += _env_pattern_errors(policy["workspace_env_pattern"])
    errors += _env_rule_errors(policy["env_rules"], policy["variables"])
    errors += _inheritance_errors(policy)
    return errors


def workspace_env_value(policy, workspace_name, explicit_env=None):
    """The workspace's ENV and where it comes from: ("explicit" | "pattern" | None).

    explicit_env is the mapping of variables written in the workspace definition.
    """
    explicit_env = explicit_env or {}
    if "ENV" in explicit_env:
        return explicit_env["ENV"], "explicit"
    pattern = policy["workspace_env_pattern"]
    if pattern is not None:
        return pattern.replace(PLACEHOLDER, workspace_name), "pattern"
    return None, None


def _entry(name, value, source, secret=False):
    return {"name": name, "value": value, "source": source, "secret": secret}


def _secret_value(key, own_secrets, policy):
    if key in own_secrets:
        return own_secrets[key]
    if policy["share_secrets_across_workspaces"]:
        return policy["secrets"].get(key)
    return None


def _missing_secret_error(field, key, policy):
    if policy["share_secrets_across_workspaces"]:
        return (f"{field}: '{key}' is neither a secret of this workspace nor a shared cluster secret; "
                f"add it to the workspace's secrets or to the cluster's")
    return (f"{field}: '{key}' is not a secret of this workspace and sharing across workspaces is off; "
            f"add it to the workspace's secrets or set share_secrets_across_workspaces: true")


def _secret_ref_error(index, ref, env_var, claimed):
    key = ref.get("key")
    if not key:
        return f"secrets[{index}].key: required; name the secret whose value goes into {env_var or 'the variable'}"
    name_error = _name_error(f"secrets[{index}].env_var", env_var)
    if name_error:
        return f"{name_error}; set env_var when the key is not a variable name"
    if env_var in claimed:
        return f"secrets[{index}].env_var: {env_var} is already set by secrets[{claimed[env_var]}]; use another name"
    return None


def resolve_secret_refs(refs, own_secrets, policy):
    """Secret references -> (secret entries, errors); env_var defaults to the key."""
    own_secrets = own_secrets or {}
    entries, errors, claimed = [], [], {}
    for index, ref in enumerate(refs):
        env_var = ref.get("env_var") or ref.get("key")
        error = _secret_ref_error(index, ref, env_var, claimed)
        if error:
            errors.append(error)
            continue
        claimed[env_var] = index
        value = _secret_value(ref["key"], own_secrets, policy)
        if value is None:
            errors.append(_missing_secret_error(f"secrets[{index}].key", ref["key"], policy))
        else:
            entries.append(_entry(env_var, value, "secret", secret=True))
    return entries, errors


def _matching_rule_keys(rules, env_value):
    """Keys of the rules for this ENV, the exact key last so it names the source of a shared variable."""
    if env_value is None:
        return []
    keys = [key for key in rules if fnmatch.fnmatchcase(env_value, key)]
    return sorted(keys, key=lambda key: (key == env_value, key))


def _inherited_entries(policy, env_value):
    """Cluster variables the workspace inherits, lowest precedence first."""
    if not policy["inherit"]:
        return []
    variables = sorted(policy["variables"].items())
    entries = []
    if policy["user_defined_vars"] is not None:
        allow_list = policy["user_defined_vars"]
        entries += [_entry(name, value, "allow-list") for name, value in variables if _matches_any(allow_list, name)]
    for key in _matching_rule_keys(policy["env_rules"], env_value):
        rule = policy["env_rules"][key]
        entries += [_entry(name, value, f"rule:{key}") for name, value in variables if _matches_any(rule, name)]
    return entries


def _system_entries(user_code_path, ide_base_url):
    system = {"USER_CODE_PATH": user_code_path, "IDE_BASE_URL": ide_base_url}
    return [_entry(name, value, "system") for name, value in system.items() if value is not None]


def effective_env(policy, workspace_name, explicit_env=None, secret_refs=(), own_secrets=None, user_code_path=None,
                  ide_base_url=None, access_token=None):
    """The workspace's environment -> (entries sorted by name, errors); no entries when there are errors."""
    explicit_env = explicit_env or {}
    errors = validate_policy(policy)
    if errors:
        return [], errors
    errors = [error for error in (_name_error(f"env.{name}", name) for name in explicit_env) if error]
    secrets, secret_errors = resolve_secret_refs(secret_refs, own_secrets, policy)
    errors += secret_errors
    if errors:
        return [], errors

    env_value, env_source = workspace_env_value(policy, workspace_name, explicit_env)
    layers = [_system_entries(user_code_path, ide_base_url)]
    layers.append(_inherited_entries(policy, env_value))
    layers.append([_entry("ENV", env_value, "pattern")] if env_source == "pattern" else [])
    layers.append(secrets)
    layers.append([_entry(name, value, "explicit") for name, value in explicit_env.items()])
    layers.append([_entry(access.TOKEN_VAR, access_token, ACCESS_SOURCE, secret=True)] if access_token else [])
    merged = {}
    for layer in layers:
        merged.update((entry["name"], entry) for entry in layer)
    return [merged[name] for name in sorted(merged)], []


def redact(entries):
    """Copies of the entries with secret values hidden, for output and diffs."""
    return [dict(entry, value=REDACTED) if entry["secret"] else dict(entry) for entry in entries]


def config_hash(entries):
    """16 hex characters that change whenever a name or value (secret ones too) changes."""
    pairs = sorted([entry["name"], entry["value"]] for entry in entries)
    encoded = json.dumps(pairs, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def stale(old_hash, entries):
    """Whether a workspace started with old_hash needs a restart to get these entries."""
    return old_hash != config_hash(entries)


def env_inputs(explicit_env, secret_refs, own_secrets, user_code_path, entries, ide_base_url=None, access_token=None):
    """What a workspace was given, stored with it so its env can be recomputed under a new policy.

    Holds no secret value: the values of its own secrets stay in the engine's copy of the env
    and are read back by name (see inputs_arguments).
    """
    own_secrets = own_secrets or {}
    inputs = {
        "explicit": dict(explicit_env),
        "secret_refs": [
            {"key": ref["key"], "env_var": ref.get("env_var") or ref["key"], "own": ref["key"] in own_secrets}
            for ref in secret_refs
        ],
        "user_code_path": user_code_path,
        "sources": {entry["name"]: entry["source"] for entry in entries},
    }
    if ide_base_url is not None:
        inputs["ide_base_url"] = ide_base_url
    if access_token:
        inputs["access"] = True  # the secret itself is read back from the env
    return inputs


def inputs_arguments(inputs, stored_values):
    """effective_env's keyword arguments for a workspace, from its stored inputs and env values."""
    refs = [{"key": ref["key"], "env_var": ref["env_var"]} for ref in inputs.get("secret_refs", [])]
    own_secrets = {
        ref["key"]: stored_values.get(ref["env_var"], "")
        for ref in inputs.get("secret_refs", [])
        if ref.get("own")
    }
    return {
        "explicit_env": inputs.get("explicit") or {},
        "secret_refs": refs,
        "own_secrets": own_secrets,
        "user_code_path": inputs.get("user_code_path"),
        "ide_base_url": inputs.get("ide_base_url"),
        "access_token": stored_values.get(access.TOKEN_VAR) if inputs.get("access") else None,
    }


def stored_entries(inputs, stored_values):
    """The env a workspace runs with, as entries with their recorded sources."""
    sources = inputs.get("sources") or {}
    return [
        _entry(name, value, sources.get(name, "unknown"), secret=sources.get(name) in SECRET_SOURCES)
        for name, value in sorted(stored_values.items())
    ]


def encode_inputs(inputs):
    """The stored form of env_inputs: compact JSON with a stable key order."""
    return json.dumps(inputs, sort_keys=True, separators=(",", ":"))


def decode_inputs(text):
    """env_inputs from their stored form; an empty record for a workspace that has none."""
    try:
        inputs = json.loads(text) if text else {}
    except ValueError:
        inputs = {}
    return inputs if isinstance(inputs, dict) else {}


def with_sources(inputs, entries):
    """The inputs record with the sources of a newly computed env."""
    return {**inputs, "sources": {entry["name"]: entry["source"] for entry in entries}}


def recompute(policy, workspace_name, inputs, stored_values):
    """A workspace's env under another policy -> (entries, errors)."""
    return effective_env(policy, workspace_name, **inputs_arguments(inputs, stored_values))


def env_changes(old_values, entries):
    """Names added, changed and removed between a stored env and new entries (names only, never values)."""
    new_values = {entry["name"]: entry["value"] for entry in entries}
    return {
        "added": sorted(set(new_values) - set(old_values)),
        "changed": sorted(name for name in set(new_values) & set(old_values) if new_values[name] != old_values[name]),
        "removed": sorted(set(old_values) - set(new_values)),
    }
