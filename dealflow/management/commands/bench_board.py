"""Time the dealflow board on a generated data set, in a throwaway database.

    python manage.py bench_board --deals 50000
    scripts/with-postgres .venv/bin/python manage.py bench_board --deals 400000 --compare-postgres

The command re-runs itself in a subprocess whose DATABASE_URL points at a new database (a SQLite
file in a temporary directory, or a database created for the run on the PostgreSQL server named by
`--database-url` / DATABASE_URL: see integrations/management/throwaway_db.py), so no database that
holds data is touched; it is removed at the end. It prints the median and 95th percentile server
time (the full Django stack through the test client, without a network) and the number of SQL
queries of each request, with the database beside each figure, and with `--compare-postgres` the
ratio PostgreSQL / SQLite.

With `--compare-postgres` both databases are timed in alternation, request by request (one child
process per database, driven over its standard input and output): this machine's speed changes in
blocks of minutes, and timing all of SQLite and then all of PostgreSQL put them in different blocks
(the panel measured 13.7 ms on SQLite in one minute and 22.1 in the next), so the ratio said more
about the blocks than about the databases.
"""

import argparse
import cProfile
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, nullcontext
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealflow.models import Deal
from dealflow.search_index import merge_segments
from integrations.management.throwaway_db import POSTGRESQL, SQLITE, ratio_line, servers, throwaway_database

INSIDE_FLAG = "BENCH_BOARD_THROWAWAY_DB"
DATABASE_PREFIX = "bench_board_"
BENCH_USER = "bench"
STAGES = [  # (name, target, probability)
    ("Lead - ännu ej kontaktade", "lead", 10),
    ("Prospekt - kontaktade", "qualified", 20),
    ("Bokat möte", "meeting", 40),
    ("Dialog/demo", "due_diligence", 60),
    ("Offert lämnad", "proposal", 80),
    ("OK verbal acceptans", "closed_won", 100),
    ("Nej tack", "excluded", 0),
    ("Inte nu", "excluded", 0),
    ("Avvakta", "unmapped", 50),
]
STATUSES = ["open"] * 70 + ["won"] * 15 + ["lost"] * 10 + ["deleted"] * 5
# Requests per page before the timed ones: the steady state of a worker, whose connection is kept
# (CONN_MAX_AGE). On PostgreSQL psycopg prepares a statement on its sixth run (prepare_threshold) and
# the server then plans it five more times before it settles on a plan: with 3, the timed runs
# measured that phase (planning on nearly every request, and one slow request in ten).
WARM_UP = 12


def timed_runs(text: str) -> int:
    """--runs: the 95th percentile needs at least two timings."""
    try:
        runs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if runs < 2:
        raise argparse.ArgumentTypeError("needs at least 2 timed requests per page (for the 95th percentile)")
    return runs


