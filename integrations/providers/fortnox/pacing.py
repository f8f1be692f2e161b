"""Fortnox allows 25 requests per 5 seconds per tenant: every client of one tenant in this
process shares a sliding window and waits before a request that would exceed it. (Workers in other
processes have their own windows; the 429 backoff in client.py covers what they add.)"""

import threading
import time
from collections import deque
from collections.abc import Callable

REQUESTS = 25
WINDOW_SECONDS = 5.0


class Pacer:
    def __init__(
        self,
        *,
        requests: int = REQUESTS,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.requests, self.window = requests, window
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def wait_turn(self) -> float:
        """Block until one more request fits the window, and count it; returns the seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                if len(self._sent) < self.requests:
                    self._sent.append(now)
                    return waited
                pause = self._sent[0] + self.window - now
                waited += pause
                self._sleep(pause)


_pacers: dict[str, Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(tenant: str) -> Pacer:
    with _pacers_lock:
        return _pacers.setdefault(tenant, Pacer())
