"""PipedriveClient over real HTTP against the sandbox served on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest

from integrations.providers.pipedrive import ErrorKind, PipedriveClient, PipedriveError
from tests.sandbox_fixtures import REPO_ROOT


def test_pagination_over_loopback(live_sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    pages = []
    with PipedriveClient(base_url=live_sandbox.base_url, api_token=live_sandbox.token, page_size=40) as client:
        deals = list(client.iter_deals(on_page=pages.append))
        stages = list(client.iter_stages())
    expected = {d["id"] for d in live_sandbox.sandbox.deals() if not d["is_archived"]}
    assert {d.id for d in deals} == expected and len(pages) >= 5
    assert len(stages) == 19
    assert live_sandbox.token not in caplog.text


def test_429_recovery_over_loopback(live_sandbox):
    # The client paces itself to the limit it learned; when the limit drops under it (another user
    # of the token, a plan change), Pipedrive's 429 is waited out and the listing completes.
    waits = []

    def lower_the_limit(info):
        live_sandbox.sandbox.set_rate_limits(burst_limit=1)

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    with PipedriveClient(
        base_url=live_sandbox.base_url, api_token=live_sandbox.token, page_size=100, sleep=sleep
    ) as client:
        deals = list(client.iter_deals(on_page=lower_the_limit))
    assert len(deals) == len([d for d in live_sandbox.sandbox.deals() if not d["is_archived"]])
    assert waits and all(wait >= 1.0 for wait in waits)  # reset is sent in whole seconds


def test_dropped_connection_over_loopback(live_sandbox):
    live_sandbox.sandbox.set_faults(drop_connection=True)
    with (
        PipedriveClient(
            base_url=live_sandbox.base_url, api_token=live_sandbox.token, max_retries=1, sleep=lambda s: None
        ) as client,
        pytest.raises(PipedriveError) as caught,
    ):
        client.get_deal(1)
    assert caught.value.kind is ErrorKind.TRANSIENT


def test_sandbox_mutations_over_http(live_sandbox):
    import httpx

    headers = {"x-api-token": live_sandbox.token}
    response = httpx.post(f"{live_sandbox.base_url}/_sandbox/win_deal", json={"deal_id": 2}, headers=headers)
    assert response.status_code == 200 and response.json()["data"]["status"] == "won"
    denied = httpx.post(f"{live_sandbox.base_url}/_sandbox/win_deal", json={"deal_id": 2})
    assert denied.status_code == 401
    unknown = httpx.post(f"{live_sandbox.base_url}/_sandbox/drop_tables", json={}, headers=headers)
    assert unknown.status_code == 404


@pytest.mark.slow
def test_manage_py_pipedrive_sandbox_serves_two_companies():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "pipedrive_sandbox", "--port", "0", "--dataset", "coeo", "--dataset", "acme"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Pipedrive sandbox at http://127.0.0.1:"), process.stderr.read()
        base_url = first_line.rsplit(" ", 1)[-1].strip()
        companies = {}
        for token in ("coeo-sandbox-token", "acme-sandbox-token"):
            with PipedriveClient(base_url=base_url, api_token=token, page_size=25) as client:
                me = client.get_current_user()
                companies[me.company_domain] = {d.currency for d in client.iter_deals()}
        assert companies == {"coeo": {"SEK"}, "acme": {"EUR"}}
    finally:
        process.terminate()
        process.wait(timeout=10)
