"""Listing pages built once per query: the benchmarks' sandbox (opt-in, `Sandbox(cache_pages=True)`).

The sandbox stands in for Pipedrive's servers, whose CPU is not the sync's; on the benchmark's
machine its page building (the rows of a 500-deal page and their JSON, about 10 ms) shares the
cores with the sync it is measured against. A cached answer is the exact bytes the same query got
when the store was at the same version; rate limits, token costs, headers and faults are still
decided per request (app.py). Only the listings are kept, and only successful answers: everything
else is built per request as before. Off by default: tests change store rows in place, which the
store's version does not see.
"""

from __future__ import annotations

import threading

from .endpoints import Request

# Resources answered by endpoints._listing: a function of the query and the store alone.
LISTINGS = frozenset({"deals", "archived_deals", "stages", "pipelines", "persons", "organizations", "activities"})


class PageCache:
    def __init__(self) -> None:
        self._pages: dict[tuple, bytes] = {}
        self._version: int | None = None
        self._lock = threading.Lock()

    @staticmethod
    def key(resource: str, request: Request, version: int) -> tuple | None:
        """None for what is never cached."""
        if request.method != "GET" or resource not in LISTINGS:
            return None
        return (version, resource, tuple(sorted(request.query.items())))

    def get(self, key: tuple | None) -> bytes | None:
        if key is None:
            return None
        with self._lock:
            return self._pages.get(key)

    def put(self, key: tuple | None, payload: bytes) -> None:
        if key is None:
            return
        with self._lock:
            if self._version is not None and key[0] < self._version:
                return  # built before the store changed
            if key[0] != self._version:  # the store changed: earlier pages are never asked for again
                self._pages.clear()
                self._version = key[0]
            self._pages[key] = payload
