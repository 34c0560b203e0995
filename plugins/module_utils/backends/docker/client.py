# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection to a Docker engine: TLS, a diagnosis of why it cannot be reached, requests sent again
while the engine restarts or is busy, and engine errors turned into messages for the user (the one place
where they are caught)."""

from __future__ import annotations

import functools
import os

from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming, retry
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError

try:
    import docker
    from docker.errors import APIError, DockerException, NotFound
    from docker.types import DeviceRequest, Mount
    from requests.exceptions import ConnectionError as RequestsConnectionError

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError as import_error:  # reported by the module with missing_required_lib
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = import_error
    DockerException = APIError = NotFound = Exception

# the engine types the reconcilers use through this module
__all__ = ["APIError", "DeviceRequest", "DockerException", "Mount", "NotFound"]
API_TIMEOUT = 60
DEFAULT_HOST = "unix:///var/run/docker.sock"
# set by the Swarm on the containers of its tasks
SWARM_TASK_LABEL = "com.docker.swarm.task.id"
# Requests that do what they did the first time when sent twice. A POST (create, start, exec) may have
# been carried out when its connection was cut or the engine answered 500, so only its refusals are resent.
REPEATABLE = frozenset({"GET", "HEAD", "PUT", "DELETE"})


if HAS_DOCKER:

    class _EngineClient(docker.APIClient):
        """docker.APIClient that keeps the CA it was given (cert_path/ca.pem) and sends a request again
        while the engine restarts or is busy (common/retry.py decides which and how long).

        requests lets REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE replace a session's CA on every
        request (psf/requests#3829), which breaks tls_verify wherever those are set.
        """

        def __init__(self, *args, where=DEFAULT_HOST, cert_path=None, **kwargs):
            # set first: the client asks the engine for its API version while it is built
            self.where, self.cert_path = where, cert_path
            super().__init__(*args, **kwargs)

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            settings["verify"] = self.verify if verify is None else verify
            return settings

        def request(self, method, url, *args, **kwargs):
            """Every request of the client goes through here: transient failures are tried again."""
            tries, cut = retry.Tries(), False
            repeatable = method.upper() in REPEATABLE
            while True:
                try:
                    response = super().request(method, url, *args, **kwargs)
                except RequestsConnectionError as error:
                    failure = retry.connection_failure(error)
                    if not retry.may_resend(failure, repeatable):
                        raise
                    cut = cut or failure == retry.CUT
                    wait = tries.next_pause()
                    if wait is None:
                        raise WorkspaceError(
                            f"{_connection_error(self.where, self.cert_path, error)}; {tries.summary()}") from None
                else:
                    status = response.status_code
                    if cut and method.upper() == "DELETE" and status == 404:
                        return _already_done(response)
                    said = _answer(response) if status >= 400 else ""
                    if not retry.transient_answer(status, said, repeatable):
                        return response
                    wait = tries.next_pause(retry.retry_after(response.headers.get("Retry-After")))
                    if wait is None:
                        raise WorkspaceError(retry.gave_up(
                            f"docker_host: the Docker engine at {self.where}", f"HTTP {status}: {said}", tries))
                    response.close()
                tries.wait(wait)


def _answer(response):
    """What an engine's error answer says (its JSON message, else its reason)."""
    try:
        return response.json().get("message") or response.reason
    except (ValueError, AttributeError):
        return response.reason


def _already_done(response):
    """A DELETE whose first attempt was cut finds nothing on the resend: the first one did it."""
    response.status_code = 200
    # what the callers of a DELETE read: nothing, or an empty list of what an image removal removed
    response._content = b"[]"
    return response


def _connection_error(where, cert_path, error):
    """Which option to fix, from the reason the engine could not be reached."""
    text = str(error)
    if "Client sent an HTTP request to an HTTPS server" in text:
        return (
            f"tls_verify: the Docker engine at {where} only accepts TLS clients; set tls_verify: true and "
            f"cert_path (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH) to a directory with ca.pem, cert.pem and key.pem"
        )
    if "mismatch" in text and "CERTIFICATE_VERIFY_FAILED" in text:
        return (
            f"docker_host: the certificate of the Docker engine is not valid for the address in {where} ({text}); "
            f"use a host name or address its certificate names"
        )
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return (
            f"cert_path: {cert_path}/ca.pem did not sign the certificate of the Docker engine at {where} ({text}); "
            f"put the CA that signed the engine's --tlscert there as ca.pem"
        )
    if any(alert in text for alert in ("ALERT_BAD_CERTIFICATE", "ALERT_UNKNOWN_CA", "ALERT_CERTIFICATE_REQUIRED")):
        return (
            f"cert_path: the Docker engine at {where} refused the client certificate {cert_path}/cert.pem ({text}); "
            f"use a client certificate signed by the CA the engine trusts (its --tlscacert)"
        )
    return (
        f"docker_host: cannot reach the Docker engine at {where} ({error}); start the engine "
        f"or set docker_host (DOCKER_HOST), tls_verify and cert_path"
    )


def connect(params, timeout=None):
    """A low-level API client for the engine named by the connection options, checked with a ping.

    `timeout` is the longest wait of the task: lifecycle commands run within one API call.
    """
    base_url = params.get("docker_host") or DEFAULT_HOST
    where = base_url
    tls = False
    cert_path = params.get("cert_path") or os.path.expanduser("~/.docker")
    if params.get("tls_verify") or params.get("cert_path"):
        files = {name: os.path.join(cert_path, name) for name in ("ca.pem", "cert.pem", "key.pem")}
        unreadable = [path for path in files.values() if not os.access(path, os.R_OK)]
        if unreadable:
            raise WorkspaceError(
                f"cert_path: cannot read {', '.join(unreadable)}; point cert_path (DOCKER_CERT_PATH) "
                f"at a directory with ca.pem, cert.pem and key.pem"
            )
        tls = docker.tls.TLSConfig(
            client_cert=(files["cert.pem"], files["key.pem"]),
            ca_cert=files["ca.pem"],
            verify=bool(params.get("tls_verify")),
        )
        base_url = base_url.replace("tcp://", "https://")
    try:
        client = _EngineClient(base_url=base_url, tls=tls, version="auto", timeout=max(API_TIMEOUT, timeout or 0),
                               where=where, cert_path=cert_path)
        client.ping()
    except (DockerException, OSError) as error:
        if isinstance(error.__cause__, WorkspaceError):  # the client gave up while asking for the API version
            raise error.__cause__ from None
        raise WorkspaceError(_connection_error(where, cert_path, error)) from None
    return client


def find_containers(api, workspace=None, tasks=False):
    """Container summaries of one workspace, or of every workspace: plain containers, or Swarm task containers."""
    selector = naming.label_selector(workspace).split(",")
    if workspace is None:
        selector.append(naming.LABEL_WORKSPACE)  # not the collection's other containers, such as the control holder
    found = api.containers(all=True, filters={"label": selector})
    return [summary for summary in found if (SWARM_TASK_LABEL in (summary.get("Labels") or {})) == tasks]


def engine_errors(function):
    """Engine failures leave the decorated call as WorkspaceError naming the engine and what it said."""

    @functools.wraps(function)
    def translated(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except WorkspaceError:
            raise
        except (DockerException, OSError) as error:
            raise WorkspaceError(f"docker_host: the Docker engine failed: {explain(error)}") from None

    return translated


def explain(error):
    """What the engine said, without the HTTP framing."""
    return getattr(error, "explanation", None) or str(error)


def inspect_all(api, workspace=None):
    """The full inspection of every workspace container (or one workspace's)."""
    return [api.inspect_container(summary["Id"]) for summary in find_containers(api, workspace)]


def exists(read):
    """What read() returns, or None when the engine has no such object."""
    try:
        return read()
    except NotFound:
        return None
