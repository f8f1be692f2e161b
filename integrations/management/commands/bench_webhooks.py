"""`manage.py bench_webhooks`: how fast the webhook receiver answers under a burst, and how long a
change in the sandbox takes to reach the board with one worker.

Runs the whole path on loopback (integrations/management/webhook_stack.py): gunicorn receiving,
Redis queueing, one plain Celery worker processing, a throwaway SQLite database, the sandbox in a
thread of this process. Nothing touches the database this command was started with.
"""

import json
import secrets
import sqlite3
import statistics
import threading
import time
import uuid

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.management.webhook_stack import WebhookStack


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Command(BaseCommand):
    help = (
        "Benchmark webhooks in: the receiver's p50/p99 answer time and events/s accepted under a burst,"
        " and the time from a sandbox change to the board, p50/p95, with one worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=1000, help="events in the burst (default 1000)")
        parser.add_argument("--senders", type=int, default=16, help="concurrent connections sending it")
        parser.add_argument("--changes", type=int, default=20, help="sandbox changes timed to the board")
        parser.add_argument(
            "--coalesce-seconds",
            type=float,
            default=None,
            help="WEBHOOK_COALESCE_SECONDS for the run (default: the setting, 2 s)",
        )

    def handle(self, *args, events, senders, changes, coalesce_seconds, **options):
        try:
            stack = WebhookStack(token=f"bench-{secrets.token_hex(8)}", coalesce_seconds=coalesce_seconds)
        except RuntimeError as error:
            raise CommandError(str(error)) from None
        self.stdout.write("Starting redis, the sandbox, a synced database, gunicorn…")
        with stack:
            burst = self._burst(stack, events, senders)
            stack.drop_queued_tasks()
            stack.start_worker()
            latencies = self._changes_to_board(stack, changes)
        self._report(burst, latencies, events, senders, coalesce_seconds)

    def _warm_up(self, stack: WebhookStack) -> None:
        """Each web worker's first requests open its database connection and load the URLs: an
        unknown webhook address (404, stores nothing) gets those done before the clock starts."""
        with httpx.Client(timeout=60) as http:
            for _ in range(20):
                http.post(stack.receiver_url.replace(stack.url_key, "warm-up-unknown-key"), content=b"{}")

    def _burst(self, stack: WebhookStack, events: int, senders: int) -> dict:
        self._warm_up(stack)
        deal_ids = [row[0] for row in self._deal_ids(stack)]
        bodies = [self._event(deal_ids[number % len(deal_ids)]) for number in range(events)]
        timings: list[float] = []
        statuses: list[int] = []
        lock = threading.Lock()

        def send(share: list[bytes]) -> None:
            with httpx.Client(auth=(stack.user, stack.password), timeout=30) as http:
                for body in share:
                    started = time.perf_counter()
                    status = http.post(stack.receiver_url, content=body, headers={"content-type": "application/json"})
                    elapsed = time.perf_counter() - started
                    with lock:
                        timings.append(elapsed)
                        statuses.append(status.status_code)

        threads = [threading.Thread(target=send, args=(bodies[index::senders],)) for index in range(senders)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        accepted = statuses.count(200)
        stored = stack.query("SELECT count(*) FROM integrations_inboundevent")[0]
        return {"timings": timings, "accepted": accepted, "stored": stored, "wall": wall}

    @staticmethod
    def _deal_ids(stack: WebhookStack) -> list:
        with sqlite3.connect(stack.db_path) as db:
            return db.execute("SELECT remote_id FROM dealflow_deal WHERE status = 'open' ORDER BY remote_id").fetchall()

    @staticmethod
    def _event(deal_id: int) -> bytes:
        meta = {"id": str(uuid.uuid4()), "entity": "deal", "action": "change", "entity_id": str(deal_id)}
        return json.dumps({"meta": meta, "data": {"id": deal_id}, "previous": None}).encode()

    def _changes_to_board(self, stack: WebhookStack, changes: int) -> list[float]:
        """Move one deal back and forth between two stages; time each move until the board has it."""
        deal = stack.sandbox.deal(1)
        stages = [deal["stage_id"], next(s["id"] for s in stack.sandbox.stages() if s["id"] != deal["stage_id"])]
        latencies = []
        for number in range(changes):
            target = stages[(number + 1) % 2]
            started = time.perf_counter()
            stack.sandbox.move_deal(1, target)

            def arrived(target=target):
                return stack.query("SELECT stage_remote_id FROM dealflow_deal WHERE remote_id = 1")[0] == target

            if not stack.wait_until(arrived):
                raise CommandError(f"Change {number + 1} never reached the board; logs in {stack.directory}")
            latencies.append(time.perf_counter() - started)
        return latencies

    def _report(self, burst: dict, latencies: list[float], events: int, senders: int, coalesce) -> None:
        timings = burst["timings"]
        write = self.stdout.write
        write(f"Receiver, burst of {events} events over {senders} connections (gunicorn, 2 workers, SQLite):")
        write(
            f"  answer time p50 {percentile(timings, 0.5) * 1000:.1f} ms, p99 {percentile(timings, 0.99) * 1000:.1f} ms"
        )
        write(
            f"  accepted {burst['accepted']}/{events} ({burst['stored']} stored) in {burst['wall']:.2f} s:"
            f" {burst['accepted'] / burst['wall']:.0f} events/s"
        )
        write(f"Sandbox change to board, one worker, {len(latencies)} changes:")
        write(
            f"  p50 {percentile(latencies, 0.5):.2f} s, p95 {percentile(latencies, 0.95):.2f} s"
            f" (mean {statistics.mean(latencies):.2f} s; includes WEBHOOK_COALESCE_SECONDS"
            f" = {coalesce if coalesce is not None else settings.WEBHOOK_COALESCE_SECONDS} s)"
        )
