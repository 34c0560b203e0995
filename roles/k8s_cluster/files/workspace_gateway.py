# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workspace gateway: the ingress controller asks it, for every request to a workspace, whether to let it in.

It answers the forward-auth request of an nginx-class ingress controller
(``nginx.ingress.kubernetes.io/auth-url``). The request must carry a
Kubernetes identity as a bearer token. The API server decides: a TokenReview
says who the caller is, and a SubjectAccessReview whether that caller may
``create pods/portforward`` on the workspace's pod ``<workspace>-0``, which
the workspace roles grant to owner, admin and editor, and not to viewer. A
caller let in gets the workspace's own access secret in the ``Authorization``
header, which the ingress controller passes on to the IDE in place of the
caller's token, so the IDE never sees a Kubernetes credential.

Only the Python standard library: the gateway runs on any image with Python 3.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

TOKEN_VAR = "WORKSPACE_ACCESS_TOKEN"
SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$")
# a decision is kept this long, so a page's many requests cost the API server one review
CACHE_SECONDS = 10.0


def workspace_of(forwarded_uri, prefix):
    """The workspace a request is for: the path segment after the route's prefix, or None."""
    path = urllib.parse.urlsplit(forwarded_uri or "").path
    prefix = "/" + (prefix or "").strip("/")
    rest = path[len(prefix):] if prefix == "/" or path == prefix or path.startswith(prefix + "/") else None
    if rest is None:
        return None
    name = rest.lstrip("/").split("/", 1)[0]
    return name if NAME.match(name) else None


def bearer_token(authorization):
    scheme, _separator, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_review(token):
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}


def access_review(user, namespace, workspace):
    """May this user open the workspace: create pods/portforward on its pod, as `kubectl port-forward` does."""
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user.get("username"),
            "uid": user.get("uid"),
            "groups": user.get("groups") or [],
            "extra": user.get("extra") or {},
            "resourceAttributes": {"namespace": namespace, "verb": "create", "resource": "pods",
                                   "subresource": "portforward", "name": f"{workspace}-0"},
        },
    }


class ApiServer:
    """The few API calls the gateway makes, with its own service account."""

    def __init__(self, url, token_file, ca_file, server_name=None):
        self.url = urllib.parse.urlsplit(url)
        self.token_file = token_file
        self.context = ssl.create_default_context(cafile=ca_file)
        self.server_name = server_name or self.url.hostname

    def _connection(self):
        if self.url.scheme == "http":
            return http.client.HTTPConnection(self.url.hostname, self.url.port or 80, timeout=10)
        connection = http.client.HTTPSConnection(self.url.hostname, self.url.port or 443, timeout=10,
                                                 context=self.context)
        server_name = self.server_name

        def connect():
            # the certificate is checked against server_name: the API server may be reached by another address
            raw = http.client.socket.create_connection((connection.host, connection.port), connection.timeout)
            connection.sock = self.context.wrap_socket(raw, server_hostname=server_name)

        connection.connect = connect
        return connection

    def call(self, method, path, body=None):
        with open(self.token_file, encoding="utf-8") as handle:
            token = handle.read().strip()
        connection = self._connection()
        try:
            connection.request(method, path, body=json.dumps(body) if body is not None else None,
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                        "Accept": "application/json"})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status == 404:
            return None
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}")
        return json.loads(data)

    def identity(self, token):
        status = (self.call("POST", "/apis/authentication.k8s.io/v1/tokenreviews", token_review(token))
                  or {}).get("status") or {}
        return status.get("user") if status.get("authenticated") else None

    def allowed(self, user, namespace, workspace):
        review = self.call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                           access_review(user, namespace, workspace)) or {}
        return bool((review.get("status") or {}).get("allowed"))

    def access_secret(self, namespace, workspace):
        secret = self.call("GET", f"/api/v1/namespaces/{namespace}/secrets/{workspace}-env") or {}
        value = (secret.get("data") or {}).get(TOKEN_VAR)
        return base64.b64decode(value).decode() if value else None


class Decisions:
    """Recent decisions, keyed by a hash of the caller's token (the token itself is never kept)."""

    def __init__(self, clock=time.monotonic):
        self.clock, self.lock, self.entries = clock, threading.Lock(), {}

    @staticmethod
    def key(token, namespace, workspace):
        return hashlib.sha256(f"{token}\0{namespace}\0{workspace}".encode()).hexdigest()

    def get(self, key):
        with self.lock:
            found = self.entries.get(key)
            return found[1] if found and found[0] > self.clock() else None

    def put(self, key, decision):
        with self.lock:
            now = self.clock()
            self.entries = {k: v for k, v in self.entries.items() if v[0] > now}
            self.entries[key] = (now + CACHE_SECONDS, decision)


def decide(api, decisions, headers, query):
    """(status, response headers) for one forward-auth request."""
    token = bearer_token(headers.get("Authorization"))
    if not token:
        return 401, {"WWW-Authenticate": 'Bearer realm="atelier workspaces"'}
    namespace = (query.get("namespace") or [""])[0]
    workspace = workspace_of(headers.get("X-Forwarded-Uri") or headers.get("X-Original-Url"),
                             (query.get("prefix") or [""])[0])
    if not NAME.match(namespace) or not workspace:
        return 403, {}
    key = decisions.key(token, namespace, workspace)
    decision = decisions.get(key)
    if decision is None:
        user = api.identity(token)
        if not user:
            decision = (401, {"WWW-Authenticate": 'Bearer realm="atelier workspaces", error="invalid_token"'})
        elif not api.allowed(user, namespace, workspace):
            decision = (403, {})
        else:
            secret = api.access_secret(namespace, workspace)
            # a workspace with auth: none has no secret: the caller's token must not reach its IDE either
            decision = (200, {"Authorization": f"token {secret}" if secret else ""})
        decisions.put(key, decision)
    return decision


class Handler(http.server.BaseHTTPRequestHandler):
    api = None
    decisions = None

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/healthz":
            self._answer(200, {})
            return
        try:
            status, headers = decide(self.api, self.decisions, self.headers, urllib.parse.parse_qs(url.query))
        except (OSError, RuntimeError, ValueError) as error:
            self.log_error("review failed: %s", error)
            status, headers = 503, {}
        self._answer(status, headers)

    def _answer(self, status, headers):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_request(self, code="-", size="-"):
        pass  # one line per asset would drown the log; refusals and failures are logged


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    Handler.api = ApiServer(os.environ.get("GATEWAY_API_SERVER") or f"https://{host}:{port}",
                            f"{SERVICE_ACCOUNT}/token", f"{SERVICE_ACCOUNT}/ca.crt",
                            os.environ.get("GATEWAY_API_SERVER_NAME") or None)
    Handler.decisions = Decisions()
    listen = int(os.environ.get("GATEWAY_PORT", "8080"))
    server = Server(("", listen), Handler)
    sys.stderr.write(f"workspace gateway listening on :{listen}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
