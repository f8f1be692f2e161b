"""Board throughput under load: bounded closed-loop clients against gunicorn on loopback.

    python manage.py bench_load --deals 50000 --clients 10 --workers 3
    scripts/with-postgres .venv/bin/python manage.py bench_load --compare-postgres

For each database (a throwaway one, as in bench_board: see integrations/management/throwaway_db.py)
a child process generates the data set (bench_board.generate) and a logged-in session; then
gunicorn serves the app with production settings (DEBUG off, collected static files) and
`--clients` threads each send a request, wait for its answer and send the next, for `--seconds`
after a warm-up. Prints requests/s and the p50/p95/p99 latency of the board, all companies, and the
CPU time per request that the gunicorn workers, the database's backends (a local PostgreSQL), the
clients and the whole machine used in the measured window (CpuAccount): on a shared machine,
requests/s moves with other work, the CPU per request much less.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from dealflow.management.commands.bench_board import DATABASE_PREFIX, INSIDE_FLAG, generate
from integrations.management.children import free_port, port_is_free
from integrations.management.throwaway_db import (
    POSTGRESQL,
    ratio_line,
    servers,
    throwaway_database,
    vendor_of,
)


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
        for vendor, r in results.items():
            parts = ", ".join(f"{role} {ms:.1f}" for role, ms in r["cpu"].items() if role != "cores busy")
            self.stdout.write(
                f"{vendor}: CPU ms per request: {parts}; the machine's cores busy {r['cpu']['cores busy']:.2f}"
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
        log_dir = settings.VAR_DIR / "log"  # not there on a fresh clone: only `make run` made it
        log_dir.mkdir(parents=True, exist_ok=True)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", str(options["workers"]), "-b", f"127.0.0.1:{port}"],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=open(log_dir / "bench_load_gunicorn.log", "ab"),  # noqa: SIM115
        )
        board = f"http://127.0.0.1:{port}{reverse('dealflow:board')}"
        database = urlsplit(url).path.lstrip("/") if vendor_of(url) == POSTGRESQL else None
        cpu = CpuAccount(server.pid, database)
        try:
            ready(server, port, board, {session["cookie"]: session["session"]})
            result = load(
                board,
                cookies={session["cookie"]: session["session"]},
                clients=options["clients"],
                seconds=options["seconds"],
                warm_up=options["warm_up"],
                at_edges=cpu,
            )
            result["cpu"] = cpu.per_request(result["requests"])
            return result
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


def load(url: str, *, cookies: dict, clients: int, seconds: float, warm_up: float, at_edges=None) -> dict:
    """`clients` threads, each sending its next request when the last one is answered. A request
    counts when its answer arrives within the measured window (so requests/s is what the server
    completed in that window, the time `at_edges()`, if given, is called at its start and end)."""
    timings, errors = [], []
    start = time.monotonic() + warm_up
    stop = start + seconds

    def client() -> None:
        with httpx.Client(cookies=cookies, headers=FORWARDED, timeout=60) as http:
            while (now := time.monotonic()) < stop:
                response = http.get(url)
                done = time.monotonic()
                if start <= done < stop:
                    (timings if response.status_code == 200 else errors).append((done - now) * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    if at_edges:
        threads.append(threading.Thread(target=call_at, args=(at_edges, start, stop)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not timings:
        raise CommandError(f"No successful request ({len(errors)} errors)")
    percentiles = statistics.quantiles(timings, n=100)
    return {
        "requests": len(timings),
        "rps": len(timings) / seconds,
        "p50": statistics.median(timings),
        "p95": percentiles[94],
        "p99": percentiles[98],
        "errors": len(errors),
    }


def call_at(function, *moments: float) -> None:
    for moment in moments:
        time.sleep(max(0.0, moment - time.monotonic()))
        function()


TICKS = os.sysconf("SC_CLK_TCK")


def process_table() -> dict[int, tuple[int, str, float]]:
    """Every process this user may read: pid -> (parent pid, command line, CPU seconds used so far)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                fields = stat.read().rsplit(")", 1)[1].split()
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        # After the command name: state, ppid, ... utime (11), stime (12), counted from state = 0.
        table[int(entry)] = (int(fields[1]), command, (int(fields[11]) + int(fields[12])) / TICKS)
    return table


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICKS, sum(values[:8]) / TICKS


class CpuAccount:
    """CPU time used during the measured window, by role: the gunicorn workers, gunicorn's master,
    the database server's backends for this database (a local PostgreSQL only), this process (the
    clients), and the whole machine (other work on a shared machine shows as the difference)."""

    def __init__(self, server_pid: int, database_name: str | None):
        self.server_pid = server_pid
        self.database_marker = f" {database_name} " if database_name else None
        self.samples = []

    def role(self, pid: int, parent: int, command: str) -> str | None:
        if pid == self.server_pid:
            return "gunicorn master"
        if parent == self.server_pid:
            return "gunicorn workers"
        if pid == os.getpid():
            return "clients"
        if self.database_marker and command.startswith("postgres: ") and self.database_marker in command:
            return "database"
        return None

    def __call__(self) -> None:
        self.samples.append((time.monotonic(), process_table(), machine_busy()))

    def per_request(self, requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request, by role."""
        (t0, before, busy0), (t1, after, busy1) = self.samples[:2]
        used: dict[str, float] = {}
        for pid, (parent, command, cpu) in after.items():
            role = self.role(pid, parent, command)
            if role:
                used[role] = used.get(role, 0.0) + cpu - (before[pid][2] if pid in before else 0.0)
        used["machine"] = busy1[0] - busy0[0]
        used["machine, other work"] = used["machine"] - sum(v for k, v in used.items() if k != "machine")
        result = {role: seconds * 1000 / requests for role, seconds in used.items()}
        result["cores busy"] = used["machine"] / (t1 - t0)
        return result
