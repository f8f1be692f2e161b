"""Where Fortnox tokens and the client secret may be sent: FORTNOX_AUTH_BASE_URL and
FORTNOX_API_BASE_URL, checked on every use. Allowed: Fortnox's own hosts over https, and the
entries of FORTNOX_ALLOWED_BASE_URLS (scheme://host[:port], "*" for any port), where plain http
is accepted only to a loopback address (the sandbox)."""

from django.conf import settings

from integrations.providers import url_rules

from .errors import ErrorKind, FortnoxError

FORTNOX_HOSTS = frozenset({"apps.fortnox.se", "api.fortnox.se"})


def base_url_problem(url: str) -> str:
    """Why nothing secret may be sent to ``url`` ("" when it may)."""
    return url_rules.base_url_problem(
        url,
        name="The Fortnox base URL",
        is_own_host=FORTNOX_HOSTS.__contains__,
        allowed=settings.FORTNOX_ALLOWED_BASE_URLS,
        not_allowed=lambda shown: (
            f"Fortnox credentials may be sent only to Fortnox's own hosts, not to {shown}: "
            "add it to FORTNOX_ALLOWED_BASE_URLS."
        ),
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
