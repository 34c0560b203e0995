# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The columns a workspace list shows, as ``union get workspace`` does (pure, no I/O)."""

from __future__ import annotations

COLUMNS = ("name", "namespace", "status", "cpu", "memory", "gpu", "accelerator", "ttl_seconds", "url")


def columns(view):
    """The list columns of one workspace view: resources as given, the idle limit as its TTL."""
    resources = (view.get("configuration") or {}).get("resources") or {}
    return {
        "cpu": resources.get("cpu"),
        "memory": resources.get("memory"),
        "gpu": resources.get("gpu") or 0,
        "accelerator": resources.get("accelerator"),
        "ttl_seconds": view.get("max_idle_seconds"),
    }


def table(views):
    """The views as text rows under a header, columns padded to their widest cell."""
    rows = [[column.upper() for column in COLUMNS]]
    rows += [["-" if view.get(column) in (None, "") else str(view.get(column)) for column in COLUMNS]
             for view in views]
    widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
