"""Webhook delivery: v2 payloads POSTed with basic auth from a background thread, retried as
Pipedrive does (after 3, 30 and 150 s, scaled by ``time_scale`` for tests), with switches that
drop, duplicate, delay or reorder deliveries.

A delivery succeeds on any 2xx answer within 10 s. Each attempt is logged in ``attempts`` (the
event id, attempt number and status, never the credentials) so tests can see what was sent.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_DELAYS_SECONDS = (3.0, 30.0, 150.0)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
TIMEOUT_SECONDS = 10.0


@dataclass
class Job:
    url: str
    auth: tuple[str, str] | None
    payload: dict
    attempt: int = 1


@dataclass
class Switches:
    """drop: the next N deliveries are lost (-1: all); duplicate: each is sent twice; delay_seconds:
    each waits that long first; reorder: deliveries are held until N have gathered, then sent newest
    first."""

    drop: int = 0
    duplicate: bool = False
    delay_seconds: float = 0.0
    reorder: int = 0
    held: list[Job] = field(default_factory=list)


class Delivery:
    def __init__(self, *, time_scale: float = 1.0, transport: httpx.BaseTransport | None = None) -> None:
        self.time_scale = time_scale
        self.switches = Switches()
        self.attempts: list[dict[str, Any]] = []
        self.dropped = 0
        self._queue: list[tuple[float, int, Job]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._transport = transport
        self._idle = threading.Event()
        self._idle.set()

    # -- switches -------------------------------------------------------------------------

    def configure(
        self,
        *,
        drop: int | None = None,
        duplicate: bool | None = None,
        delay_seconds: float | None = None,
        reorder: int | None = None,
        time_scale: float | None = None,
    ) -> dict:
        with self._condition:
            switches = self.switches
            for name, value in (("drop", drop), ("duplicate", duplicate), ("delay_seconds", delay_seconds)):
                if value is not None:
                    setattr(switches, name, value)
            if reorder is not None:
                switches.reorder = int(reorder)
            if time_scale is not None:
                self.time_scale = float(time_scale)
            return self.state()

    def reset(self) -> dict:
        with self._condition:
            held, self.switches = self.switches.held, Switches()
            for job in held:
                self._schedule(job, 0.0)
            return self.state()

    def state(self) -> dict:
        switches = self.switches
        return {
            "drop": switches.drop,
            "duplicate": switches.duplicate,
            "delay_seconds": switches.delay_seconds,
            "reorder": switches.reorder,
            "time_scale": self.time_scale,
            "dropped": self.dropped,
            "attempts": len(self.attempts),
        }

    # -- queueing -------------------------------------------------------------------------

    def send(self, job: Job) -> None:
        """Queue a first attempt, subject to the switches."""
        with self._condition:
            switches = self.switches
            if switches.drop:
                if switches.drop > 0:
                    switches.drop -= 1
                self.dropped += 1
                return
            copies = [job, Job(job.url, job.auth, job.payload)] if switches.duplicate else [job]
            if switches.reorder > 1:
                switches.held.extend(copies)
                if len(switches.held) < switches.reorder:
                    return
                copies, switches.held = list(reversed(switches.held)), []
            for index, copy in enumerate(copies):
                # Ordered by due time, then by queueing order: a reordered batch keeps its order.
                self._schedule(copy, switches.delay_seconds + index * 1e-6)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is queued or being sent (tests, the benchmark)."""
        return self._idle.wait(timeout)

    def _schedule(self, job: Job, delay: float) -> None:
        heapq.heappush(self._queue, (time.monotonic() + delay, next(self._sequence), job))
        self._idle.clear()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()
        self._condition.notify()

    # -- the sending thread ---------------------------------------------------------------

    def _run(self) -> None:
        with httpx.Client(timeout=TIMEOUT_SECONDS, transport=self._transport, follow_redirects=False) as http:
            while True:
                job = self._next_due()
                ok, status = self._post(http, job)
                with self._condition:
                    self.attempts.append(
                        {"id": job.payload["meta"]["id"], "attempt": job.attempt, "status": status, "ok": ok}
                    )
                    if not ok and job.attempt < MAX_ATTEMPTS:
                        retry = Job(job.url, job.auth, job.payload, job.attempt + 1)
                        self._schedule(retry, RETRY_DELAYS_SECONDS[job.attempt - 1] * self.time_scale)
                    if not self._queue:
                        self._idle.set()

    def _next_due(self) -> Job:
        with self._condition:
            while True:
                if self._queue:
                    due = self._queue[0][0] - time.monotonic()
                    if due <= 0:
                        return heapq.heappop(self._queue)[2]
                    self._condition.wait(due)
                else:
                    self._condition.wait()

    @staticmethod
    def _post(http: httpx.Client, job: Job) -> tuple[bool, int | None]:
        payload = {**job.payload, "meta": {**job.payload["meta"], "attempt": job.attempt}}
        try:
            response = http.post(job.url, json=payload, auth=job.auth)
        except httpx.HTTPError:
            return False, None
        return 200 <= response.status_code < 300, response.status_code
