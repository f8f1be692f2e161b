"""Where a provider's secrets may be sent: one rule for every provider's base URLs.

Allowed: the provider's own hosts over https on port 443, and the entries of the provider's
allow-list setting (scheme://host[:port], "*" for any port). Plain http only to a loopback address
(the sandboxes). A base URL is only scheme://host[:port]: no user, password, path or query.
Messages name the URL without any user:password part.
"""

import ipaddress
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def base_url_problem(
    url: str,
    *,
    name: str,
    is_own_host: Callable[[str], bool],
    allowed: Iterable[str],
    not_allowed: Callable[[str], str],
) -> str:
    """Why nothing secret may be sent to ``url`` ("" when it may). ``name`` starts each message
    ("The API base URL"); ``not_allowed`` is the message for a host that is neither the
    provider's nor allowed, given the URL as shown."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return f"{name} is not a valid URL."
    host = (parts.hostname or "").lower()
    shown = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    if parts.username is not None or parts.password is not None:
        return f"{name} must not contain a user name or password ({shown})."
    if parts.path.strip("/") or parts.query or parts.fragment:
        return f"{name} must be only scheme://host[:port], without a path or query ({shown})."
    if parts.scheme not in DEFAULT_PORTS or not host:
        return f"{name} must start with https:// ({shown})."
    if parts.scheme == "http" and not is_loopback(host):
        return f"Plain http is allowed only to a loopback address such as 127.0.0.1 ({shown})."
    if parts.scheme == "https" and port == 443 and is_own_host(host):
        return ""
    if any(_matches(entry, parts.scheme, host, port) for entry in allowed):
        return ""
    return not_allowed(shown)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it could resolve anywhere


def _matches(entry: str, scheme: str, host: str, port: int | None) -> bool:
    """One allow-list entry, scheme://host[:port] with "*" for any port."""
    entry = entry.strip().rstrip("/")
    any_port = entry.endswith(":*")
    try:
        parts = urlsplit(entry[:-2] if any_port else entry)
        allowed_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    return parts.scheme == scheme and (parts.hostname or "").lower() == host and (any_port or allowed_port == port)
