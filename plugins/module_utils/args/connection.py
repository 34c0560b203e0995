# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every module shares: which engine, how to reach it, where its documents live."""

from __future__ import annotations

import copy

from ansible.module_utils.basic import env_fallback

BACKEND = {"type": "str", "default": "kubernetes", "choices": ["kubernetes", "docker"]}

KUBERNETES_CONNECTION_SPEC = {
    "kubeconfig": {"type": "path", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG"])},
    "context": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_CONTEXT"])},
    "host": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_HOST"])},
    "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["K8S_AUTH_API_KEY"])},
    "validate_certs": {"type": "bool", "fallback": (env_fallback, ["K8S_AUTH_VERIFY_SSL"])},
    "ca_cert": {"type": "path", "fallback": (env_fallback, ["K8S_AUTH_SSL_CA_CERT"])},
}

DOCKER_CONNECTION_SPEC = {
    "docker_host": {"type": "str", "fallback": (env_fallback, ["DOCKER_HOST"])},
    "tls_verify": {"type": "bool", "fallback": (env_fallback, ["DOCKER_TLS_VERIFY"])},
    "cert_path": {"type": "path", "fallback": (env_fallback, ["DOCKER_CERT_PATH"])},
    "swarm_mode": {"type": "bool", "fallback": (env_fallback, ["DOCKER_SWARM_MODE"])},
}

# Where the cluster-wide documents live (see the control_store doc fragment).
CONTROL_SPEC = {
    "control_namespace": {"type": "str", "default": "atelier-system"},
}


def engine_options(with_control=True):
    """backend plus the connection options of both engines (and control_namespace), as fresh copies."""
    spec = {"backend": copy.deepcopy(BACKEND), **copy.deepcopy(DOCKER_CONNECTION_SPEC),
            **copy.deepcopy(KUBERNETES_CONNECTION_SPEC)}
    if with_control:
        spec.update(copy.deepcopy(CONTROL_SPEC))
    return spec
