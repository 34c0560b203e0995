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
# Every suffix the API server reads, and the exponents it writes back with.
_QUANTITY_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = (("Pi", 1024**5), ("Ti", 1024**4), ("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024))
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


def cpu_quantity(millicores):
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def memory_quantity(size):
    for suffix, factor in _BINARY_SUFFIXES:
        if size % factor == 0:
            return f"{size // factor}{suffix}"
    return str(size)


def _decimal_form(value):
    if value == 0:
        return "0"
    for suffix, exponent in sorted(_DECIMAL.items(), key=lambda item: -item[1]):
        mantissa = value / Decimal(10) ** exponent
        if mantissa == mantissa.to_integral_value():
            return f"{int(mantissa)}{suffix}"
    # finer than nano: the API server rounds up to whole nano units
    return f"{int((value * Decimal(10) ** 9).to_integral_value(rounding='ROUND_CEILING'))}n"


def canonical_quantity(amount):
    """A quantity as the API server writes it back ('0.5' -> '500m', '1024Mi' -> '1Gi'); None if not one."""
    match = _QUANTITY_RE.match(str(amount).strip())
    if not match:
        return None
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        return None
    suffix = match.group(2) or ""
    if suffix in _BINARY:
        value = number * 1024 ** _BINARY[suffix]
        if value == value.to_integral_value() and abs(value) >= 1024:
            power = max(power for power in range(7) if value % 1024**power == 0)
            units = int(value) // 1024**power
            return f"{units}{next((s for s, p in _BINARY.items() if p == power), '')}"
        return _decimal_form(value)
    return _decimal_form(number * Decimal(10) ** _DECIMAL[suffix])