class Command(BaseCommand):
    help = "Benchmark the dealflow board (board, load more, panel) on N generated deals in a temp DB."

    def add_arguments(self, parser):
        parser.add_argument("--deals", type=int, default=50_000)
        parser.add_argument("--companies", type=int, default=8)
        parser.add_argument("--runs", type=timed_runs, default=30, help="timed requests per page")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--database-url", help="the database server to use (default: DATABASE_URL, else SQLite)")
        parser.add_argument(
            "--compare-postgres", action="store_true", help="run on SQLite and on the PostgreSQL server, with ratios"
        )
        parser.add_argument(
            "--keep-sqlite",
            metavar="DIR",
            help="SQLite: keep the generated database in DIR (under the temporary directory) and reuse "
            "it on the next run with the same --deals, --companies and --seed (generating 400,000 deals takes minutes)",
        )
        parser.add_argument(
            "--keep-postgres",
            action="store_true",
            help="PostgreSQL: generate into the database bench_board_keep_<deals>_<companies>_<seed> on the server "
            "and reuse it on later runs with the same options (never dropped: drop it yourself when done)",
        )
        parser.add_argument("--profile", metavar="DIR", help="write a cProfile of each request's timed runs to DIR")

    def handle(self, *args, deals, companies, runs, seed, database_url, compare_postgres, **options):
        keep, profile = options["keep_sqlite"], options["profile"]
        if os.environ.get(INSIDE_FLAG) != "1":
            arguments = ["--deals", str(deals), "--companies", str(companies), "--runs", str(runs), "--seed", str(seed)]
            if profile:
                Path(profile).mkdir(parents=True, exist_ok=True)
                arguments += ["--profile", str(Path(profile).resolve())]
            targets = servers(database_url=database_url, compare_postgres=compare_postgres)
            vendors = dict(targets)
            kept = {}  # vendor: the URL of a database kept between runs
            if keep:
                if SQLITE not in vendors:
                    raise CommandError("--keep-sqlite needs SQLite among the databases measured.")
                directory = Path(keep).resolve()
                if not str(directory).startswith(tempfile.gettempdir()):
                    raise CommandError(f"--keep-sqlite needs a directory under {tempfile.gettempdir()}.")
                directory.mkdir(parents=True, exist_ok=True)
                kept[SQLITE] = f"sqlite:///{directory / f'{DATABASE_PREFIX}{deals}_{companies}_{seed}.sqlite3'}"
            if options["keep_postgres"]:
                if POSTGRESQL not in vendors:
                    raise CommandError("--keep-postgres needs a PostgreSQL server (--database-url or DATABASE_URL).")
                name = f"{DATABASE_PREFIX}keep_{deals}_{companies}_{seed}"
                kept[POSTGRESQL] = kept_postgres(vendors[POSTGRESQL], name)
            return self.run_in_throwaway_databases(arguments, targets, kept=kept, runs=runs)
        name = str(settings.DATABASES["default"]["NAME"])
        if not (name.startswith(tempfile.gettempdir()) or name.startswith(DATABASE_PREFIX)):
            raise CommandError("Refusing to generate benchmark data outside a throwaway database.")
        call_command("migrate", verbosity=0)
        if User.objects.filter(username=BENCH_USER).exists():  # a kept database (--keep-sqlite, --keep-postgres)
            urls = bench_urls()
            self.stdout.write(f"Reused the {Deal.objects.count()} deals of {name} ({connection.vendor}).")
        else:
            started = time.perf_counter()
            urls = generate(deals=deals, companies=companies, seed=seed)
            seconds = time.perf_counter() - started
            self.stdout.write(f"Generated {deals} deals in {seconds:.1f} s ({connection.vendor}).")
        serve(Pages(urls, profile=profile), self.stdout)

    def run_in_throwaway_databases(
        self, arguments: list[str], targets: list[tuple[str, str | None]], *, kept: dict, runs: int
    ):
        with ExitStack() as stack:
            children = {}
            for vendor, server in targets:
                database = nullcontext(kept[vendor]) if vendor in kept else throwaway_database(server, DATABASE_PREFIX)
                url = stack.enter_context(database)
                children[vendor] = stack.enter_context(Child(vendor, url, arguments))
            for child in children.values():  # both generate (or reuse) their data at once
                self.stdout.write(child.wait_until_ready())
            results = measure(children, runs=runs)
        self.report(results)

    def report(self, results: dict[str, dict]) -> None:
        self.stdout.write(f"{'request':<28}{'database':>11}{'median':>10}{'p95':>10}{'queries':>9}")
        requests = next(iter(results.values()))
        for name in requests:
            for vendor, figures in results.items():
                median, p95, queries = figures[name]
                self.stdout.write(f"{name:<28}{vendor:>11}{median:>8.1f}ms{p95:>8.1f}ms{queries:>9}")
        for name in requests:
            line = ratio_line(name, {vendor: figures[name][0] for vendor, figures in results.items()}, " ms")
            if line:
                self.stdout.write(line)


def measure(sources: dict, *, runs: int) -> dict[str, dict[str, tuple[float, float, int]]]:
    """{database: {request: (median ms, p95 ms, queries)}}: each request warmed up on every source,
    then its timed runs in alternation across the sources (who goes first alternates too)."""
    names = next(iter(sources.values())).names()
    timings = {vendor: {name: [] for name in names} for vendor in sources}
    order = list(sources)
    for name in names:
        for source in sources.values():
            source.warm(name)
        for run in range(runs):
            for vendor in order if run % 2 == 0 else reversed(order):
                timings[vendor][name].append(sources[vendor].timed(name))
    return {
        vendor: {
            name: (statistics.median(times), p95(times), source.queries(name))
            for name, times in timings[vendor].items()
        }
        for vendor, source in sources.items()
    }


