# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's time with its engine: connect through the registry, fail clearly, always close."""

from __future__ import annotations

import contextlib

from ansible_collections.atelier.workspaces.plugins.module_utils.backends import registry
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import MissingLibrary, WorkspaceError


def fail(module, message, **extra):
    module.fail_json(msg=message, changed=False, **extra)


@contextlib.contextmanager
def engine(module, timeout=None):
    """The connected backend for the module's options; an engine error inside fails the module unchanged."""
    try:
        backend = registry.get(module.params, timeout)
    except MissingLibrary as missing:
        from ansible.module_utils.basic import missing_required_lib

        fail(module, missing_required_lib(missing.library), exception=str(missing.error))
    except WorkspaceError as error:
        fail(module, str(error))
    try:
        yield backend
    except WorkspaceError as error:
        fail(module, str(error))
    finally:
        backend.close()
