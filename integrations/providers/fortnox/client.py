"""FortnoxClient: paced, bounded reads of one Fortnox account over API v3.

The bearer token comes from a token source (tokens.access_token, bound to the integration), asked
before every request, so a refresh by another worker is picked up; a 401 asks once for a renewed
token and tries again. Requests wait their turn in the tenant's 25-per-5-s window (pacing.py); a
429 or 5xx is retried with backoff a bounded number of times. Every failure is a FortnoxError.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx

from integrations.providers.base import PageCallback, PageInfo
from integrations.redaction import redact

from .errors import ErrorKind, FortnoxError
from .http import DEFAULT_TIMEOUT, excerpt, send
from .pacing import Pacer
from .records import Account, CompanyInfo, FinancialYear, Invoice

logger = logging.getLogger(__name__)

PAGE_SIZE = 500
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
# Fortnox reads `lastmodified` as Swedish local time.
FORTNOX_TZ = ZoneInfo("Europe/Stockholm")
R = TypeVar("R")
TokenSource = Callable[[str], str]  # (a token the API refused, or "") -> a usable token


@dataclass(slots=True)
class ClientStats:
    calls: int = 0
    token_cost: int = 0  # Fortnox charges no tokens; kept for the run log's shape
    unreadable_records: int = 0
    paced_seconds: float = 0.0
    rate_limited: int = 0


class FortnoxClient:
    def __init__(
        self,
        *,
        base_url: str,
        token_source: TokenSource,
        pacer: Pacer,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 5,
        page_size: int = PAGE_SIZE,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token_source = token_source
        self._pacer = pacer
        self._sleep = sleep
        self._random = random.Random()
        self._secrets = secrets
        self._token = ""
        self.max_retries = max_retries
        self.page_size = page_size
        self.stats = ClientStats()
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"<FortnoxClient base_url={self.base_url!r} calls={self.stats.calls}>"

    def __enter__(self) -> FortnoxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    # -- resources ------------------------------------------------------------------------

    def company_information(self) -> CompanyInfo:
        body = self._json("/3/companyinformation")
        return self._parse(CompanyInfo, body.get("CompanyInformation"), "company information")

    def financial_years(self, *, on_page: PageCallback | None = None) -> list[FinancialYear]:
        return list(self._pages("/3/financialyears", "FinancialYears", FinancialYear, {}, on_page))

    def iter_accounts(self, financial_year_id: int, *, on_page: PageCallback | None = None) -> Iterator[Account]:
        return self._pages("/3/accounts", "Accounts", Account, {"financialyear": financial_year_id}, on_page)

    def iter_invoices(
        self, *, modified_since: datetime | None = None, on_page: PageCallback | None = None
    ) -> Iterator[Invoice]:
        query = {}
        if modified_since is not None:
            query["lastmodified"] = modified_since.astimezone(FORTNOX_TZ).strftime("%Y-%m-%d %H:%M")
        return self._pages("/3/invoices", "Invoices", Invoice, query, on_page)

    def sie(self, sie_type: int, financial_year_id: int) -> bytes:
        """The SIE file (CP437 bytes) of one financial year; type 2 has period balances."""
        return self._request(f"/3/sie/{int(sie_type)}", {"financialyear": financial_year_id}).content

    # -- plumbing -------------------------------------------------------------------------

    def _pages(self, path: str, key: str, record: type[R], query: dict, on_page) -> Iterator[R]:
        page, so_far = 1, 0
        while True:
            body = self._json(path, {**query, "page": page, "limit": self.page_size})
            rows = body.get(key)
            if not isinstance(rows, list):
                raise FortnoxError(f"Fortnox's {path} page {page} has no {key} list.", kind=ErrorKind.BAD_RESPONSE)
            for row in rows:
                parsed = self._parse_listed(record, row, key)
                if parsed is not None:
                    yield parsed
            so_far += len(rows)
            if on_page is not None:
                on_page(PageInfo(key, page, len(rows), so_far))
            total_pages = _total_pages(body.get("MetaInformation"), path)
            if page >= total_pages:
                return
            page += 1

    def _parse_listed(self, record: type[R], row: Any, key: str) -> R | None:
        try:
            return self._parse(record, row, key)
        except FortnoxError as error:
            self.stats.unreadable_records += 1
            logger.warning("Skipped an unreadable record while listing %s: %s", key, error)
            return None

    def _parse(self, record: type[R], row: Any, what: str) -> R:
        try:
            return record.from_api(row)  # type: ignore[attr-defined]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FortnoxError(
                f"A {what} record from Fortnox has an unexpected shape ({type(exc).__name__}: "
                f"{self._redact(str(exc))[:120]}).",
                kind=ErrorKind.BAD_RESPONSE,
            ) from None

    def _json(self, path: str, params: dict | None = None) -> dict:
        response = self._request(path, params)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise FortnoxError(f"Fortnox's answer to GET {path} is not a JSON object.", kind=ErrorKind.BAD_RESPONSE)
        return body

    def _request(self, path: str, params: dict | None = None) -> httpx.Response:
        where = f"GET {path}"
        attempt, refused = 0, ""
        while True:
            self.stats.paced_seconds += self._pacer.wait_turn()
            token = self._token = self._token_source(refused)
            request = self._http.build_request("GET", path, params=params, headers=_headers(token))
            try:
                response = send(self._http, request, where)
            except FortnoxError as error:
                wait = self._retry_wait(error, attempt)
                if wait is None:
                    raise
                attempt += 1
                self._sleep(wait)
                continue
            self.stats.calls += 1
            if response.status_code == 401 and not refused:
                refused = token  # expired or revoked early: renew once, then try again
                continue
            if response.is_success:
                return response
            error = self._error(response, where)
            wait = self._retry_wait(error, attempt)
            if wait is None:
                raise error
            attempt += 1
            logger.warning(
                "Fortnox %s: HTTP %s, retry %d/%d in %.1f s",
                where,
                response.status_code,
                attempt,
                self.max_retries,
                wait,
            )
            self._sleep(wait)

    def _error(self, response: httpx.Response, where: str) -> FortnoxError:
        status = response.status_code
        if status == 429:
            self.stats.rate_limited += 1
            kind, text = ErrorKind.RATE_LIMITED, "Fortnox rate limit hit (HTTP 429)"
        elif status >= 500:
            kind, text = ErrorKind.TRANSIENT, f"Fortnox failed (HTTP {status})"
        elif status in (401, 403):
            kind, text = ErrorKind.AUTH, f"Fortnox refused the access token (HTTP {status})"
        elif status == 404:
            kind, text = ErrorKind.NOT_FOUND, "Fortnox found no such resource (HTTP 404)"
        else:
            kind, text = ErrorKind.BAD_REQUEST, f"Fortnox refused the request (HTTP {status})"
        return FortnoxError(f"{text}, {where}: {excerpt(response, self._redact)}", kind=kind, status_code=status)

    def _retry_wait(self, error: FortnoxError, attempt: int) -> float | None:
        if error.kind not in (ErrorKind.RATE_LIMITED, ErrorKind.TRANSIENT) or attempt >= self.max_retries:
            return None
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
        return self._random.uniform(ceiling / 2, ceiling)

    def _redact(self, text: str) -> str:
        return redact(text, *self._secrets, self._token)


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _total_pages(meta: Any, path: str) -> int:
    try:
        return int(meta["@TotalPages"])
    except (KeyError, TypeError, ValueError):
        raise FortnoxError(
            f"Fortnox's {path} page has no usable MetaInformation.", kind=ErrorKind.BAD_RESPONSE
        ) from None
