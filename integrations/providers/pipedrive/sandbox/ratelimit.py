"""Pipedrive-style rate limiting for the sandbox: a burst limit per API token over a rolling
window, and a daily token budget per account, charged with the costs from costs.py.

Every answer carries x-ratelimit-limit / -remaining / -reset (seconds, relative) and
x-daily-requests-left (tokens left today). A burst 429 resets within the window; a budget 429
carries the seconds until the day rolls over and x-daily-requests-left: 0. A token that keeps
hammering after 429s is shown the CDN's HTML 403 page instead, as Pipedrive's CDN does.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

DAY_SECONDS = 86400.0
LOG_LENGTH = 10_000  # the latest requests' arrival times and verdicts, for tests and benchmarks


@dataclass
class Verdict:
    status: int  # 200 (go ahead), 429, or 403 (CDN block)
    headers: dict[str, str]
    daily: bool = False


@dataclass
class RateLimiter:
    burst_limit: int = 80
    burst_window_seconds: float = 2.0
    daily_budget: int = 30_000 * 4 * 5
    cdn_block_after: int = 30
    clock: Callable[[], float] = field(default=lambda: 0.0)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._recent: dict[str, deque[float]] = {}
        self._rejected: dict[str, deque[float]] = {}
        # (arrival time, status) of every API request checked: what a test asserts the pacing on.
        self.log: deque[tuple[float, int]] = deque(maxlen=LOG_LENGTH)
        self.spent = 0
        self._day_started = self.clock()

    def check(self, token: str, cost: int) -> Verdict:
        now = self.clock()
        verdict = self._verdict(token, cost, now)
        self.log.append((now, verdict.status))
        return verdict

    def _verdict(self, token: str, cost: int, now: float) -> Verdict:
        if now - self._day_started >= DAY_SECONDS:
            self.spent = 0
            self._day_started = now
        recent = self._window(self._recent, token, now)
        rejected = self._window(self._rejected, token, now, span=5 * self.burst_window_seconds)
        if len(rejected) >= self.cdn_block_after:
            return Verdict(403, {})
        if self.spent + cost > self.daily_budget:
            rejected.append(now)
            day_left = math.ceil(self._day_started + DAY_SECONDS - now)
            return Verdict(429, self._headers(len(recent), day_left), daily=True)
        if len(recent) >= self.burst_limit:
            rejected.append(now)
            return Verdict(429, self._headers(len(recent), self._burst_reset(recent, now)))
        recent.append(now)
        return Verdict(200, self._headers(len(recent), self._burst_reset(recent, now)))

    def charge(self, cost: int) -> None:
        self.spent += cost

    def headers_now(self, token: str) -> dict[str, str]:
        now = self.clock()
        recent = self._window(self._recent, token, now)
        return self._headers(len(recent), self._burst_reset(recent, now))

    def _window(self, table: dict[str, deque[float]], token: str, now: float, span: float | None = None) -> deque:
        entries = table.setdefault(token, deque())
        horizon = now - (span if span is not None else self.burst_window_seconds)
        while entries and entries[0] <= horizon:
            entries.popleft()
        return entries

    def _burst_reset(self, recent: deque[float], now: float) -> int:
        if not recent:
            return math.ceil(self.burst_window_seconds)
        return max(1, math.ceil(recent[0] + self.burst_window_seconds - now))

    def _headers(self, used: int, reset: int) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.burst_limit),
            "x-ratelimit-remaining": str(max(0, self.burst_limit - used)),
            "x-ratelimit-reset": str(reset),
            "x-daily-requests-left": str(max(0, self.daily_budget - self.spent)),
        }
