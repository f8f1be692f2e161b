"""`manage.py pipedrive_sandbox`: serve the Pipedrive stand-in on 127.0.0.1."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.providers.pipedrive.sandbox import DATASETS, DEFAULT_TOKEN, Sandbox, SandboxRouter, dataset_token
from integrations.providers.pipedrive.sandbox.core import DEFAULT_BURST_LIMIT, DEFAULT_DAILY_BUDGET
from integrations.providers.pipedrive.sandbox.server import base_url_of, make_server


class Command(BaseCommand):
    help = (
        "Serve the Pipedrive sandbox (API v2 deals, stages, pipelines, persons, organizations, dealFields;"
        " v1 users) on 127.0.0.1. One dataset answers to --token (default 'sandbox-token'). Several"
        " --dataset options serve several companies from one process, each answering to the token"
        " '<dataset>-sandbox-token' (e.g. coeo-sandbox-token, acme-sandbox-token). Sandbox tokens are"
        " not secrets. Point an integration's API base URL at the printed URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--dataset", action="append", choices=sorted(DATASETS), help="repeatable; default coeo")
        parser.add_argument("--deals", type=int, default=None, help="deals per dataset (default: the dataset's own)")
        parser.add_argument("--token", default=None, help="token for a single dataset (default sandbox-token)")
        parser.add_argument("--burst-limit", type=int, default=DEFAULT_BURST_LIMIT, help="requests per 2 s per token")
        parser.add_argument("--daily-budget", type=int, default=DEFAULT_DAILY_BUDGET, help="daily token budget")
        parser.add_argument(
            "--latency", type=float, default=0.0, help="seconds added to every answer, like a real network's round trip"
        )
        parser.add_argument(
            "--cache-pages",
            action="store_true",
            help="answer a repeated listing query from the bytes built for it (benchmarks: the server CPU is not ours)",
        )

    def handle(self, *args, port, dataset, deals, token, burst_limit, daily_budget, latency, cache_pages, **options):
        datasets = dataset or ["coeo"]
        if token and len(datasets) > 1:
            raise CommandError("--token applies to a single dataset; several datasets get '<dataset>-sandbox-token'")
        if len(datasets) == 1:
            tokens = {datasets[0]: token or DEFAULT_TOKEN}
        else:
            tokens = {name: dataset_token(name) for name in datasets}
        sandboxes = [
            Sandbox(
                name,
                deals=deals,
                api_tokens=(tokens[name],),
                burst_limit=burst_limit,
                daily_budget=daily_budget,
                cache_pages=cache_pages,
            )
            for name in datasets
        ]
        for sandbox in sandboxes:
            sandbox.set_faults(latency_seconds=latency)
        try:
            server = make_server(SandboxRouter(sandboxes), port=port)
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {exc}") from None
        self.stdout.write(f"Pipedrive sandbox at {base_url_of(server)}")
        for sandbox in sandboxes:
            self.stdout.write(
                f"  dataset {sandbox.dataset}: {len(sandbox.store.deals)} deals, token {tokens[sandbox.dataset]}"
            )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
