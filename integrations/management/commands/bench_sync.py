"""`manage.py bench_sync --deals 100000`: full-sync time against download time, no-op cost, memory.

Each size runs in its own pair of processes — a sandbox serving that many deals, and a child
process with a fresh SQLite file that syncs from it — so peak memory (ru_maxrss) is per size.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.management.children import Children, free_port, wait_for_port
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
        parser.add_argument("--child", metavar="BASE_URL", help=argparse.SUPPRESS)

    def handle(self, *args, deals, sizes, latency, child, **options):
        if child:
            from integrations.benchmark import measure

            self.stdout.write(json.dumps(measure(base_url=child, token=DEFAULT_TOKEN)))
            return
        results = {size: self._measure_size(size, latency) for size in sorted({*sizes, deals})}
        self._report(results)

    def _measure_size(self, size: int, latency: float) -> dict:
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
                "1000000",
                "--daily-budget",
                "1000000000",
                "--latency",
                str(latency),
            )
            wait_for_port(port, children=children, timeout=600)
            with tempfile.TemporaryDirectory() as folder:
                env = {
                    **os.environ,
                    "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
                    "PIPEDRIVE_ALLOWED_BASE_URLS": "http://127.0.0.1:*",  # the sandbox over loopback
                }
                done = subprocess.run(
                    [sys.executable, "manage.py", "bench_sync", "--child", f"http://127.0.0.1:{port}"],
                    env=env,
                    capture_output=True,
                    text=True,
                )
        finally:
            children.stop_all()
        if done.returncode:
            raise CommandError(f"Benchmark child failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def _report(self, results: dict) -> None:
        self.stdout.write("")
        header = (
            f"{'deals':>8} {'full sync s':>12} {'download s':>11} {'ratio':>6} {'no-op calls':>12} "
            f"{'no-op tokens':>13} {'peak MB':>8} {'lock s':>7}"
        )
        self.stdout.write(header)
        for size, r in results.items():
            if r["full"]["outcome"] != "succeeded":
                raise CommandError(f"Full sync of {size} deals did not succeed: {r['full']['error']}")
            ratio = r["full"]["seconds"] / r["download"]["seconds"]
            self.stdout.write(
                f"{size:>8} {r['full']['seconds']:>12.1f} {r['download']['seconds']:>11.1f} {ratio:>6.2f} "
                f"{r['no_op']['api_calls']:>12} {r['no_op']['token_cost']:>13} {r['peak_rss_mb']:>8.0f} "
                f"{r['full']['longest_lock_wait_s']:>7.2f}"
            )
        self.stdout.write(
            "\nratio = full sync / download only (aim <= 1.5); no-op = incremental sync with nothing changed "
            "(aim: one list call per entity type: 8); peak MB = ru_maxrss of the syncing process; "
            "lock s = the longest another writer waited for the database's write lock during the full sync."
        )
        for size, r in results.items():
            self.stdout.write(f"{size} deals: {json.dumps(r)}")
