"""What staff enter to connect a Pipedrive account, checked in one place: the company domain
("coeo" for coeo.pipedrive.com), the API token's shape, and where the token may be sent."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from integrations.providers import url_rules

from .client import TOKEN_PATTERN
from .errors import ErrorKind, PipedriveError

DOMAIN_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


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
    """Why the API token must not be sent to ``url`` ("" when it may): allowed are
    https://<company_domain>.pipedrive.com and PIPEDRIVE_ALLOWED_BASE_URLS (integrations/providers/url_rules.py)."""
    own_host = f"{company_domain}.pipedrive.com" if DOMAIN_PATTERN.match(company_domain or "") else None
    return url_rules.base_url_problem(
        url,
        name="The API base URL",
        is_own_host=lambda host: host == own_host,
        allowed=settings.PIPEDRIVE_ALLOWED_BASE_URLS,
        not_allowed=lambda shown: (
            f"The API token may be sent only to https://{company_domain or '<domain>'}.pipedrive.com, "
            f"not to {shown}. To use a proxy or the sandbox, add it to PIPEDRIVE_ALLOWED_BASE_URLS."
        ),
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
