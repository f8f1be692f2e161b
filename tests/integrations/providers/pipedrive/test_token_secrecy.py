"""A sentinel token pushed through every error path never shows up anywhere a human could read."""

from __future__ import annotations

import logging
import traceback

import pytest

from integrations.providers.pipedrive import PipedriveClient, PipedriveError
from integrations.providers.pipedrive.sandbox import Sandbox
from tests.sandbox_fixtures import SANDBOX_BASE_URL

SENTINEL = "sentinel-TOKEN-4f9c2b7e1d"

FAULTS = {
    "server_error": lambda sb: sb.set_faults(error_rate=1.0),
    "malformed": lambda sb: sb.set_faults(malformed_body=True),
    "dropped": lambda sb: sb.set_faults(drop_connection=True),
    "cdn_block": lambda sb: sb.set_faults(cdn_block=True),
    "burst_429": lambda sb: sb.set_rate_limits(burst_limit=0),
    "budget_gone": lambda sb: sb.set_rate_limits(daily_budget=0),
    "not_found": lambda sb: None,
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_sentinel_token_never_leaks(fault, fake_clock, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "integrations"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    sandbox = Sandbox("coeo", api_tokens=(SENTINEL,), clock=fake_clock)
    FAULTS[fault](sandbox)
    client = PipedriveClient(
        base_url=SANDBOX_BASE_URL,
        api_token=SENTINEL,
        transport=sandbox.transport(),
        sleep=fake_clock.sleep,
        max_retries=2,
    )

    with pytest.raises(PipedriveError) as caught:
        client.get_deal(999_999)

    error = caught.value
    formatted = "".join(traceback.format_exception(error))
    for text in (str(error), repr(error), error.message, formatted, repr(client), caplog.text):
        assert SENTINEL not in text
    assert all(SENTINEL not in record.getMessage() for record in caplog.records)


def test_wrong_sentinel_token_does_not_leak(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    client = PipedriveClient(base_url=SANDBOX_BASE_URL, api_token=SENTINEL, transport=sandbox.transport())
    with pytest.raises(PipedriveError) as caught:
        list(client.iter_deals())
    assert SENTINEL not in "".join(traceback.format_exception(caught.value)) + caplog.text + repr(client)


def test_token_echoed_by_a_server_is_redacted(sandbox):
    sandbox.update_deal(1, title=f"echo {SENTINEL}")
    sandbox.set_faults(malformed_body=True)
    client = PipedriveClient(base_url=SANDBOX_BASE_URL, api_token="sandbox-token", transport=sandbox.transport())
    client._token = SENTINEL  # the server "echoes" what the client treats as its secret
    with pytest.raises(PipedriveError) as caught:
        list(client.iter_deals(sort_by="id"))
    assert SENTINEL not in str(caught.value) and "[redacted]" in str(caught.value)


@pytest.mark.parametrize("status", [400, 502, 200])
def test_a_token_echoed_at_the_edge_of_the_excerpt_is_redacted(status):
    """The body is cut to a short excerpt for the message: the cut must not keep part of a token."""
    import httpx

    body = (" " * 790 + SENTINEL + " trailing text").encode()
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    client = PipedriveClient(
        base_url=SANDBOX_BASE_URL, api_token=SENTINEL, transport=transport, sleep=lambda seconds: None, max_retries=0
    )

    with pytest.raises(PipedriveError) as caught:
        client.get_deal(1)

    assert SENTINEL[:8] not in str(caught.value)
