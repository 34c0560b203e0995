# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idle time of a workspace and whether its termination policy stops it (pure, no I/O).

The last-activity signal is whatever fronts the IDE reporting use: on
Kubernetes the StatefulSet annotation ``workspaces.atelier.dev/last-activity``
(an RFC 3339 time), on Docker the modification time of the file
``.atelier/last-activity`` in the workspace's data directory (``touch`` is
enough). A workspace is idle since the later of its last activity and its
start, so one that was just started is never idle.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import lifecycle

ANNOTATION_LAST_ACTIVITY = "workspaces.atelier.dev/last-activity"
ANNOTATION_STOPPED_REASON = "workspaces.atelier.dev/stopped-reason"
ACTIVITY_FILE = ".atelier/last-activity"
# Docker writes nanoseconds; Python reads at most microseconds.
_FRACTION_RE = re.compile(r"(\.\d{1,6})\d*")


def parse_time(text):
    """Seconds since the epoch of an RFC 3339 time, or None for an empty or unreadable one."""
    if not text or not isinstance(text, str) or text.startswith("0001-01-01"):
        return None
    cleaned = _FRACTION_RE.sub(r"\1", text.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def format_time(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def idle_seconds(now, started_at, last_activity):
    """Whole seconds since the later of start and last activity; None when neither is known."""
    known = [moment for moment in (started_at, last_activity) if moment is not None]
    if not known:
        return None
    return max(0, int(now - max(known)))


def termination_policy(metadata):
    """The idle policy stored with a workspace (annotations or labels), or None when it has none."""
    metadata = metadata or {}
    if metadata.get(lifecycle.ANNOTATION_AUTO_TERMINATION) != "true":
        return None
    try:
        return {"max_idle_seconds": int(metadata[lifecycle.ANNOTATION_MAX_IDLE])}
    except (KeyError, ValueError):
        return None


def verdict(name, running, policy, idle, last_activity):
    """(stop, reason) for one workspace under its termination policy."""
    if not running:
        return False, f"{name} is not running"
    if policy is None:
        return False, f"{name} has no auto termination"
    if idle is None:
        return False, f"{name} reports neither a start nor an activity time"
    limit = policy["max_idle_seconds"]
    since = f"last activity {format_time(last_activity)}" if last_activity else "no activity reported since start"
    if idle <= limit:
        return False, f"{name} idle {idle}s of {limit}s allowed ({since})"
    return True, f"idle {idle}s, more than the {limit}s allowed ({since})"
