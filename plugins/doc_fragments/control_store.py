# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Where the collection keeps its cluster-wide documents (env policy, cluster settings, roles)."""

    DOCUMENTATION = r"""
options:
  control_namespace:
    description:
      - Namespace holding the collection's cluster-wide documents on Kubernetes (the env policy as a
        ConfigMap C(atelier-env-policy) and a Secret C(atelier-env-policy), the cluster settings).
      - On Docker the documents live in the volume C(atelier-control) on the engine's host, reached
        through a never-started holder container of the same name; secret documents there are mode 0600.
    type: str
    default: atelier-system
"""
