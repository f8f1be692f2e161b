"""PipedriveClient: streaming reads of one Pipedrive account over API v2 (users over v1).

One class around one httpx.Client with a mandatory timeout and a bounded retry. Every failure
surfaces as PipedriveError (see errors.py); the API token travels only in the ``x-api-token``
header and is redacted from anything echoed back by the server.
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import httpx

from integrations.providers.base import PageCallback, PageInfo
from integrations.redaction import redact

from . import responses
from .costs import token_cost
from .errors import ErrorKind, PipedriveError
from .pacing import BurstPacer
from .records import Activity, CurrentUser, Deal, DealField, Organization, Person, Pipeline, Stage, User

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
RESET_JITTER_SECONDS = 0.5
ALL_DEAL_STATUSES = ("open", "won", "lost", "deleted")
# Pipedrive tokens are 40 hex characters; proxies and the sandbox use other ASCII letters, digits,
# "-" and "_". Anything else (a zero-width space, a space inside) is a paste gone wrong, and would
# otherwise fail deep in httpx with the token in the exception.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,200}")

R = TypeVar("R")


@dataclass(slots=True)
class ClientStats:
    """Calls that got an HTTP answer, and the token cost Pipedrive charged for them (429s and
    5xx answers are not charged). Counted under a lock: a download lists in several threads."""

    calls: int = 0
    token_cost: int = 0
    # Listed records with no usable id: skipped so one bad row never fails the whole listing.
    unreadable_records: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_call(self, cost: int) -> None:
        with self.lock:
            self.calls += 1
            self.token_cost += cost

    def count_unreadable(self) -> None:
        with self.lock:
            self.unreadable_records += 1


def _as_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PipedriveClient:
    # Every answer is decoded by responses.py, which reads NaN and Infinity as NonFinite: the sync
    # may then encode the records' payloads without walking them first (sync/clean.storable_json).
    MARKS_NON_FINITE = True

    def __init__(
        self,
        *,
        base_url: str,
        api_token: str,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 5,
        max_total_wait: float = 90.0,
        page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        if not api_token:
            raise ValueError("api_token is required")
        if not TOKEN_PATTERN.fullmatch(api_token):
            raise PipedriveError(
                "The stored API token has characters a Pipedrive token never has; enter it again.",
                kind=ErrorKind.BAD_REQUEST,
            )
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.base_url = base_url.rstrip("/")
        self._token = api_token
        # Shared by every thread of a download: the plan's burst limit, and a way to stop them all.
        self._pacer = BurstPacer()
        self._sleep = sleep or self._pacer.wait
        self._random = random.Random()
        self.max_retries = max_retries
        self.max_total_wait = max_total_wait
        self.page_size = page_size
        self.stats = ClientStats()
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"x-api-token": api_token, "accept": "application/json"},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"<PipedriveClient base_url={self.base_url!r} calls={self.stats.calls}>"

    def __enter__(self) -> PipedriveClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def interrupt(self) -> None:
        """Make every thread waiting to call Pipedrive (for a burst slot or a retry) stop now."""
        self._pacer.interrupt()

    # -- single records -------------------------------------------------------------------

    def get_current_user(self) -> CurrentUser:
        return self._parse(CurrentUser, self._get("/v1/users/me")["data"], "current user")

    def get_deal(self, deal_id: int) -> Deal:
        return self._parse(Deal, self._get(f"/api/v2/deals/{int(deal_id)}")["data"], "deal")

    # -- streams --------------------------------------------------------------------------

    def iter_deals(
        self,
        *,
        statuses: tuple[str, ...] = ALL_DEAL_STATUSES,
        updated_since: datetime | None = None,
        pipeline_id: int | None = None,
        sort_by: str = "update_time",
        on_page: PageCallback | None = None,
    ) -> Iterator[Deal]:
        params = {"status": ",".join(statuses), "sort_by": sort_by, "pipeline_id": pipeline_id}
        return self._stream("/api/v2/deals", "deals", Deal, params, updated_since, on_page)

    def iter_archived_deals(
        self, *, updated_since: datetime | None = None, on_page: PageCallback | None = None
    ) -> Iterator[Deal]:
        params = {"status": ",".join(ALL_DEAL_STATUSES), "sort_by": "update_time"}
        return self._stream("/api/v2/deals/archived", "archived deals", Deal, params, updated_since, on_page)

    def iter_stages(self, *, on_page: PageCallback | None = None) -> Iterator[Stage]:
        return self._stream("/api/v2/stages", "stages", Stage, {}, None, on_page)

    def iter_pipelines(self, *, on_page: PageCallback | None = None) -> Iterator[Pipeline]:
        return self._stream("/api/v2/pipelines", "pipelines", Pipeline, {}, None, on_page)

    def iter_persons(
        self, *, updated_since: datetime | None = None, on_page: PageCallback | None = None
    ) -> Iterator[Person]:
        return self._stream("/api/v2/persons", "persons", Person, {}, updated_since, on_page)

    def iter_organizations(
        self, *, updated_since: datetime | None = None, on_page: PageCallback | None = None
    ) -> Iterator[Organization]:
        return self._stream("/api/v2/organizations", "organizations", Organization, {}, updated_since, on_page)

    def iter_activities(
        self, *, updated_since: datetime | None = None, on_page: PageCallback | None = None
    ) -> Iterator[Activity]:
        params = {"sort_by": "update_time"}
        return self._stream("/api/v2/activities", "activities", Activity, params, updated_since, on_page)

    def iter_deal_fields(self, *, on_page: PageCallback | None = None) -> Iterator[DealField]:
        return self._stream("/api/v2/dealFields", "deal fields", DealField, {}, None, on_page)

    def iter_users(self, *, on_page: PageCallback | None = None) -> Iterator[User]:
        """v1 GET /users takes no paging parameters and returns every user in one response."""
        body = self._get("/v1/users")
        rows = self._rows(body, "users")
        users = [self._parse(User, row, "user") for row in rows]
        if on_page is not None:
            on_page(PageInfo("users", 1, len(users), len(users)))
        return iter(users)

    # -- a deal's changelog (stage history backfill: changelog.py reads the entries) ---------

    def iter_deal_changelog(self, deal_id: int) -> Iterator[Any]:
        """GET /v1/deals/{id}/changelog, newest first, every page (20 tokens each): the entries as
        sent, so that an unreadable one is reported by the reader rather than skipped here."""
        path = f"/v1/deals/{int(deal_id)}/changelog"
        return self._pages(path, "deal changelog", _AsSent, {"limit": self.page_size}, None)

    # -- plumbing -------------------------------------------------------------------------

    def _stream(
        self,
        path: str,
        resource: str,
        record: type[R],
        params: dict[str, Any],
        updated_since: datetime | None,
        on_page: PageCallback | None,
    ) -> Iterator[R]:
        query = {key: value for key, value in params.items() if value is not None}
        if updated_since is not None:
            query["updated_since"] = _as_utc(_require_aware(updated_since))
        query["limit"] = self.page_size
        return self._pages(path, resource, record, query, on_page, ahead=True)

    def _pages(
        self,
        path: str,
        resource: str,
        record: type[R],
        query: dict[str, Any],
        on_page: PageCallback | None,
        *,
        ahead: bool = False,
    ) -> Iterator[R]:
        """Every page's records, following the cursor. With `ahead`, the next page is asked for (in a
        helper thread) as soon as this page's cursor is known, and this page's records are built
        while it travels: the same requests, each page one round trip apart instead of a round trip
        plus the parsing. A caller that stops early may leave that one request made (the sync
        reads its listings to the end)."""
        cursor: str | None = None
        page_number = 0
        so_far = 0
        with ThreadPoolExecutor(1, thread_name_prefix="pipedrive-ahead") if ahead else nullcontext() as helper:
            answer: Callable[[], dict] | None = self._ask(helper, path, query)
            while answer is not None:
                body = answer()
                page_number += 1
                rows = self._rows(body, resource)
                next_cursor = _next_cursor(body)
                repeated = next_cursor is not None and next_cursor == cursor
                answer = None
                if next_cursor and not repeated:
                    answer = self._ask(helper, path, {**query, "cursor": next_cursor})
                for row in rows:
                    parsed = self._parse_listed(record, row, resource)
                    if parsed is not None:
                        yield parsed
                so_far += len(rows)
                if on_page is not None:
                    on_page(PageInfo(resource, page_number, len(rows), so_far))
                if repeated:
                    raise PipedriveError(
                        f"Pipedrive returned the same cursor twice while listing {resource}.",
                        kind=ErrorKind.BAD_RESPONSE,
                    )
                cursor = next_cursor

    def _ask(self, helper: ThreadPoolExecutor | None, path: str, params: dict[str, Any]) -> Callable[[], dict]:
        """The answer to GET path: asked for now in the helper thread, or when called."""
        if helper is None:
            return partial(self._get, path, params)
        return helper.submit(self._get, path, params).result

    def _rows(self, body: dict, resource: str) -> list:
        rows = body["data"]
        if rows is None:
            return []
        if not isinstance(rows, list):
            raise PipedriveError(
                f"Pipedrive's {resource} page has data of type {type(rows).__name__}, not a list.",
                kind=ErrorKind.BAD_RESPONSE,
            )
        return rows

    def _parse_listed(self, record: type[R], row: Any, resource: str) -> R | None:
        """A listed row that cannot be read (no usable id: every other field is read leniently) is
        counted and skipped; the other records of the page still sync."""
        try:
            return self._parse(record, row, resource)
        except PipedriveError as error:
            self.stats.count_unreadable()
            logger.warning("Skipped an unreadable record while listing %s: %s", resource, error)
            return None

    def _parse(self, record: type[R], row: Any, resource: str) -> R:
        try:
            return record.from_api(row)  # type: ignore[attr-defined]
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
            raise PipedriveError(
                f"A {resource} record from Pipedrive has an unexpected shape"
                f" ({type(exc).__name__}: {self._redact(str(exc))[:120]}).",
                kind=ErrorKind.BAD_RESPONSE,
            ) from None

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict:
        return self._request("GET", path, params)

    def _request(
        self, method: str, path: str, params: dict[str, Any] | None = None, *, json: dict | None = None
    ) -> dict:
        where = f"{method} {path}"
        waited = 0.0
        attempt = 0
        while True:
            try:
                return self._attempt(method, path, params, where, json)
            except PipedriveError as error:
                wait = self._retry_wait(error, attempt)
                if method == "POST" and error.kind is not ErrorKind.RATE_LIMITED:
                    # A POST that failed after reaching Pipedrive may have created the record: never
                    # repeated (a 429 was refused before any work, so waiting it out is safe).
                    wait = None
                if wait is None or attempt >= self.max_retries or waited + wait > self.max_total_wait:
                    if wait is not None:
                        error.message += f" Gave up after {attempt + 1} attempts and {waited:.1f} s of waiting."
                        error.args = (error.message,)
                    raise
                attempt += 1
                waited += wait
                logger.warning(
                    "Pipedrive %s failed (%s, status %s); retry %d/%d in %.1f s",
                    where,
                    error.kind.name,
                    error.status_code,
                    attempt,
                    self.max_retries,
                    wait,
                )
                self._sleep(wait)

    def _attempt(
        self, method: str, path: str, params: dict[str, Any] | None, where: str, json: dict | None = None
    ) -> dict:
        self._pacer.acquire()
        response = None
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise PipedriveError(
                f"Pipedrive did not answer in time ({where}: {type(exc).__name__}). Try again later.",
                kind=ErrorKind.TRANSIENT,
            ) from None
        except httpx.ConnectError as exc:
            # Usually a wrong API base URL (nothing listens there): name it, never the token.
            raise PipedriveError(
                f"Could not connect to {self.base_url} ({where}: {type(exc).__name__}). Check the API"
                " base URL; try again later if it is right.",
                kind=ErrorKind.TRANSIENT,
            ) from None
        except httpx.TransportError as exc:
            raise PipedriveError(
                f"Connection to Pipedrive failed ({where}: {type(exc).__name__}). Try again later.",
                kind=ErrorKind.TRANSIENT,
            ) from None
        except httpx.HTTPError as exc:  # e.g. a body that claims gzip and is not
            raise PipedriveError(
                f"Pipedrive's answer could not be read ({where}: {type(exc).__name__}).",
                kind=ErrorKind.BAD_RESPONSE,
            ) from None
        finally:
            # A 429's own reset is waited out by the retry; other answers teach the plan's limit.
            self._pacer.release(None if response is None or response.status_code == 429 else response.headers)
        status = response.status_code
        charged = status < 300 or 400 <= status < 500 and status != 429  # not redirects, 429s or 5xx
        self.stats.count_call(token_cost(method, path) if charged else 0)
        if 300 <= response.status_code < 400:
            # Never followed: the token would go along to wherever it points.
            raise PipedriveError(
                f"Pipedrive answered with a redirect (HTTP {response.status_code}, {where}), which is"
                " not followed. Check the API base URL.",
                kind=ErrorKind.BAD_REQUEST,
                status_code=response.status_code,
            )
        return responses.payload(response, where, self._redact)

    def _retry_wait(self, error: PipedriveError, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when retrying cannot help."""
        if error.kind is ErrorKind.TRANSIENT:
            return self._backoff(attempt)
        if error.kind is ErrorKind.RATE_LIMITED and error.status_code == 429 and not error.budget_exhausted:
            if error.reset_seconds is None:
                return self._backoff(attempt)
            return max(error.reset_seconds, 0.0) + self._random.uniform(0, RESET_JITTER_SECONDS)
        return None

    def _backoff(self, attempt: int) -> float:
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
        return self._random.uniform(ceiling / 2, ceiling)

    def _redact(self, text: str) -> str:
        return redact(text, self._token)


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("updated_since must be a timezone-aware datetime")
    return moment


def _next_cursor(body: dict) -> str | None:
    additional = body.get("additional_data")
    if not isinstance(additional, dict):
        return None
    cursor = additional.get("next_cursor")
    return str(cursor) if cursor else None


class _AsSent:
    """A listed row kept as sent (iter_deal_changelog)."""

    @staticmethod
    def from_api(row: Any) -> Any:
        return row
