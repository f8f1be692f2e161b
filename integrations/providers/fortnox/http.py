"""One HTTP exchange with Fortnox, failures turned into FortnoxError: no redirects followed (the
token would go along), network errors named without any secret, bodies redacted before quoting."""

from collections.abc import Callable

import httpx

from .errors import ErrorKind, FortnoxError

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
EXCERPT_CHARS = 200


def send(http: httpx.Client, request: httpx.Request, where: str) -> httpx.Response:
    try:
        response = http.send(request, follow_redirects=False)
    except httpx.TimeoutException as exc:
        raise FortnoxError(
            f"Fortnox did not answer in time ({where}: {type(exc).__name__}).", kind=ErrorKind.TRANSIENT
        ) from None
    except httpx.TransportError as exc:
        raise FortnoxError(
            f"Could not reach Fortnox ({where}: {type(exc).__name__}); check the base URL or try again later.",
            kind=ErrorKind.TRANSIENT,
        ) from None
    if 300 <= response.status_code < 400:
        raise FortnoxError(
            f"Fortnox answered with a redirect (HTTP {response.status_code}, {where}), which is not followed.",
            kind=ErrorKind.BAD_REQUEST,
            status_code=response.status_code,
        )
    return response


def excerpt(response: httpx.Response, redact: Callable[[str], str]) -> str:
    """A short, redacted piece of the body (redacted whole before it is cut)."""
    text = " ".join(redact(response.content.decode("utf-8", errors="replace")).split())
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")