class Pages:
    """The requests to time, on this process's database: the test client logged in as the bench user."""

    def __init__(self, urls: dict, *, profile: str | None = None):
        # The test client's host; setup_test_environment() would also instrument template rendering.
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        # Without DEBUG the manifest storage needs `collectstatic`; file names do not matter here.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        self.urls = dict(urls)
        self.client = Client()
        self.client.force_login(self.urls.pop("user"))
        self.profile = profile
        self.profilers = {}

    def names(self) -> list[str]:
        return list(self.urls)

    def get(self, name: str):
        url, headers = self.urls[name]
        response = self.client.get(url, headers=headers, secure=True)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        return response

    def warm(self, name: str) -> None:
        for _ in range(WARM_UP):
            self.get(name)

    def timed(self, name: str) -> float:
        """One request's server time, in ms (profiled with --profile)."""
        profiler = self.profilers.setdefault(name, cProfile.Profile()) if self.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        self.get(name)
        if profiler:
            profiler.disable()
        return (time.perf_counter() - started) * 1000

    def queries(self, name: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            self.get(name)
        return len(queries)

    def close(self) -> None:
        for name, profiler in self.profilers.items():
            slug = "".join(c if c.isalnum() else "-" for c in name)
            profiler.dump_stats(Path(self.profile) / f"{connection.vendor}-{slug}.prof")


READY = "ready"


def serve(pages: Pages, out) -> None:
    """The child's side: after "ready" and its requests' names, answer each line of standard input
    (a JSON [method, request name] of Pages) with a JSON line, until the input ends."""
    out.write(json.dumps([READY, pages.names()]))
    out.flush()
    for line in sys.stdin:
        method, name = json.loads(line)
        if method not in ("warm", "timed", "queries"):
            raise CommandError(f"Unknown request from the benchmark: {method!r}")
        out.write(json.dumps(getattr(pages, method)(name)))
        out.flush()
    pages.close()


class Child:
    """The parent's side: a child process timing the requests on one database (`serve`), as a
    source for `measure`."""

    def __init__(self, vendor: str, url: str, arguments: list[str]):
        self.vendor = vendor
        env = {
            **os.environ,
            INSIDE_FLAG: "1",
            "DATABASE_URL": url,
            "DEBUG": "False",  # production settings: no query log, no template debug info
        }
        self.errors = tempfile.TemporaryFile("w+")  # not a pipe: nobody reads it until the end
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "bench_board", *arguments]
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=settings.BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
        )
        self.request_names = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.errors.close()

    def failed(self) -> CommandError:
        self.process.wait()
        self.errors.seek(0)
        return CommandError(f"The benchmark failed on {self.vendor}:\n{self.errors.read()[-3000:]}")

    def read(self):
        line = self.process.stdout.readline()
        if not line:
            raise self.failed()
        return line

    def wait_until_ready(self) -> str:
        """What the child printed while it generated or reused its data."""
        printed = []
        while True:
            line = self.read()
            if line.startswith(f'["{READY}"'):
                self.request_names = json.loads(line)[1]
                return "".join(printed).rstrip("\n")
            printed.append(line)

    def ask(self, method: str, name: str):
        try:
            self.process.stdin.write(json.dumps([method, name]) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise self.failed() from None
        return json.loads(self.read())

    def names(self) -> list[str]:
        return self.request_names

    def warm(self, name: str) -> None:
        self.ask("warm", name)

    def timed(self, name: str) -> float:
        return self.ask("timed", name)

    def queries(self, name: str) -> int:
        return self.ask("queries", name)


def p95(timings: list[float]) -> float:
    """The 95th percentile of a few timings, never above the slowest: the default ("exclusive")
    method extrapolates past it from ten timings (the slowest + 0.45 x its gap to the second slowest),
    which printed one 90 ms request among 50 ms ones as a p95 of 108 ms."""
    return statistics.quantiles(timings, n=20, method="inclusive")[-1]


def kept_postgres(server_url: str, name: str) -> str:
    """The URL of the database `name` on the PostgreSQL server, created when missing."""
    import psycopg

    parts = urlsplit(server_url)
    admin = urlunsplit((POSTGRESQL, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def generate(*, deals: int, companies: int, seed: int) -> dict:
    """Companies, stages, owners, contacts and `deals` deals; returns the URLs to time (`bench_urls`)."""
    from dealflow.models import Organization, Owner, Person, Pipeline, Stage, StageChange, StageMapping
    from integrations.models import Integration, SyncState
    from portfolio.models import PortfolioCompany

    rng = random.Random(seed)
    now = timezone.now()
    per_company = deals // companies
    remote_ids = iter(range(1, 10**9))
    for number in range(1, companies + 1):
        company = PortfolioCompany.objects.create(name=f"Company {number}", slug=f"company-{number}")
        integration = Integration.objects.create(
            company=company,
            credentials={"api_token": "bench-token"},
            settings={"company_domain": f"company{number}"},
        )
        state = SyncState.objects.filter(integration=integration)
        state.update(last_successful_sync_at=now, last_sync_outcome="succeeded")
        pipeline = Pipeline.objects.create(integration=integration, remote_id=next(remote_ids), name="Sales")
        stages = []
        for order, (name, target, probability) in enumerate(STAGES):
            stage = Stage.objects.create(
                integration=integration,
                pipeline=pipeline,
                remote_id=next(remote_ids),
                name=name,
                order_nr=order,
                deal_probability=probability,
                is_deal_rot_enabled=True,
                days_to_rotten=30,
            )
            StageMapping.objects.create(integration=integration, stage=stage, target=target, is_confirmed=True)
            stages.append(stage)
        stages.append(Stage.objects.create(integration=integration, remote_id=next(remote_ids), name="New stage"))
        owners = Owner.objects.bulk_create(
            Owner(integration=integration, remote_id=next(remote_ids), name=f"Owner {index}") for index in range(20)
        )
        organizations = Organization.objects.bulk_create(
            Organization(integration=integration, remote_id=next(remote_ids), name=f"Organisation {index} AB")
            for index in range(per_company // 10 + 1)
        )
        persons = Person.objects.bulk_create(
            Person(
                integration=integration,
                remote_id=next(remote_ids),
                name=f"Person {index}",
                emails=[{"value": f"person{index}@example.com", "label": "work", "primary": True}],
            )
            for index in range(per_company // 5 + 1)
        )
        Deal.objects.bulk_create(
            (
                random_deal(rng, now, integration, pipeline, stages, owners, organizations, persons, next(remote_ids))
                for _ in range(per_company)
            ),
            batch_size=2000,
        )
    panel_deal = _panel_deal()
    StageChange.objects.bulk_create(
        StageChange(deal=panel_deal, to_stage_id=panel_deal.stage_id, changed_at=now - timedelta(days=day))
        for day in range(5)
    )
    with connection.cursor() as cursor:
        # Planner statistics; on PostgreSQL the visibility map too (as autovacuum leaves it in a
        # database that has run a while), so that index-only scans need not visit the table.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    merge_segments()  # as a large sync leaves SQLite's search indexes (integrations/sync/analyze.py)
    User.objects.create_user(BENCH_USER, is_staff=True)
    return bench_urls()


def _panel_deal():
    return Deal.objects.filter(integration__company__slug="company-1", status="open").order_by("pk").first()


def bench_urls() -> dict:
    """The generated data's user and the URLs to time (name: (url, headers))."""
    panel_deal = _panel_deal()
    htmx = {"HX-Request": "true"}
    return {
        "user": User.objects.get(username=BENCH_USER),
        "board, all companies": (reverse("dealflow:board"), {}),
        "board, one company": (reverse("dealflow:company_board", args=["company-1"]), {}),
        "board, search": (reverse("dealflow:board") + "?q=organisation+12", {}),
        "load more (Lead)": (reverse("dealflow:company_column", args=["company-1", "lead"]) + "?offset=25", htmx),
        "panel": (reverse("dealflow:deal", args=["company-1", panel_deal.remote_id]), htmx),
    }


def random_deal(rng, now, integration, pipeline, stages, owners, organizations, persons, remote_id):
    status = rng.choice(STATUSES)
    changed = now - timedelta(days=rng.randint(0, 700), minutes=rng.randint(0, 1440))
    return Deal(
        integration=integration,
        remote_id=remote_id,
        title=f"Deal {remote_id}",
        value=Decimal(rng.randint(1, 500) * 1000),
        currency=rng.choice(["SEK", "SEK", "SEK", "EUR"]),
        status=status,
        is_archived=rng.random() < 0.03,
        pipeline=pipeline,
        stage=rng.choice(stages),
        organization=rng.choice(organizations),
        person=rng.choice(persons),
        owner=rng.choice(owners),
        add_time=changed - timedelta(days=rng.randint(0, 60)),
        update_time=changed,
        stage_change_time=changed,
        won_time=changed if status == "won" else None,
    )
