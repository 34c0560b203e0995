# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """How the modules reach a Kubernetes API server (O(backend=kubernetes))."""

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of a kubeconfig file; defaults to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG) or C(~/.kube/config).
      - Inside a pod with neither this nor O(host), the pod's service account is used.
    type: path
  context:
    description: Context of the kubeconfig to use; defaults to E(K8S_AUTH_CONTEXT), then the current context.
    type: str
  host:
    description: API server URL, instead of a kubeconfig; defaults to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description: Bearer token for O(host); defaults to E(K8S_AUTH_API_KEY).
    type: str
  validate_certs:
    description: Verify the API server's certificate; defaults to E(K8S_AUTH_VERIFY_SSL).
    type: bool
  ca_cert:
    description: CA bundle for the API server's certificate; defaults to E(K8S_AUTH_SSL_CA_CERT).
    type: path
requirements:
  - kubernetes (Python client) >= 30 for O(backend=kubernetes)
"""
