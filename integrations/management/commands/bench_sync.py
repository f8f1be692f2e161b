"""`manage.py bench_sync --deals 100000`: full-sync time against download time, no-op cost, memory.

Each size runs in its own pair of processes — a sandbox serving that many deals, and a child
process with a fresh database that syncs from it — so peak memory (ru_maxrss) is per size. The
database is a throwaway one (a SQLite file, or a database created on the PostgreSQL server named by
`--database-url` / DATABASE_URL); `--compare-postgres` syncs into both and prints the ratios.
"""

import argparse
import json
import os
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.management.children import Children, free_port, wait_for_port
from integrations.management.throwaway_db import ratio_line, servers, throwaway_database
from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN


class Command(BaseCommand):
    help = "Benchmark the sync against a local sandbox (time ratio, no-op API cost, peak memory)."

    def add_arguments(self, parser):
        parser.add_argument("--deals", type=int, default=100_000, help="the largest size (default 100000)")
        parser.add_argument("--sizes", type=int, nargs="*", default=[10_000], help="other sizes to measure")
        parser.add_argument(
            "--latency",
            type=float,
            default=0.0,
            help="seconds the sandbox adds to every answer, to stand in for the network to Pipedrive (default 0)",
        )
        parser.add_argument(
            "--burst",
            type=int,
            default=1_000_000,
            help="the sandbox's burst limit, requests per 2 s (Pipedrive plans: 20 Lite to 120; default: no limit)",
        )
        parser.add_argument("--database-url", help="the database server to use (default: DATABASE_URL, else SQLite)")
        parser.add_argument(
            "--compare-postgres", action="store_true", help="sync into SQLite and into PostgreSQL, with ratios"
        )
        parser.add_argument("--child", metavar="BASE_URL", help=argparse.SUPPRESS)

    def handle(self, *args, deals, sizes, latency, burst, database_url, compare_postgres, child, **options):
        if child:
            from integrations.benchmark import measure

            self.stdout.write(json.dumps(measure(base_url=child, token=DEFAULT_TOKEN)))
            return
        targets = servers(database_url=database_url, compare_postgres=compare_postgres)
        results = {size: self._measure_size(size, latency, burst, targets) for size in sorted({*sizes, deals})}
        self._report(results)

    def _measure_size(self, size: int, latency: float, burst: int, targets: list[tuple[str, str | None]]) -> dict:
        self.stdout.write(f"Measuring {size} deals…")
        children = Children(settings.VAR_DIR / "log")
        port = free_port()
        try:
            children.start(
                f"bench-sandbox-{size}",
                "manage.py",
                "pipedrive_sandbox",
                "--port",
                str(port),
                "--deals",
                str(size),
                "--burst-limit",
                str(burst),
                "--daily-budget",
                "1000000000",
                "--latency",
                str(latency),
                "--cache-pages",  # its page building is Pipedrive's CPU, not the sync's
            )
            wait_for_port(port, children=children, timeout=600)
            return {vendor: self._sync_into(vendor, server, port) for vendor, server in targets}
        finally:
            children.stop_all()

    def _sync_into(self, vendor: str, server: str | None, port: int) -> dict:
        with throwaway_database(server, "bench_sync_") as url:
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "PIPEDRIVE_ALLOWED_BASE_URLS": "http://127.0.0.1:*",  # the sandbox over loopback
            }
            done = subprocess.run(
                [sys.executable, "manage.py", "bench_sync", "--child", f"http://127.0.0.1:{port}"],
                env=env,
                capture_output=True,
                text=True,
            )
        if done.returncode:
            raise CommandError(f"Benchmark child failed on {vendor}:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def _report(self, results: dict) -> None:
        self.stdout.write("")
        header = (
            f"{'deals':>8} {'database':>10} {'full sync s':>12} {'download s':>11} {'ratio':>6} {'no-op s':>8} "
            f"{'no-op calls':>12} {'no-op tokens':>13} {'peak MB':>8} {'lock s':>7}"
        )
        self.stdout.write(header)
        for size, by_vendor in results.items():
            for vendor, r in by_vendor.items():
                if r["full"]["outcome"] != "succeeded":
                    raise CommandError(f"Full sync of {size} deals did not succeed: {r['full']['error']}")
                ratio = r["full"]["seconds"] / r["download"]["seconds"]
                lock = r["full"]["longest_lock_wait_s"]
                self.stdout.write(
                    f"{size:>8} {vendor:>10} {r['full']['seconds']:>12.1f} {r['download']['seconds']:>11.1f} "
                    f"{ratio:>6.2f} {r['no_op']['seconds']:>8.2f} {r['no_op']['api_calls']:>12} "
                    f"{r['no_op']['token_cost']:>13} {r['peak_rss_mb']:>8.0f} "
                    f"{'-' if lock is None else f'{lock:.2f}':>7}"
                )
            for figure in ("full", "no_op"):
                line = ratio_line(
                    f"{size} deals, {figure} sync", {v: r[figure]["seconds"] for v, r in by_vendor.items()}, " s"
                )
                if line:
                    self.stdout.write(line)
        self.stdout.write(
            "\nratio = full sync / download only (aim <= 1.5); no-op = incremental sync with nothing changed "
            "(aim: one list call per entity type: 8); peak MB = ru_maxrss of the syncing process; "
            "lock s = the longest another writer waited for SQLite's write lock during the full sync."
        )
        for size, r in results.items():
            self.stdout.write(f"{size} deals: {json.dumps(r)}")
