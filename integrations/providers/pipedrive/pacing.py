"""BurstPacer: keep one client's threads within Pipedrive's burst limit (requests per rolling 2 s).

A request holds a slot from the moment it is sent until WINDOW seconds after its answer arrived.
Pipedrive counts the request at some moment in between, so however long the answer took, no
rolling window on Pipedrive's side ever holds more requests than there are slots. The number of
slots is the plan's limit, learned from every answer's x-ratelimit-limit (until the first answer:
the lowest plan's); an answer saying x-ratelimit-remaining: 0 (other users of the same token)
holds every new request until its x-ratelimit-reset.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

WINDOW_SECONDS = 2.0
LOWEST_PLAN_LIMIT = 20  # Lite: api_token requests per 2 s
MAX_PAUSE_SECONDS = 10.0  # a burst reset is a couple of seconds; the daily budget is handled apart


class Interrupted(Exception):
    """The client was interrupted (another thread of the same download failed): stop now."""


class BurstPacer:
    def __init__(self, *, limit: int = LOWEST_PLAN_LIMIT, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._changed = threading.Condition()
        self._in_flight = 0
        self._expiries: deque[float] = deque()  # when answered requests free their slots, in order
        self._paused_until = 0.0
        self._interrupted = False

    def acquire(self) -> None:
        """Wait for a free slot (raises Interrupted once interrupt() was called)."""
        with self._changed:
            while True:
                if self._interrupted:
                    raise Interrupted
                now = self._clock()
                while self._expiries and self._expiries[0] <= now:
                    self._expiries.popleft()
                if now >= self._paused_until and self._in_flight + len(self._expiries) < self.limit:
                    self._in_flight += 1
                    return
                if now < self._paused_until:
                    wake = self._paused_until
                else:
                    wake = self._expiries[0] if self._expiries else None
                self._changed.wait(None if wake is None else wake - now)

    def release(self, headers: Mapping[str, str] | None = None) -> None:
        """The request got an answer (or failed): its slot frees WINDOW seconds from now."""
        with self._changed:
            now = self._clock()
            self._in_flight -= 1
            self._expiries.append(now + WINDOW_SECONDS)
            if headers is not None:
                self._learn(headers, now)
            self._changed.notify_all()

    def interrupt(self) -> None:
        with self._changed:
            self._interrupted = True
            self._changed.notify_all()

    def wait(self, seconds: float) -> None:
        """Sleep, but end at once (raising Interrupted) when interrupted."""
        with self._changed:
            deadline = self._clock() + seconds
            while not self._interrupted and (left := deadline - self._clock()) > 0:
                self._changed.wait(left)
            if self._interrupted:
                raise Interrupted

    def _learn(self, headers: Mapping[str, str], now: float) -> None:
        limit = _number(headers.get("x-ratelimit-limit"))
        if limit is not None and limit >= 1:
            self.limit = int(limit)
        remaining = _number(headers.get("x-ratelimit-remaining"))
        reset = _number(headers.get("x-ratelimit-reset"))
        if remaining is not None and remaining <= 0:
            pause = WINDOW_SECONDS if reset is None else min(max(reset, 0.0), MAX_PAUSE_SECONDS)
            self._paused_until = max(self._paused_until, now + pause)


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None
