"""`manage.py bench_client --deals N`: stream every deal from a sandbox subprocess and measure."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
import tracemalloc

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.providers.pipedrive.client import PipedriveClient
from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN

# The benchmark measures the client, not the rate limiter: give the sandbox room to answer freely.
BENCH_BURST_LIMIT = 1_000_000
BENCH_DAILY_BUDGET = 1_000_000_000


class Command(BaseCommand):
    help = (
        "Start the Pipedrive sandbox in a subprocess on 127.0.0.1 with N deals, stream every deal"
        " through PipedriveClient, and print records/second, pages, and the client process's peak"
        " memory (tracemalloc peak during the stream, and ru_maxrss)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--deals", type=int, action="append", help="repeatable; default 10000")
        parser.add_argument("--page-size", type=int, default=500)

    def handle(self, *args, deals, page_size, **options):
        for count in deals or [10_000]:
            self._bench(count, page_size)

    def _bench(self, count: int, page_size: int) -> None:
        server = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "pipedrive_sandbox",
                "--port",
                "0",
                "--deals",
                str(count),
                "--burst-limit",
                str(BENCH_BURST_LIMIT),
                "--daily-budget",
                str(BENCH_DAILY_BUDGET),
            ],
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            first_line = server.stdout.readline()
            if not first_line.startswith("Pipedrive sandbox at "):
                raise CommandError(f"The sandbox did not start: {server.stderr.read()[-2000:]}")
            base_url = first_line.rsplit(" ", 1)[-1].strip()
            self._stream(base_url, count, page_size)
        finally:
            server.terminate()
            server.wait(timeout=30)

    def _stream(self, base_url: str, count: int, page_size: int) -> None:
        pages = 0

        def on_page(page) -> None:
            nonlocal pages
            pages = page.page_number

        tracemalloc.start()
        started = time.perf_counter()
        records = 0
        with PipedriveClient(base_url=base_url, api_token=DEFAULT_TOKEN, page_size=page_size) as client:
            for _deal in client.iter_deals(on_page=on_page):
                records += 1
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            stats = client.stats
        maxrss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"deals={count:>7} streamed={records:>7} pages={pages:>4} seconds={elapsed:6.2f}"
            f" records/s={records / elapsed:8.0f} calls={stats.calls} token_cost={stats.token_cost}"
            f" tracemalloc_peak={peak / 2**20:6.1f} MiB ru_maxrss={maxrss_mib:6.1f} MiB"
        )
