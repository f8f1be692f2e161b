"""What staff enter to connect a Pipedrive account, checked in one place: the company domain
("coeo" for coeo.pipedrive.com), the API token's shape, and where the token may be sent."""

import ipaddress
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from .client import TOKEN_PATTERN
from .errors import ErrorKind, PipedriveError

DOMAIN_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_company_domain(value: str) -> str:
    """Turn "https://Coeo.pipedrive.com/deals" or "coeo.pipedrive.com" into "coeo"."""
    text = (value or "").strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.split("/", 1)[0]
    if text.endswith(".pipedrive.com"):
        text = text[: -len(".pipedrive.com")]
    return text


def validate_company_domain(value: str) -> None:
    if not DOMAIN_PATTERN.match(value or ""):
        raise ValidationError(
            "Enter the Pipedrive company domain: lowercase letters, digits and hyphens, "
            "such as “coeo” for coeo.pipedrive.com (a pasted https://coeo.pipedrive.com/ "
            "is fine too).",
            code="invalid_domain",
        )


def validate_api_token(value: str) -> None:
    """The message never repeats the token: it may end up on a page or in a log."""
    if not TOKEN_PATTERN.fullmatch(value or ""):
        raise ValidationError(
            "That is not a Pipedrive API token: it may contain only letters, digits, “-” and “_” "
            "(a pasted token sometimes carries an invisible character or a space). Copy it again "
            "from Pipedrive → Personal preferences → API.",
            code="invalid_token",
        )


def base_url_problem(url: str, *, company_domain: str) -> str:
    """Why the API token must not be sent to ``url`` ("" when it may).

    Allowed: https://<company_domain>.pipedrive.com, and the base URLs listed in
    PIPEDRIVE_ALLOWED_BASE_URLS; plain http only to a loopback address. Messages name the
    URL without any user:password part.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return "The API base URL is not a valid URL."
    shown = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    if parts.username is not None or parts.password is not None:
        return f"The API base URL must not contain a user name or password ({shown})."
    if parts.path.strip("/") or parts.query or parts.fragment:
        return f"The API base URL must be only scheme://host[:port], without a path or query ({shown})."
    host = (parts.hostname or "").lower()
    if parts.scheme not in DEFAULT_PORTS or not host:
        return f"The API base URL must start with https:// ({shown})."
    if parts.scheme == "http" and not _is_loopback(host):
        return f"Plain http is allowed only to a loopback address such as 127.0.0.1 ({shown})."
    if parts.scheme == "https" and port == 443 and DOMAIN_PATTERN.match(company_domain or ""):
        if host == f"{company_domain}.pipedrive.com":
            return ""
    if any(_matches(allowed, parts.scheme, host, port) for allowed in settings.PIPEDRIVE_ALLOWED_BASE_URLS):
        return ""
    return (
        f"The API token may be sent only to https://{company_domain or '<domain>'}.pipedrive.com, "
        f"not to {shown}. To use a proxy or the sandbox, add it to PIPEDRIVE_ALLOWED_BASE_URLS."
    )


def api_base_url(settings: dict) -> str:
    """Where the client sends the token, from an integration's settings; checked on every use (not
    only in the form), so a URL saved before the rules or written around the form is refused."""
    domain = settings.get("company_domain", "")
    url = (settings.get("api_base_url") or f"https://{domain}.pipedrive.com").rstrip("/")
    problem = base_url_problem(url, company_domain=domain)
    if problem:
        raise PipedriveError(problem, kind=ErrorKind.BAD_REQUEST)
    return url


def validate_base_url(url: str, *, company_domain: str) -> None:
    problem = base_url_problem(url, company_domain=company_domain)
    if problem:
        raise ValidationError(problem, code="base_url_not_allowed")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it could resolve anywhere


def _matches(allowed: str, scheme: str, host: str, port: int | None) -> bool:
    """One PIPEDRIVE_ALLOWED_BASE_URLS entry, scheme://host[:port] with "*" for any port."""
    entry = allowed.strip().rstrip("/")
    any_port = entry.endswith(":*")
    try:
        parts = urlsplit(entry[:-2] if any_port else entry)
        allowed_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    return parts.scheme == scheme and (parts.hostname or "").lower() == host and (any_port or allowed_port == port)
