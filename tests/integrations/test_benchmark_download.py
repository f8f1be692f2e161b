"""bench_sync's "download only" figure (integrations/benchmark.py) fetches the way the sync does:
the same requests, every listing at once, over real HTTP against the sandbox on loopback."""

from __future__ import annotations

import threading

from integrations.benchmark import download_only
from integrations.models import SyncOutcome
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread
from integrations.sync.runner import sync_integration
from tests.integrations.conftest import connect


class InFlight:
    """The sandbox's WSGI app, counting the requests being answered at the same moment."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.app = sandbox.wsgi_app
        self.lock = threading.Lock()
        self.now = self.most = 0

    def wsgi_app(self, environ, start_response):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            return self.app(environ, start_response)
        finally:
            with self.lock:
                self.now -= 1


def test_download_only_makes_the_full_syncs_requests_with_the_listings_at_once(db):
    sandbox = Sandbox("coeo", deals=300, burst_limit=100_000)
    sandbox.set_faults(latency_seconds=0.05)  # every answer takes a while: listings at once overlap
    counted = InFlight(sandbox)
    base_url, stop = serve_in_thread(counted)
    try:
        integration = connect(sandbox).integration
        integration.settings["api_base_url"] = base_url
        integration.save()
        download = download_only(integration)
        assert counted.most > 1  # sequential fetching never has two requests out

        counted.most = 0
        run = sync_integration(integration=integration, full=True)
    finally:
        stop()
    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    assert download["api_calls"] == run.api_calls
    assert download["records"] >= run.created > 300
