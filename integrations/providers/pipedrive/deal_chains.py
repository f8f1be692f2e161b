"""The deals listing as several cursor chains fetched at once (EntitySpec.split).

One chain of 500-deal pages is one round trip per page, one after the other: at 100,000 deals
and 0.1 s that alone is 20 s. So a large listing is fetched as several chains at once:

- a full listing is split by status into open deals and closed ones (won, lost, deleted), unless
  the cache says it is small (fewer than GROUP_FROM_CACHED deals; a first sync cannot know);
- each part is listed from both ends at once, by update_time ascending and descending, the two
  chains stopping where they meet; the descending one starts only once the ascending one has
  fetched SECOND_END_AFTER_PAGES pages and has more, so that a short listing costs what it did;
- when more than one chain ran, a closing chain lists every deal changed since the listing began
  (all statuses, ascending, like the unsplit listing: usually one page).

Why the closing chain: a deal edited while the chains run can move (to the top of the update_time
order, or to another status) past every chain that could have listed it. Its update_time is then
after the listing began, so the closing chain lists it, as the unsplit listing would have at its
end. With it, every deal that exists is listed at least once and its newest copy last (the
chains' pages are all delivered before the closing chain starts): the seen sets of a full sync and
the high-water marks are exactly those of the unsplit listing. The listing's start is taken from
our clock minus CLOCK_MARGIN, for Pipedrive's clock may run behind ours.

Calls, against the one chain of today (k parts, P pages in all): the parts' last pages are partial
(at most k - 1 more pages), the two ends of a part meet inside a page that both may fetch (at most
one more per part that reached its second end), and the closing chain (usually one page): at
most 2k more calls, k = 2 for a full listing, 1 for an incremental one. An incremental listing of
SECOND_END_AFTER_PAGES pages or fewer is one chain, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.providers.base import PageCallback, PageInfo

from .client import ALL_DEAL_STATUSES
from .records import Deal

CLOSED_DEAL_STATUSES = ("won", "lost", "deleted")
GROUP_FROM_CACHED = 5_000
SECOND_END_AFTER_PAGES = 3
CLOCK_MARGIN = timedelta(minutes=5)

_NEVER = datetime.min.replace(tzinfo=UTC)
_BOTTOM: tuple = (_NEVER, -1)
_TOP: tuple = (datetime.max.replace(tzinfo=UTC), 1 << 62)


def deal_chains(client: Any, since: datetime | None, cached_rows: int) -> tuple:
    """The chains that together list what client.iter_deals(updated_since=since) lists."""
    split = since is None and (cached_rows == 0 or cached_rows >= GROUP_FROM_CACHED)
    parts = (("open",), CLOSED_DEAL_STATUSES) if split else (ALL_DEAL_STATUSES,)
    return SplitListing(client, since, parts).chains()


def _key(deal: Deal) -> tuple:
    return (deal.update_time or _NEVER, deal.id)


class _Ends:
    """One part listed from both ends: where each end has got to, and whether they met."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.low: tuple | None = None  # the ascending chain's last key
        self.high: tuple | None = None  # the descending chain's last key
        self.pages = 0
        self.second_end_wanted = False
        self.decided = threading.Event()  # set once the second end is wanted, or never will be

    def met(self) -> bool:
        return self.low is not None and self.high is not None and self.low >= self.high

    def ascending_goes_on(self) -> bool:
        with self.lock:
            self.pages += 1
            if self.pages == SECOND_END_AFTER_PAGES and not self.decided.is_set():
                self.second_end_wanted = True
                self.decided.set()
            return not self.met()


class SplitListing:
    def __init__(self, client: Any, since: datetime | None, parts: tuple[tuple[str, ...], ...]) -> None:
        self.client = client
        self.since = since
        self.parts = parts
        started = datetime.now(UTC) - CLOCK_MARGIN
        self.closing_since = started if since is None else max(since, started)
        self._lock = threading.Lock()
        self._running = 2 * len(parts)
        self._failed = False
        self._second_ends_ran = False
        self._pages = self._records = 0
        self._reporting = threading.Lock()

    def chains(self) -> tuple[Callable[[PageCallback], Iterator[Deal]], ...]:
        chains = []
        for statuses in self.parts:
            ends = _Ends()
            for run in (self._ascending, self._descending):
                chains.append(
                    lambda on_page, r=run, s=statuses, e=ends: self._counted(r(s, e, self._totals(on_page)), on_page)
                )
        return tuple(chains)

    def _totals(self, on_page: PageCallback) -> PageCallback:
        """Progress as one listing: pages and records of every chain counted together."""

        def report(info: PageInfo) -> None:
            with self._reporting:  # held while reporting, so the totals are reported in order
                self._pages += 1
                self._records += info.records_on_page
                on_page(PageInfo(info.resource, self._pages, info.records_on_page, self._records))

        return report

    def _ascending(self, statuses: tuple[str, ...], ends: _Ends, on_page: PageCallback) -> Iterator[Deal]:
        try:
            deals = self.client.iter_deals(
                statuses=statuses, updated_since=self.since, on_page=on_page, more=ends.ascending_goes_on
            )
            for deal in deals:
                ends.low = max(ends.low or _BOTTOM, _key(deal))
                yield deal
            if not ends.met():
                ends.low = _TOP  # listed to the end: the other end has nothing left to do
        finally:
            ends.decided.set()  # a second end not wanted by now is not needed (or we failed)

    def _descending(self, statuses: tuple[str, ...], ends: _Ends, on_page: PageCallback) -> Iterator[Deal]:
        ends.decided.wait()
        if not ends.second_end_wanted or ends.met():
            return
        with self._lock:
            self._second_ends_ran = True
        deals = self.client.iter_deals(
            statuses=statuses,
            updated_since=self.since,
            sort_direction="desc",
            on_page=on_page,
            more=lambda: not ends.met(),
        )
        for deal in deals:
            ends.high = min(ends.high or _TOP, _key(deal))
            yield deal
        if not ends.met():
            ends.high = _BOTTOM

    def _counted(self, chain: Iterator[Deal], on_page: PageCallback) -> Iterator[Deal]:
        """The chain's deals; the last chain to end runs the closing chain when it is needed."""
        failed = True
        try:
            yield from chain
            failed = False
        finally:
            with self._lock:
                self._running -= 1
                self._failed = self._failed or failed
                last = self._running == 0 and not self._failed
                closing = last and (len(self.parts) > 1 or self._second_ends_ran)
        if closing:
            yield from self.client.iter_deals(updated_since=self.closing_since, on_page=self._totals(on_page))
