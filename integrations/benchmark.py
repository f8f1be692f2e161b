"""The measurements behind `manage.py bench_sync`, run in a child process per dataset size."""

import resource
import sqlite3
import threading
import time
from contextlib import closing, nullcontext

from django.core.management import call_command
from django.db import connection

from integrations.models import Integration
from integrations.providers.pipedrive.specs import entity_specs
from integrations.sync.prefetch import chains_ahead
from integrations.sync.runner import sync_integration
from portfolio.models import PortfolioCompany


def download_only(integration: Integration) -> dict:
    """Fetch every page a full sync fetches, the way it fetches them (the deal fields first, then
    every listing at once: sync/download.py), keeping nothing: the floor a sync cannot beat."""
    started = time.perf_counter()
    with integration.provider_api.client(integration) as client:
        records = sum(1 for _ in client.iter_deal_fields())
        listings = [spec.listing(client, None) for spec in entity_specs()]
        with closing(chains_ahead(listings, interrupt=client.interrupt)) as pages:
            records += sum(len(page) for _, page, _ in pages)
        return {"seconds": time.perf_counter() - started, "records": records, "api_calls": client.stats.calls}


class LockProbe:
    """What other writers feel during a sync: a thread with its own SQLite connection takes and
    releases the write lock (BEGIN IMMEDIATE; COMMIT) every few milliseconds and keeps the longest
    wait. That wait is the longest stretch the sync held the write lock."""

    INTERVAL = 0.005

    def __init__(self, path: str) -> None:
        self.path = path
        self.longest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, name="lock-probe", daemon=True)

    def _probe(self) -> None:
        db = sqlite3.connect(self.path, timeout=600, isolation_level=None)
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                db.execute("BEGIN IMMEDIATE")
                self.longest = max(self.longest, time.perf_counter() - started)
                db.execute("COMMIT")
                time.sleep(self.INTERVAL)
        finally:
            db.close()

    def __enter__(self) -> "LockProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def timed_sync(integration: Integration, *, full: bool) -> dict:
    started = time.perf_counter()
    # The lock probe is SQLite's (one writer at a time); PostgreSQL has no database-wide write lock.
    probe = LockProbe(str(connection.settings_dict["NAME"])) if connection.vendor == "sqlite" else nullcontext()
    with probe:
        run = sync_integration(integration=integration, full=full)
    return {
        "seconds": time.perf_counter() - started,
        "longest_lock_wait_s": probe.longest if isinstance(probe, LockProbe) else None,
        "outcome": run.outcome,
        "error": run.error,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "api_calls": run.api_calls,
        "token_cost": run.token_cost,
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def measure(*, base_url: str, token: str) -> dict:
    """Runs against an empty database (the caller points DATABASE_URL at a fresh file)."""
    call_command("migrate", verbosity=0)
    company = PortfolioCompany.objects.create(slug="bench", name="Bench")
    integration = Integration.objects.create(
        company=company,
        settings={"company_domain": "bench", "api_base_url": base_url},
        credentials={"api_token": token},
    )
    # The sandbox sorts and caches each listing on first use: warm it up so that the full sync and
    # the download it is compared with see the same server (same pages, page size and client).
    download_only(integration)
    baseline_mb = peak_rss_mb()
    full = timed_sync(integration, full=True)
    sync_peak_mb = peak_rss_mb()
    download = download_only(integration)
    no_op = timed_sync(integration, full=False)
    return {
        "full": full,
        "download": download,
        "no_op": no_op,
        "baseline_rss_mb": baseline_mb,
        "peak_rss_mb": sync_peak_mb,
    }
