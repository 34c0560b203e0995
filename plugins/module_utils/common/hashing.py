# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Short fingerprints of plain data (pure, no I/O)."""

from __future__ import annotations

import hashlib
import json


def fingerprint(value):
    """16 hex characters that change whenever the value does."""
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]
