"""Where Fortnox tokens and the client secret may be sent: FORTNOX_AUTH_BASE_URL and
FORTNOX_API_BASE_URL, checked on every use. Allowed: Fortnox's own hosts over https, and the
entries of FORTNOX_ALLOWED_BASE_URLS (scheme://host[:port], "*" for any port), where plain http
is accepted only to a loopback address (the sandbox)."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

from .errors import ErrorKind, FortnoxError

FORTNOX_HOSTS = frozenset({"apps.fortnox.se", "api.fortnox.se"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def base_url_problem(url: str) -> str:
    """Why nothing secret may be sent to ``url`` ("" when it may)."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return "The Fortnox base URL is not a valid URL."
    host = (parts.hostname or "").lower()
    shown = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    if parts.username is not None or parts.password is not None:
        return f"The Fortnox base URL must not contain a user name or password ({shown})."
    if parts.path.strip("/") or parts.query or parts.fragment:
        return f"The Fortnox base URL must be only scheme://host[:port] ({shown})."
    if parts.scheme not in DEFAULT_PORTS or not host:
        return f"The Fortnox base URL must start with https:// ({shown})."
    if parts.scheme == "http" and not _is_loopback(host):
        return f"Plain http is allowed only to a loopback address such as 127.0.0.1 ({shown})."
    if parts.scheme == "https" and port == 443 and host in FORTNOX_HOSTS:
        return ""
    if any(_matches(entry, parts.scheme, host, port) for entry in settings.FORTNOX_ALLOWED_BASE_URLS):
        return ""
    return (
        f"Fortnox credentials may be sent only to Fortnox's own hosts, not to {shown}: "
        "add it to FORTNOX_ALLOWED_BASE_URLS."
    )


def _checked(url: str) -> str:
    url = (url or "").rstrip("/")
    problem = base_url_problem(url)
    if problem:
        raise FortnoxError(problem, kind=ErrorKind.BAD_REQUEST)
    return url


def auth_base_url() -> str:
    return _checked(settings.FORTNOX_AUTH_BASE_URL)


def api_base_url() -> str:
    return _checked(settings.FORTNOX_API_BASE_URL)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name could resolve anywhere


def _matches(entry: str, scheme: str, host: str, port: int | None) -> bool:
    entry = entry.strip().rstrip("/")
    any_port = entry.endswith(":*")
    try:
        parts = urlsplit(entry[:-2] if any_port else entry)
        allowed_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    return parts.scheme == scheme and (parts.hostname or "").lower() == host and (any_port or allowed_port == port)
