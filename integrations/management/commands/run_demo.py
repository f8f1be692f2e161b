"""`make run`: the whole app on one machine — sandbox, worker, beat, a first sync, web server."""

import io
import os
import signal
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounting.demo import connect_and_sync_demo_companies, start_fortnox_sandbox
from integrations.inbound.registration import register as register_webhooks
from integrations.management.children import Children, free_port, port_is_free, wait_for_port
from integrations.management.commands.sync_deals import summary
from integrations.providers.pipedrive.demo import allow_sandbox, connect_demo_integrations
from integrations.services.beat_schedules import ensure_schedules
from integrations.sync.runner import sync_integration

SANDBOX_PORT = 8765


class Command(BaseCommand):
    help = "Start the Pipedrive sandbox, a Celery worker and beat, sync the demo companies and serve the app."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=SANDBOX_PORT)

    def handle(self, *args, port, sandbox_port, **options):
        seeded = io.StringIO()
        call_command("seed_demo", stdout=seeded)
        self.stdout.write(seeded.getvalue().rstrip())
        ensure_schedules()
        self._make_queue_folders()
        children = Children(settings.VAR_DIR / "log")
        # A plain `kill` should stop the children too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        allow_sandbox()
        try:
            base_url = self._start_sandbox(children, sandbox_port)
            integrations = connect_demo_integrations(base_url=base_url)
            self._first_sync(integrations)
            if start_fortnox_sandbox(children, self.stdout.write):  # accounting/demo.py
                connect_and_sync_demo_companies(self.stdout.write)
            self._register_webhooks(integrations, port)
            children.start("celery-worker", "-m", "celery", "-A", "config", "worker", "--loglevel=INFO")
            children.start("celery-beat", "-m", "celery", "-A", "config", "beat", "--loglevel=INFO")
            self.stdout.write(f"Celery worker and beat started; logs in {children.log_dir}/")
            self._print_welcome(port, seeded.getvalue())
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            self.stdout.write("Stopping the sandbox, worker and beat…")
            children.stop_all()

    def _make_queue_folders(self):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                settings.VAR_DIR.joinpath(options[key]).mkdir(parents=True, exist_ok=True)

    def _start_sandbox(self, children, sandbox_port):
        port = sandbox_port if port_is_free(sandbox_port) else free_port()
        args = ["manage.py", "pipedrive_sandbox", "--port", str(port), "--dataset", "coeo", "--dataset", "acme"]
        log = children.start("pipedrive-sandbox", *args)
        wait_for_port(port, children=children)
        base_url = f"http://127.0.0.1:{port}"
        self.stdout.write(f"Pipedrive sandbox (coeo, acme) at {base_url}; log {log}")
        return base_url

    def _first_sync(self, integrations):
        for integration in integrations:
            slug = integration.company.slug
            run = sync_integration(integration=integration, full=True)
            self.stdout.write(summary(slug, run))
        # Today's pipeline snapshot at once, so the metrics pages' pipeline trend has a first point.
        from dealflow.metrics.snapshot import take_snapshots

        take_snapshots()

    def _register_webhooks(self, integrations, port):
        """The sandbox delivers each change (control API, write-back) to this server's receiver."""
        if settings.PUBLIC_BASE_URL.startswith(("http://127.0.0.1", "http://localhost")):
            settings.PUBLIC_BASE_URL = os.environ["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
        for integration in integrations:
            report = register_webhooks(integration)
            self.stdout.write(f"{integration.company.slug}: {report.message}")

    def _print_welcome(self, port, seed_output):
        login = [line for line in seed_output.splitlines() if line.startswith("Demo login")]
        self.stdout.write(self.style.SUCCESS(f"\nBoard: http://127.0.0.1:{port}/dealflow/"))
        self.stdout.write(f"Admin: http://127.0.0.1:{port}/admin/")
        self.stdout.write(f"Financials: http://127.0.0.1:{port}/accounting/coeo/")
        for line in login:
            self.stdout.write(self.style.SUCCESS(line))
        self.stdout.write("Press Ctrl-C to stop everything.\n")
