"""Turn one HTTP response from Pipedrive into a JSON payload or a PipedriveError.

How the daily budget shows itself: Pipedrive answers 429 for both the 2-second burst limit and
the daily token budget. A burst 429 carries a reset of a couple of seconds; a budget 429 carries
a reset that runs to the next day and ``x-daily-requests-left: 0`` (the sandbox sends both). So a
429 whose ``x-daily-requests-left`` is 0, or whose reset exceeds DAILY_RESET_THRESHOLD_SECONDS,
means the budget is gone: retrying before the reset only burns goodwill with the CDN.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import httpx
import orjson

from integrations.sync.fingerprint import non_finite

from .errors import ErrorKind, PipedriveError

DAILY_RESET_THRESHOLD_SECONDS = 15 * 60
# A daily budget resets within a day; anything a header claims beyond two days is clamped to it.
MAX_RESET_SECONDS = 48 * 3600
EXCERPT_CHARS = 200

Redactor = Callable[[str], str]


def _excerpt(response: httpx.Response, redact: Redactor) -> str:
    # Redact the whole body before cutting it: a cut first could keep the start of a token.
    text = redact(response.content.decode("utf-8", errors="replace"))[: EXCERPT_CHARS * 4]
    text = " ".join(text.split())
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")


# 20 digits in a row: maybe an integer past 64 bits, which orjson would read as an inexact float.
# Found by mapping every digit to "0" and anything else to " ", then one substring search: a
# regular expression took longer on a 500-deal page (timestamps and ids are digits) than orjson.
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
LONG_NUMBER = b"0" * 20


def has_long_number(content: bytes) -> bool:
    return LONG_NUMBER in content.translate(_DIGITS_AS_ZEROS)


def _json_or_none(response: httpx.Response) -> object:
    content = response.content
    if not has_long_number(content):
        try:
            return orjson.loads(content)  # several times faster than json on a 500-deal page
        except orjson.JSONDecodeError:
            pass
    try:  # what orjson refuses or would round (NaN, an integer past 64 bits): read exactly, as before,
        # with NaN and Infinity marked so that the sync's canonical encoding keeps them (fingerprint.py)
        return json.loads(content, parse_constant=non_finite)
    except ValueError:
        return None


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


def _float_header(response: httpx.Response, name: str) -> float | None:
    """A numeric header; None when absent, not a number or not finite ('inf', 'nan')."""
    try:
        value = float(response.headers[name])
    except (KeyError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _reset_seconds(response: httpx.Response) -> float | None:
    """x-ratelimit-reset clamped to 0-48 h: a wild value ('1e308') must not overflow a timedelta."""
    reset = _float_header(response, "x-ratelimit-reset")
    return None if reset is None else min(max(reset, 0.0), MAX_RESET_SECONDS)


def _api_error_text(response: httpx.Response, redact: Redactor) -> str:
    body = _json_or_none(response)
    if isinstance(body, dict) and body.get("error"):
        return redact(str(body["error"]))[:EXCERPT_CHARS]
    return _excerpt(response, redact)


def _rate_limited(response: httpx.Response, where: str) -> PipedriveError:
    reset = _reset_seconds(response)
    daily_left = _float_header(response, "x-daily-requests-left")
    exhausted = daily_left == 0 or (reset is not None and reset > DAILY_RESET_THRESHOLD_SECONDS)
    if exhausted:
        message = (
            f"Pipedrive daily token budget is exhausted ({where}). Stop syncing until it resets"
            + (f" in about {reset / 3600:.1f} h" if reset is not None else "")
            + "; retrying earlier will not help."
        )
    else:
        message = f"Pipedrive rate limit hit (HTTP 429, {where}); retry after the reset."
    return PipedriveError(
        message,
        kind=ErrorKind.RATE_LIMITED,
        status_code=429,
        reset_seconds=reset,
        budget_exhausted=exhausted,
    )


def error_for_status(response: httpx.Response, where: str, redact: Redactor) -> PipedriveError | None:
    status = response.status_code
    if status < 400:
        return None
    if status == 429:
        return _rate_limited(response, where)
    if status == 403 and not _is_json(response):
        return PipedriveError(
            f"Pipedrive's CDN refused the request with an HTML 403 page ({where}), which it does"
            " after repeated rate-limit hits. Pause this integration for several minutes.",
            kind=ErrorKind.RATE_LIMITED,
            status_code=status,
        )
    detail = _api_error_text(response, redact)
    if status in (401, 403):
        return PipedriveError(
            f"Pipedrive rejected the API token (HTTP {status}, {where}): {detail}. Check the token"
            " and the company domain in the integration settings.",
            kind=ErrorKind.AUTH,
            status_code=status,
            detail=detail,
        )
    if status == 404:
        return PipedriveError(
            f"Not found in Pipedrive (HTTP 404, {where}): {detail}.",
            kind=ErrorKind.NOT_FOUND,
            status_code=status,
            detail=detail,
        )
    if status >= 500:
        return PipedriveError(
            f"Pipedrive server error (HTTP {status}, {where}): {detail}. Try again later.",
            kind=ErrorKind.TRANSIENT,
            status_code=status,
        )
    return PipedriveError(
        f"Pipedrive refused the request (HTTP {status}, {where}): {detail}.",
        kind=ErrorKind.BAD_REQUEST,
        status_code=status,
        detail=detail,
    )


def bad_response(message: str, response: httpx.Response | None, redact: Redactor) -> PipedriveError:
    excerpt = f" Body starts: {_excerpt(response, redact)!r}" if response is not None else ""
    return PipedriveError(
        message + excerpt,
        kind=ErrorKind.BAD_RESPONSE,
        status_code=response.status_code if response is not None else None,
    )


def payload(response: httpx.Response, where: str, redact: Redactor) -> dict:
    """The JSON body of a successful call, checked for Pipedrive's {success, data} envelope."""
    error = error_for_status(response, where, redact)
    if error is not None:
        raise error
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise bad_response(f"Pipedrive sent a body that is not a JSON object ({where}).", response, redact)
    if body.get("success") is not True or "data" not in body:
        raise bad_response(f"Pipedrive's response lacks success=true and data ({where}).", response, redact)
    return body
