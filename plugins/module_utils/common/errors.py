# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type the backends raise for the user to read."""

from __future__ import annotations


class WorkspaceError(Exception):
    """A failure with a message meant for the user: what went wrong and what to do."""


class MissingLibrary(WorkspaceError):
    """The Python library an engine needs is not installed where the module runs."""

    def __init__(self, library, error):
        super().__init__(f"the '{library}' Python library is needed ({error})")
        self.library = library
        self.error = error
