"""End to end over loopback, everything real: the sandbox (a thread here) delivers a webhook to the
app (runserver), which stores it and queues it in Redis; a plain Celery worker fetches the deal from
the sandbox and changes the board's database, with no sync run in between. A dropped delivery is
repaired by the next incremental sync."""

import os
import sqlite3
import subprocess
import sys
import time

import pytest

from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread
from tests.integrations.test_celery_e2e import REPO, WAIT_SECONDS, free_port, manage, raw_redis_dump, redis_url

pytestmark = pytest.mark.slow
__all__ = ["redis_url"]  # the fixture, used below

SETUP = """
from integrations.inbound.registration import register
from integrations.models import Integration
from integrations.sync.runner import sync_integration
from portfolio.models import PortfolioCompany
company = PortfolioCompany.objects.create(slug="coeo", name="Coeo")
settings = {{"company_domain": "coeo", "api_base_url": {url!r}}}
integration = Integration.objects.create(company=company, settings=settings, credentials={{"api_token": {token!r}}})
assert sync_integration(integration=integration, full=True).outcome == "succeeded"
assert register(integration).ok
"""
SYNC = """
from integrations.models import Integration
from integrations.sync.runner import sync_integration
assert sync_integration(integration=Integration.objects.get()).outcome == "succeeded"
"""
SECRETS = """
from integrations.models import WebhookEndpoint
endpoint = WebhookEndpoint.objects.get()
print("CREDENTIALS", endpoint.credentials["user"], endpoint.credentials["password"])
"""


def query(db_path, sql, *args):
    with sqlite3.connect(db_path) as db:
        return db.execute(sql, args).fetchone()


def wait_until(check, *processes):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and all(process.poll() is None for process in processes):
        if check():
            return True
        time.sleep(0.1)
    return False


def test_a_sandbox_change_reaches_the_board_through_a_webhook_and_a_real_worker(tmp_path, redis_url):
    token = "e2e-webhook-token-0123456789"
    sandbox = Sandbox("coeo", api_tokens=(token,), burst_limit=10_000)
    sandbox_url, stop_sandbox = serve_in_thread(sandbox)
    port = free_port()
    db_path = tmp_path / "e2e.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "CELERY_BROKER_URL": redis_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WEBHOOK_COALESCE_SECONDS": "0.5",
    }
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", SETUP.format(token=token, url=sandbox_url))
    printed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SECRETS], cwd=REPO, env=env, capture_output=True, text=True
    ).stdout
    user, password = next(line for line in printed.splitlines() if line.startswith("CREDENTIALS")).split()[1:]
    assert len(sandbox.webhooks.registered) == 5

    log = open(tmp_path / "processes.log", "w+b")  # noqa: SIM115 - read after both processes end
    web = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        runs_before = query(db_path, "SELECT count(*) FROM integrations_syncrun")[0]
        (stage_before,) = query(db_path, "SELECT stage_remote_id FROM dealflow_deal WHERE remote_id = 1")
        assert stage_before != 9
        # The web server may still be starting: the sandbox's retries (3 s, scaled) cover that.
        sandbox.set_webhook_faults(time_scale=0.1)
        sandbox.move_deal(1, 9)

        def moved():
            return query(db_path, "SELECT stage_remote_id FROM dealflow_deal WHERE remote_id = 1")[0] == 9

        assert wait_until(moved, web, worker)
        assert query(db_path, "SELECT count(*) FROM integrations_syncrun")[0] == runs_before  # no sync ran
        assert query(db_path, "SELECT source FROM dealflow_stagechange WHERE to_stage_remote_id = 9")[0] == "webhook"

        # A dropped delivery never arrives; the next incremental sync repairs the board.
        sandbox.set_webhook_faults(drop=1)
        sandbox.update_deal(2, title="Changed while the webhook was lost")
        assert sandbox.webhooks.delivery.wait_idle(WAIT_SECONDS) and sandbox.webhooks.delivery.dropped == 1
        title = "SELECT title FROM dealflow_deal WHERE remote_id = 2"
        assert query(db_path, title)[0] != "Changed while the webhook was lost"
        manage(env, "shell", "-c", SYNC)
        assert query(db_path, title)[0] == "Changed while the webhook was lost"
        queued = raw_redis_dump(redis_url)
    finally:
        for process in (web, worker):
            process.terminate()
            process.wait(30)
        stop_sandbox()
    log.seek(0)
    output = log.read()
    for secret in (token, user, password):
        assert secret.encode() not in output
        assert secret.encode() not in queued
