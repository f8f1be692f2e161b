"""Board throughput under load: bounded closed-loop clients against gunicorn on loopback.

    python manage.py bench_load --deals 50000 --clients 10 --workers 3
    scripts/with-postgres .venv/bin/python manage.py bench_load --compare-postgres

For each database (a throwaway one, as in bench_board: see integrations/management/throwaway_db.py)
a child process generates the data set (bench_board.generate) and a logged-in session; then
gunicorn serves the app with production settings (DEBUG off, collected static files) and
`--clients` threads each send a request, wait for its answer and send the next, for `--seconds`
after a warm-up. Prints requests/s and the p50/p95/p99 latency of the board, all companies.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from dealflow.management.commands.bench_board import DATABASE_PREFIX, INSIDE_FLAG, generate
from integrations.management.children import free_port, port_is_free
from integrations.management.throwaway_db import ratio_line, servers, throwaway_database


class Command(BaseCommand):
    help = "Requests/s and latency percentiles of the board under N closed-loop clients against gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--deals", type=int, default=50_000)
        parser.add_argument("--companies", type=int, default=8)
        parser.add_argument("--clients", type=int, default=10)
        parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
        parser.add_argument("--seconds", type=float, default=20.0, help="measured time per database")
        parser.add_argument("--warm-up", type=float, default=3.0)
        parser.add_argument("--database-url", help="the database server to use (default: DATABASE_URL, else SQLite)")
        parser.add_argument("--compare-postgres", action="store_true", help="run on SQLite and on PostgreSQL")
        parser.add_argument("--prepare", action="store_true", help="(internal) generate data in the child")

    def handle(self, *args, **options):
        if options["prepare"]:
            return self.prepare(options)
        targets = servers(database_url=options["database_url"], compare_postgres=options["compare_postgres"])
        results = {}
        with tempfile.TemporaryDirectory(prefix="bench_load_static_") as static_root:
            for vendor, server in targets:
                with throwaway_database(server, DATABASE_PREFIX) as url:
                    results[vendor] = self.measure(url, static_root, options)
        self.stdout.write(f"{'database':>10}{'requests/s':>12}{'p50':>10}{'p95':>10}{'p99':>10}{'errors':>8}")
        for vendor, r in results.items():
            self.stdout.write(
                f"{vendor:>10}{r['rps']:>12.1f}{r['p50']:>8.1f}ms{r['p95']:>8.1f}ms{r['p99']:>8.1f}ms{r['errors']:>8}"
            )
        line = ratio_line("requests/s", {vendor: r["rps"] for vendor, r in results.items()})
        if line:
            self.stdout.write(line)
        self.stdout.write(
            f"board, all companies; {options['deals']} deals, {options['companies']} companies, "
            f"{options['clients']} clients, {options['workers']} gunicorn workers, {options['seconds']:.0f} s each."
        )

    def prepare(self, options):
        """In the child: data and a session; prints the session as JSON."""
        from django.test import Client

        name = str(settings.DATABASES["default"]["NAME"])
        if not (name.startswith(tempfile.gettempdir()) or name.startswith(DATABASE_PREFIX)):
            raise CommandError("Refusing to generate benchmark data outside a throwaway database.")
        call_command("migrate", verbosity=0)
        urls = generate(deals=options["deals"], companies=options["companies"], seed=1)
        client = Client()
        client.force_login(urls["user"])
        cookie = settings.SESSION_COOKIE_NAME
        self.stdout.write(json.dumps({"cookie": cookie, "session": client.cookies[cookie].value}))

    def measure(self, url: str, static_root: str, options) -> dict:
        env = {
            **os.environ,
            INSIDE_FLAG: "1",
            "DATABASE_URL": url,
            "DEBUG": "False",
            "STATIC_ROOT": static_root,
            "TRUST_X_FORWARDED_PROTO": "True",  # the clients say https, as a TLS proxy would
        }
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        prepared = subprocess.run(
            [
                *manage,
                "bench_load",
                "--prepare",
                "--deals",
                str(options["deals"]),
                "--companies",
                str(options["companies"]),
            ],
            env=env,
            capture_output=True,
            text=True,
            cwd=settings.BASE_DIR,
        )
        if prepared.returncode:
            raise CommandError(f"Preparing the data failed:\n{prepared.stderr[-3000:]}")
        session = json.loads(prepared.stdout.strip().splitlines()[-1])
        subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], env=env, check=True, cwd=settings.BASE_DIR)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", str(options["workers"]), "-b", f"127.0.0.1:{port}"],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=open(settings.VAR_DIR / "log" / "bench_load_gunicorn.log", "ab"),  # noqa: SIM115
        )
        board = f"http://127.0.0.1:{port}{reverse('dealflow:board')}"
        try:
            ready(server, port, board, {session["cookie"]: session["session"]})
            return load(
                board,
                cookies={session["cookie"]: session["session"]},
                clients=options["clients"],
                seconds=options["seconds"],
                warm_up=options["warm_up"],
            )
        finally:
            server.terminate()
            server.wait(30)


def ready(server: subprocess.Popen, port: int, url: str, cookies: dict) -> None:
    """Wait until every worker has booted (Django's import takes seconds on a busy machine): until
    the board answers as many times in a row as there are seconds to spare, then go."""
    deadline = time.monotonic() + 180
    answered = 0
    while answered < 10:
        if server.poll() is not None or time.monotonic() > deadline:
            raise CommandError("gunicorn did not start")
        if port_is_free(port):
            time.sleep(0.2)
            continue
        response = httpx.get(url, cookies=cookies, headers=FORWARDED, timeout=120)
        if response.status_code != 200:
            raise CommandError(f"The board answered {response.status_code}")
        answered += 1


FORWARDED = {"X-Forwarded-Proto": "https"}


def load(url: str, *, cookies: dict, clients: int, seconds: float, warm_up: float) -> dict:
    """`clients` threads, each sending its next request when the last one is answered."""
    timings, errors = [], []
    start = time.monotonic() + warm_up
    stop = start + seconds

    def client() -> None:
        with httpx.Client(cookies=cookies, headers=FORWARDED, timeout=60) as http:
            while (now := time.monotonic()) < stop:
                response = http.get(url)
                done = time.monotonic()
                if now >= start:
                    (timings if response.status_code == 200 else errors).append((done - now) * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not timings:
        raise CommandError(f"No successful request ({len(errors)} errors)")
    percentiles = statistics.quantiles(timings, n=100)
    return {
        "rps": len(timings) / seconds,
        "p50": statistics.median(timings),
        "p95": percentiles[94],
        "p99": percentiles[98],
        "errors": len(errors),
    }
