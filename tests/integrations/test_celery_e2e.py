"""End to end: enqueue_sync -> a real Redis -> a real Celery worker -> the sandbox -> deals in SQLite.

Everything runs for real on loopback: redis-server on a free port (no persistence), a worker
subprocess (`celery -A config worker`), the sandbox served by a thread of this process, and a
file SQLite database migrated for this test (pytest-django's own test database is in memory and
invisible to other processes). The queued message is read raw from Redis before the worker
starts, to prove the API token is not in it.
"""

import base64
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 120  # an upper bound for a stuck worker, not a performance threshold

SETUP = """
from integrations.models import Integration
from portfolio.models import PortfolioCompany
company = PortfolioCompany.objects.create(slug="coeo", name="Coeo")
settings = {{"company_domain": "coeo", "api_base_url": {url!r}}}
Integration.objects.create(company=company, settings=settings, credentials={{"api_token": {token!r}}})
"""
ENQUEUE = """
from integrations.models import Integration
from integrations.services.scheduling import enqueue_sync
enqueue_sync(integration=Integration.objects.get())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True, capture_output=True)


@pytest.fixture
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (CI installs it; locally: apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture
def served_sandbox():
    token = f"e2e-{secrets.token_hex(16)}"
    sandbox = Sandbox("coeo", api_tokens=(token,), burst_limit=10_000)
    base_url, stop = serve_in_thread(sandbox)
    yield sandbox, base_url, token
    stop()


def raw_redis_dump(redis_url) -> bytes:
    """Every key and value in Redis, with kombu's base64 message bodies decoded too."""

    client = redis.Redis.from_url(redis_url)
    chunks = []
    for key in client.keys("*"):
        kind = client.type(key)
        values = {
            b"list": lambda k: client.lrange(k, 0, -1),
            b"string": lambda k: [client.get(k)],
            b"set": client.smembers,
            b"zset": lambda k: client.zrange(k, 0, -1),
            b"hash": lambda k: list(client.hgetall(k).items()),
        }[kind](key)
        for value in values:
            chunks.append(repr(value).encode())
            if isinstance(value, bytes) and value.startswith(b"{"):
                body = json.loads(value).get("body", "")
                chunks.append(base64.b64decode(body) if body else b"")
    return b"\n".join(chunks)


def test_enqueued_sync_runs_in_a_real_worker(tmp_path, redis_url, served_sandbox):
    sandbox, base_url, token = served_sandbox
    db_path = tmp_path / "e2e.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "CELERY_BROKER_URL": redis_url}
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", SETUP.format(token=token, url=base_url))

    manage(env, "shell", "-c", ENQUEUE)
    queued = raw_redis_dump(redis_url)
    assert b"integrations.sync_integration" in queued  # the task really is in the broker
    assert token.encode() not in queued

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        outcome = wait_for_run(db_path, worker)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert outcome == "succeeded", output
    with sqlite3.connect(db_path) as db:
        (deals,) = db.execute("SELECT count(*) FROM dealflow_deal").fetchone()
    assert deals == len(sandbox.deals())
    assert token not in output


def wait_for_run(db_path, worker) -> str | None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and worker.poll() is None:
        with sqlite3.connect(db_path) as db:
            row = db.execute("SELECT outcome FROM integrations_syncrun WHERE finished_at IS NOT NULL").fetchone()
        if row:
            return row[0]
        time.sleep(0.2)
    return None
