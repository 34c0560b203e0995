# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an env policy change means for existing workspaces: which are stale and why (pure, no I/O)."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy

NO_INPUTS = ("the workspace does not record what it was given; converge it once with "
             "atelier.workspaces.workspace so its env can be recomputed")


def stale_report(policy, workspaces):
    """Workspaces whose env under the policy differs from the env they run with.

    Each row names what changed (variable names only); a workspace the policy
    cannot serve (a shared secret it uses is gone) carries the errors instead.
    """
    report = []
    for workspace in workspaces:
        row = {"name": workspace["name"], "namespace": workspace["namespace"], "backend": workspace["backend"],
               "running": workspace["running"]}
        if not workspace["inputs"]:
            # without its recorded inputs the workspace's own env cannot be told apart from inherited values
            report.append({**row, "errors": [NO_INPUTS]})
            continue
        entries, errors = env_policy.recompute(policy, workspace["name"], workspace["inputs"], workspace["values"])
        if errors:
            report.append({**row, "errors": errors})
        elif env_policy.config_hash(entries) != workspace["config_hash"]:
            report.append({**row, "changes": env_policy.env_changes(workspace["values"], entries),
                           "_entries": entries, "_workspace": workspace})
    return sorted(report, key=lambda row: (row["namespace"] or "", row["name"]))


def env_view(policy, workspace):
    """What workspace_info shows of a workspace's env: the env it runs with (with sources) and whether it is stale."""
    entries, errors = env_policy.recompute(policy, workspace["name"], workspace["inputs"], workspace["values"])
    errors = errors or ([NO_INPUTS] if not workspace["inputs"] else [])
    running_with = env_policy.stored_entries(workspace["inputs"], workspace["values"])
    return {
        "env": env_policy.redact(running_with),
        "env_stale": bool(errors) or env_policy.config_hash(entries) != workspace["config_hash"],
    }


def public_view(policy):
    """The policy as output and diffs show it: secret names, never their values."""
    return {**policy, "secrets": {name: env_policy.REDACTED for name in sorted(policy["secrets"])}}


def diff(before, after):
    before_view, after_view = public_view(before), public_view(after)
    for name, value in after["secrets"].items():
        if name in before["secrets"] and before["secrets"][name] != value:
            after_view["secrets"][name] = f"{env_policy.REDACTED} (changed)"
    return {"before": before_view, "after": after_view}
