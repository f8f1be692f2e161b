"""The served sandbox answers concurrent requests in parallel: its --latency waits overlap, so a
download that lists every entity at once is not held back by the stand-in for Pipedrive."""

from __future__ import annotations

import threading

import httpx

from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN, Sandbox, app
from integrations.providers.pipedrive.sandbox.server import serve_in_thread

AT_ONCE = 4
LISTINGS = ("/api/v2/deals", "/api/v2/persons", "/api/v2/organizations", "/api/v2/activities")


def test_the_latency_waits_of_concurrent_listings_overlap(monkeypatch):
    # Every request's latency wait meets the others' at a barrier: served one at a time, the first
    # would wait there alone until the barrier times out and breaks (a failed request).
    barrier = threading.Barrier(AT_ONCE, timeout=10)
    monkeypatch.setattr(app.time, "sleep", lambda seconds: barrier.wait())
    sandbox = Sandbox("coeo", deals=50, burst_limit=100_000)
    sandbox.set_faults(latency_seconds=0.01)
    base_url, stop = serve_in_thread(sandbox)
    answers: dict[str, int] = {}

    def fetch(path: str) -> None:
        with httpx.Client(base_url=base_url, headers={"x-api-token": DEFAULT_TOKEN}, timeout=20) as client:
            response = client.get(path, params={"limit": 500})
            answers[path] = response.status_code if response.json()["success"] else 0

    try:
        threads = [threading.Thread(target=fetch, args=(path,)) for path in LISTINGS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop()
    assert not barrier.broken
    assert answers == dict.fromkeys(LISTINGS, 200)
