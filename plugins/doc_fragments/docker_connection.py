# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """How the modules reach a Docker engine (O(backend=docker))."""

    DOCUMENTATION = r"""
options:
  docker_host:
    description: Docker engine address; defaults to E(DOCKER_HOST), then C(unix:///var/run/docker.sock).
    type: str
  tls_verify:
    description: Verify the engine's TLS certificate; defaults to E(DOCKER_TLS_VERIFY).
    type: bool
  cert_path:
    description: Directory with C(ca.pem), C(cert.pem) and C(key.pem); defaults to E(DOCKER_CERT_PATH).
    type: path
requirements:
  - docker (Python SDK) >= 7.0 for O(backend=docker)
"""
