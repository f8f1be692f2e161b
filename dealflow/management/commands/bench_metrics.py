"""Time the metrics pages on a generated data set, in a throwaway database.

    python manage.py bench_metrics [--deals 50000] [--stage-changes 200000] [--activities 100000]
                                   [--companies 8] [--runs 20] [--database-url postgres://…]
                                   [--keep PATH] [--pages overview,…]

The board benchmark's generator (bench_board.generate) makes the companies, stages and deals; this
command adds closed deals' dates, expected close dates, stage changes and activities, takes a
pipeline snapshot for each of the last 90 days, then times the overview, one company's metrics
page and the portfolio metrics page (median and 95th percentile server time through the full
Django stack, and the SQL query count of one request). The development database is never touched.

`--keep PATH` (SQLite): generate into the file PATH and keep it; when PATH exists, time the pages on
it again without generating (generating 50,000 deals takes minutes). `--pages` times only the named
pages (overview, company metrics, portfolio metrics; or their first words: company, portfolio).
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from dealflow.management.commands import bench_board
from integrations.management.throwaway_db import SQLITE, servers
from integrations.management.throwaway_db import throwaway_database as throwaway

INSIDE_FLAG = "BENCH_METRICS_THROWAWAY_DB"
KEPT_FLAG = "BENCH_METRICS_KEPT_DB"  # "new" or "reuse" with --keep
DATABASE_PREFIX = "bench_metrics_"
BATCH = 5000


class Command(BaseCommand):
    help = "Benchmark the overview and metrics pages on generated deals, stage changes and activities."

    def add_arguments(self, parser):
        parser.add_argument("--deals", type=int, default=50_000)
        parser.add_argument("--stage-changes", type=int, default=200_000)
        parser.add_argument("--activities", type=int, default=100_000)
        parser.add_argument("--companies", type=int, default=8)
        parser.add_argument("--runs", type=bench_board.timed_runs, default=20, help="timed requests per page")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--database-url", help="the server to measure on (default DATABASE_URL, else SQLite)")
        parser.add_argument("--keep", help="SQLite file to generate into and keep, or to reuse when it exists")
        parser.add_argument("--pages", help="comma-separated pages to time (default: all)")

    def handle(self, *args, deals, stage_changes, activities, companies, runs, seed, database_url, keep, pages, **o):
        sizes = {"deals": deals, "stage_changes": stage_changes, "activities": activities, "companies": companies}
        if os.environ.get(INSIDE_FLAG) != "1":
            arguments = [f"--{key.replace('_', '-')}={value}" for key, value in sizes.items()]
            arguments += [f"--runs={runs}", f"--seed={seed}"] + ([f"--pages={pages}"] if pages else [])
            if keep:
                return self.run_outside(arguments, SQLITE, kept_database(keep))
            (vendor, server), *_ = servers(database_url=database_url, compare_postgres=False)
            return self.run_outside(arguments, vendor, throwaway_database(server, DATABASE_PREFIX))
        name = str(settings.DATABASES["default"]["NAME"])
        throwaway_name = name.startswith(tempfile.gettempdir()) or name.startswith(DATABASE_PREFIX)
        # --keep never generates into a file that exists (kept_database: "reuse").
        if not (throwaway_name or os.environ.get(KEPT_FLAG)):
            raise CommandError("Refusing to generate benchmark data outside a throwaway database.")
        call_command("migrate", verbosity=0)
        if os.environ.get(KEPT_FLAG) == "reuse":
            self.stdout.write("Reusing the kept data set (its sizes are the ones it was generated with).")
            urls = page_urls(get_user_model().objects.get(username="bench"))  # bench_board.generate's user
        else:
            started = time.perf_counter()
            urls = generate(seed=seed, **sizes)
            self.stdout.write(f"Generated {sizes} in {time.perf_counter() - started:.0f} s.")
        if pages:
            urls = {"user": urls.pop("user"), **chosen_pages(urls, pages)}
        results = bench_board.Command().measure(urls, runs=runs)
        self.stdout.write(json.dumps(results))

    def run_outside(self, arguments, vendor, database):
        with database as (url, kept):
            env = {**os.environ, INSIDE_FLAG: "1", "DATABASE_URL": url, "DEBUG": "False", KEPT_FLAG: kept}
            command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "bench_metrics", *arguments]
            completed = subprocess.run(command, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True)
        if completed.returncode:
            raise CommandError(f"The benchmark failed on {vendor}:\n{completed.stderr[-3000:]}")
        *lines, last = completed.stdout.strip().splitlines()
        self.stdout.write("\n".join(line for line in lines if line.strip()))
        self.stdout.write(f"{'page (' + vendor + ')':<34}{'median':>10}{'p95':>10}{'queries':>9}")
        for page, (median, p95, queries) in json.loads(last).items():
            self.stdout.write(f"{page:<34}{median:>8.1f}ms{p95:>8.1f}ms{queries:>9}")


@contextmanager
def throwaway_database(server, prefix):
    with throwaway(server, prefix) as url:
        yield url, ""


@contextmanager
def kept_database(path: str):
    """A SQLite file the benchmark keeps: "reuse" when it exists already, else "new" (generate)."""
    file = Path(path).resolve()
    yield f"sqlite:///{file}", "reuse" if file.exists() else "new"


def page_urls(user) -> dict:
    return {
        "user": user,
        "overview": (reverse("dealflow:overview"), {}),
        "company metrics": (reverse("dealflow:company_metrics", args=["company-1"]), {}),
        "portfolio metrics": (reverse("dealflow:portfolio_metrics"), {}),
    }


def chosen_pages(urls: dict, pages: str) -> dict:
    """The pages `--pages` names, each by its name or its name's first word ("portfolio" is the
    portfolio metrics page); a name that matches no page is an error, not an empty benchmark."""
    chosen = {}
    for wanted in (page.strip() for page in pages.split(",")):
        found = {name: url for name, url in urls.items() if wanted in (name, name.split()[0])}
        if not found:
            raise CommandError(f"No page {wanted!r}: choose among {', '.join(urls)}.")
        chosen.update(found)
    return chosen


def generate(*, deals, stage_changes, activities, companies, seed) -> dict:
    from dealflow.metrics.snapshot import take_snapshots
    from dealflow.models import Deal, DealStatus, Stage, StageChange

    rng = random.Random(seed)
    now = timezone.now()
    board_urls = bench_board.generate(deals=deals, companies=companies, seed=seed)
    # Dates the board benchmark leaves out: when lost deals were lost, when open ones should close.
    Deal.objects.filter(status=DealStatus.LOST).update(lost_time=F("update_time"), lost_reason="Price")
    open_ids = list(Deal.objects.filter(status=DealStatus.OPEN).values_list("id", flat=True))
    today = timezone.localdate()
    updates = [
        Deal(id=deal_id, expected_close_date=today + timedelta(days=rng.randint(-60, 200))) for deal_id in open_ids
    ]
    Deal.objects.bulk_update(updates, ["expected_close_date"], batch_size=BATCH)

    stages = {}
    for stage_id, integration_id in Stage.objects.values_list("id", "integration_id"):
        stages.setdefault(integration_id, []).append(stage_id)
    rows = list(Deal.objects.values_list("id", "integration_id", "add_time"))
    changes = []
    for _ in range(stage_changes):
        deal_id, integration_id, added = rng.choice(rows)
        changes.append(
            StageChange(
                deal_id=deal_id,
                from_stage_id=rng.choice(stages[integration_id]),
                to_stage_id=rng.choice(stages[integration_id]),
                changed_at=min(now, (added or now) + timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1440))),
            )
        )
        if len(changes) == BATCH:
            StageChange.objects.bulk_create(changes)
            changes = []
    StageChange.objects.bulk_create(changes)
    make_activities(rng, rows, activities, now)
    for days_ago in range(90):
        take_snapshots(today - timedelta(days=days_ago))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return page_urls(board_urls["user"])


def make_activities(rng, rows, count, now):
    from dealflow.models import Activity

    batch = []
    for remote_id in range(1, count + 1):
        deal_id, integration_id, _ = rng.choice(rows)
        batch.append(
            Activity(
                integration_id=integration_id,
                remote_id=remote_id,
                subject=f"Call {remote_id}",
                type="call",
                due_date=(now + timedelta(days=rng.randint(-90, 60))).date(),
                done=rng.random() < 0.6,
                deal_id=deal_id,
                add_time=now - timedelta(days=rng.randint(0, 400)),
                update_time=now,
            )
        )
        if len(batch) == BATCH:
            Activity.objects.bulk_create(batch)
            batch = []
    Activity.objects.bulk_create(batch)
