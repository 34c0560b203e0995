"""Idle time and the reaper's decisions."""

import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import idle
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import reaper as reaper_task

HOUR = 3600.0
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-15T08:00:00Z", NOW),
        ("2026-11-24T16:53:39.123456789Z", 1795539219.123456),
        ("2026-11-24T16:53:39+00:00", 1795539219.0),
        ("2026-11-24T16:53:39", 1795539219.0),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_time(text, expected):
    assert idle.parse_time(text) == (pytest.approx(expected) if expected else None)


def test_idle_counts_from_the_later_of_start_and_activity():
    assert idle.idle_seconds(NOW, NOW - 2 * HOUR, NOW - HOUR) == 3600
    assert idle.idle_seconds(NOW, NOW - 60, NOW - 2 * HOUR) == 60, "a workspace just started is not idle"
    assert idle.idle_seconds(NOW, None, NOW - 30) == 30
    assert idle.idle_seconds(NOW, None, None) is None
    assert idle.idle_seconds(NOW, NOW + 5, None) == 0, "clock skew never gives negative idle time"


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"workspaces.atelier.dev/auto-termination": "true", "workspaces.atelier.dev/max-idle-seconds": "1800"},
         {"max_idle_seconds": 1800}),
        ({"workspaces.atelier.dev/auto-termination": "false", "workspaces.atelier.dev/max-idle-seconds": "1800"},
         None),
        ({"workspaces.atelier.dev/auto-termination": "true"}, None),
        ({"workspaces.atelier.dev/auto-termination": "true", "workspaces.atelier.dev/max-idle-seconds": "x"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_termination_policy_from_stored_metadata(metadata, expected):
    assert idle.termination_policy(metadata) == expected


def _observed(name, running=True, max_idle=1800, started=NOW - 5 * HOUR, activity=None):
    return {"name": name, "namespace": "team", "running": running, "started_at": started,
            "last_activity": activity, "policy": None if max_idle is None else {"max_idle_seconds": max_idle}}


def test_reaper_stops_only_running_workspaces_idle_past_their_limit():
    observed = [
        _observed("idle", activity=NOW - HOUR),
        _observed("busy", activity=NOW - 60),
        _observed("no-policy", max_idle=None),
        _observed("stopped", running=False),
        _observed("never-touched"),
    ]
    stop, keep = reaper_task.judge(observed, NOW)
    assert [row["name"] for row, _workspace in stop] == ["idle", "never-touched"]
    reasons = {row["name"]: row["reason"] for row, _workspace in stop + keep}
    assert reasons["idle"] == "idle 3600s, more than the 1800s allowed (last activity 2027-01-15T07:00:00Z)"
    assert reasons["never-touched"] == "idle 18000s, more than the 1800s allowed (no activity reported since start)"
    assert reasons["busy"] == "busy idle 60s of 1800s allowed (last activity 2027-01-15T07:59:00Z)"
    assert reasons["no-policy"] == "no-policy has no auto termination"
    assert reasons["stopped"] == "stopped is not running"


def test_idle_exactly_at_the_limit_is_kept():
    stop, _keep = reaper_task.judge([_observed("edge", activity=NOW - 1800)], NOW)
    assert stop == []
