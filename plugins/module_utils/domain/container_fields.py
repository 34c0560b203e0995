# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes container fields given by the user: checked, merged into the planned container (pure, no I/O).

They come from container_config and from a pre-start script. Quantities are
written in the API server's canonical form, so a re-run compares equal.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal, InvalidOperation

# Every field of a Container but `name`, which the collection owns.
FIELDS = (
    "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle", "livenessProbe", "ports",
    "readinessProbe", "resizePolicy", "resources", "restartPolicy", "securityContext", "startupProbe", "stdin",
    "stdinOnce", "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices", "volumeMounts",
    "workingDir",
)
# Lists merged item by item: an item replaces the planned one with the same key, others are added.
LIST_KEYS = {
    "env": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "resizePolicy": "resourceName",
}
MAPPINGS = ("resources", "securityContext", "lifecycle", "livenessProbe", "readinessProbe", "startupProbe")

_QUANTITY_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def check(fields, where, errors):
    """Shape errors of user container fields, each naming its field (the API server checks the rest)."""
    for key, value in fields.items():
        if key in LIST_KEYS:
            _check_list(value, f"{where}.{key}", LIST_KEYS[key], errors)
        elif key in MAPPINGS and not isinstance(value, dict):
            errors.append(f"{where}.{key}: must be a mapping, as in a Kubernetes container")
    for group, amounts in (fields.get("resources") or {}).items():
        for resource, amount in (amounts or {}).items() if isinstance(amounts, dict) else ():
            if canonical_quantity(amount) is None:
                errors.append(f"{where}.resources.{group}.{resource}: '{amount}' is not a Kubernetes quantity; "
                              f"write for example '500m', '2' or '4Gi'")


def _check_list(items, field, key, errors):
    if not isinstance(items, list):
        errors.append(f"{field}: must be a list, as in a Kubernetes container")
        return
    errors.extend(f"{field}[{index}]: needs a {key}" for index, item in enumerate(items)
                  if not isinstance(item, dict) or key not in item)


def _merge_named(current, items, key):
    merged = list(current)
    for item in items:
        same = next((index for index, known in enumerate(merged) if known.get(key) == item.get(key)), None)
        if same is None:
            merged.append(copy.deepcopy(item))
        else:
            merged[same] = copy.deepcopy(item)
    return merged


def _merge_mappings(current, layer):
    merged = dict(current)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_mappings(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge(container, layer):
    """The container with the user's fields merged in; where both set a value, the user's wins."""
    merged = copy.deepcopy(container)
    for key, value in layer.items():
        current = merged.get(key)
        if key in LIST_KEYS and isinstance(current, list):
            merged[key] = _merge_named(current, value, LIST_KEYS[key])
        elif key == "envFrom" and isinstance(current, list):
            # the workspace's own env Secret stays
            merged[key] = current + [copy.deepcopy(item) for item in value if item not in current]
        elif isinstance(value, dict) and isinstance(current, dict):
            merged[key] = _merge_mappings(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    if merged.get("resources"):
        merged["resources"] = canonical_resources(merged["resources"])
    return merged


def canonical_resources(resources):
    return {
        group: {name: canonical_quantity(amount) or amount for name, amount in amounts.items()}
        if isinstance(amounts, dict) else amounts
        for group, amounts in resources.items()
    }


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
