# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may open a workspace's IDE: its access secret (pure, apart from drawing a new secret).

Every workspace gets its own access secret, drawn once when the workspace is
made and kept with the engine's copy of its env, so later runs find it again
and never change it. The IDE reads it from the env and refuses requests that
do not carry it. ``auth: none`` leaves it out, for an IDE behind a proxy of
the user's own that authenticates.
"""

from __future__ import annotations

import ipaddress
import secrets
import urllib.parse

TOKEN_VAR = "WORKSPACE_ACCESS_TOKEN"
MODES = ("token", "none")
DEFAULT_MODE = "token"
TOKEN_BYTES = 32


def new_token():
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_for(mode, current_env):
    """The workspace's access secret: the one its env holds, a new one for a workspace without; None for none."""
    if (mode or DEFAULT_MODE) == "none":
        return None
    return (current_env or {}).get(TOKEN_VAR) or new_token()


def errors(explicit_env):
    """The access secret belongs to the collection: a task cannot set it through env."""
    if TOKEN_VAR in explicit_env:
        return [f"env.{TOKEN_VAR}: the collection sets it to the workspace's own access secret; remove it "
                f"(workspace_info with show_access: true returns the secret)"]
    return []


def _loopback(address):
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def warnings(mode, bind_address, route):
    """Why an IDE without an access secret may be open to others."""
    if mode != "none":
        return []
    reachable = [f"the ingress path {route['path']}"] if route else []
    if bind_address and not _loopback(bind_address):
        reachable.append(f"publish.bind_address {bind_address}")
    if not reachable:
        return []
    return [f"auth: none serves the IDE without authentication on {' and '.join(reachable)}; put an "
            f"authenticating proxy in front, or use auth: token"]


def shown(url, token):
    """What workspace_info returns with show_access: the secret, and the URL that opens the IDE with it."""
    if not token:
        return {"mode": "none", "token": None, "url": url}
    if not url:
        return {"mode": "token", "token": token, "url": None}
    parts = urllib.parse.urlsplit(url)
    query = "&".join(part for part in (parts.query, urllib.parse.urlencode({"token": token})) if part)
    return {"mode": "token", "token": token, "url": urllib.parse.urlunsplit(parts._replace(query=query))}
