# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU and memory quantities in the Kubernetes notation (pure, no I/O).

Both backends take the same notation, so a workspace definition moves between
engines unchanged: cpu "2", "0.5" or "500m"; memory "512Mi", "4Gi", "1G" or
plain bytes.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_CPU_RE = re.compile(r"^(\d+(\.\d+)?|\.\d+)(m?)$")
_MEMORY_RE = re.compile(r"^(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P)?$")
_MEMORY_FACTORS = {
    None: 1,
    "k": 1000, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "P": 1000**5,
    "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5,
}


def parse_cpu(value, field):
    """Return (millicores, error) for a CPU quantity."""
    text = str(value).strip()
    match = _CPU_RE.match(text)
    if not match:
        return None, f"{field}: '{value}' is not a CPU quantity; use cores like '2' or '0.5', or millicores like '500m'"
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        return None, f"{field}: '{value}' is not a number"
    millicores = number if match.group(3) else number * 1000
    if millicores <= 0 or millicores != millicores.to_integral_value():
        return None, f"{field}: '{value}' must be a positive whole number of millicores (at least '1m')"
    return int(millicores), None


def parse_memory(value, field):
    """Return (bytes, error) for a memory quantity."""
    text = str(value).strip()
    match = _MEMORY_RE.match(text)
    if not match:
        return None, (
            f"{field}: '{value}' is not a memory quantity; use a number with a unit like '512Mi' or '4Gi' "
            f"(binary) or '1G' (decimal)"
        )
    total = Decimal(match.group(1)) * _MEMORY_FACTORS[match.group(3)]
    if total < 4 * 1024**2:
        return None, f"{field}: '{value}' is below the 4Mi a container needs at least"
    return int(total), None
