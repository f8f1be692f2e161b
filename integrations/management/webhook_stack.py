"""The whole webhook path on loopback, for `bench_webhooks` and the end-to-end test: a Redis broker,
a throwaway SQLite database synced from a sandbox (served by a thread of this process) with its
webhooks registered, a web server (gunicorn) receiving them and Celery workers processing them.

Everything touching the database runs in child processes pointed at the throwaway file; this
process reads it with sqlite3 only, so it never touches the database it was started with.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from integrations.management.children import Children, free_port, wait_for_port
from integrations.providers.pipedrive.demo import SANDBOX_ALLOWED_BASE_URLS
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread

REPO = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 120  # an upper bound for a stuck child, not a performance threshold

SETUP = """
from integrations.inbound.registration import register
from integrations.models import Integration, WebhookEndpoint
from integrations.sync.runner import sync_integration
from portfolio.models import PortfolioCompany
company = PortfolioCompany.objects.create(slug="coeo", name="Coeo")
settings = {{"company_domain": "coeo", "api_base_url": {url!r}}}
integration = Integration.objects.create(company=company, settings=settings, credentials={{"api_token": {token!r}}})
assert sync_integration(integration=integration, full=True).outcome == "succeeded"
assert register(integration).ok
endpoint = WebhookEndpoint.objects.get()
print("WEBHOOK", endpoint.url_key, endpoint.credentials["user"], endpoint.credentials["password"])
"""
SYNC = """
from integrations.models import Integration
from integrations.sync.runner import sync_integration
assert sync_integration(integration=Integration.objects.get()).outcome == "succeeded"
"""


class WebhookStack:
    def __init__(self, *, token: str, coalesce_seconds: float | None = None) -> None:
        redis = shutil.which("redis-server")
        if redis is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.token = token
        self.directory = Path(tempfile.mkdtemp(prefix="webhook-stack-"))
        self.db_path = self.directory / "db.sqlite3"
        self.children = Children(self.directory / "log")
        self.redis_port, self.web_port = free_port(), free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "CELERY_BROKER_URL": self.redis_url,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.web_port}",
            "SECURE_SSL_REDIRECT": "False",  # plain http on loopback, whatever DEBUG says
            "PIPEDRIVE_ALLOWED_BASE_URLS": SANDBOX_ALLOWED_BASE_URLS,  # the sandbox on loopback
        }
        if coalesce_seconds is not None:
            self.env["WEBHOOK_COALESCE_SECONDS"] = str(coalesce_seconds)
        self._redis = redis
        self.sandbox = Sandbox("coeo", api_tokens=(token,), burst_limit=100_000)
        self.url_key = self.user = self.password = ""
        self._stop_sandbox = None

    def start(self, *, web_workers: int = 2) -> None:
        """Redis, the sandbox, the database (migrated, synced, webhooks registered), the web server."""
        self._spawn("redis", self._redis, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "")
        self._wait_for_redis()
        sandbox_url, self._stop_sandbox = serve_in_thread(self.sandbox)
        self.manage("migrate", "--noinput")
        printed = self.manage("shell", "-c", SETUP.format(token=self.token, url=sandbox_url))
        line = next(line for line in printed.splitlines() if line.startswith("WEBHOOK "))
        self.url_key, self.user, self.password = line.split()[1:]
        self._spawn(
            "web",
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{self.web_port}",
            "--workers",
            str(web_workers),
            "--preload",  # the app is loaded before the first request, as in a warmed-up deployment
        )
        wait_for_port(self.web_port, children=self.children)

    def start_worker(self) -> None:
        """One plain Celery worker (no queue options), processing one task at a time."""
        self._spawn(
            "worker", sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"
        )

    def stop(self, *, keep_logs: bool = False) -> None:
        self.children.stop_all()
        if self._stop_sandbox is not None:
            self._stop_sandbox()
        if not keep_logs:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> WebhookStack:
        try:
            self.start()
        except BaseException:
            self.stop(keep_logs=True)
            raise
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        self.stop(keep_logs=exc_type is not None)

    def drop_queued_tasks(self) -> None:
        """Empty the broker (the benchmark's burst measures the receiver, not the worker)."""
        import redis

        redis.Redis(host="127.0.0.1", port=self.redis_port).flushall()

    # -- helpers --------------------------------------------------------------------------

    @property
    def receiver_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/hooks/pipedrive/{self.url_key}/"

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return done.stdout

    def sync(self) -> None:
        self.manage("shell", "-c", SYNC)

    def query(self, sql: str, *args):
        with sqlite3.connect(self.db_path) as db:
            return db.execute(sql, args).fetchone()

    def wait_until(self, check) -> bool:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            self.children.check_alive()
            if check():
                return True
            time.sleep(0.01)
        return False

    def logs(self) -> bytes:
        return b"".join(path.read_bytes() for path in sorted(self.children.log_dir.glob("*.log")))

    def _spawn(self, name: str, *command: str) -> None:
        """Like Children.start, with the stack's environment (its database and broker)."""
        with (self.children.log_dir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.children.processes.append((name, process))

    def _wait_for_redis(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not self._redis_answers():
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def _redis_answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.redis_port).ping())
        except redis.ConnectionError:
            return False
