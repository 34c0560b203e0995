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
  swarm_mode:
    description:
      - Run each workspace as a Swarm service (one replica running, none stopped) instead of a plain container;
        defaults to E(DOCKER_SWARM_MODE), then V(false). The engine must be a Swarm manager.
      - Swarm publishes ports on every interface, so the IDE port is published only when C(publish.host_port) is
        given; otherwise the workspace is reached on the overlay network C(atelier-workspaces-swarm).
    type: bool
requirements:
  - docker (Python SDK) >= 7.0 for O(backend=docker)
"""
