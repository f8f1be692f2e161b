"""Failures mid-sync leave the cache and high-water marks untouched; the next sync converges."""

import logging

import httpx
import pytest

from dealflow.models import Deal, StageChange
from integrations.models import SyncOutcome, SyncState
from integrations.providers.pipedrive.sandbox.server import serve_in_thread
from integrations.services.scheduling import retry_countdown

pytestmark = pytest.mark.django_db


def snapshot(integration):
    integration.refresh_from_db()
    deals = sorted(Deal.objects.values_list("remote_id", "fingerprint", "stage_remote_id", "status", "synced_at"))
    return deals, StageChange.objects.count(), integration.sync_state.sync_marks


@pytest.fixture
def changed_upstream(connected):
    """A synced integration with changes waiting upstream on several pages of deals."""
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    sandbox = connected.sandbox
    later_stage = next(s["id"] for s in sandbox.stages() if s["name"] == "Förhandling")
    open_deals = [d for d in sandbox.deals() if d["status"] == "open" and d["stage_id"] != later_stage]
    for deal in open_deals[:120]:  # 120 changed deals: 3 pages of 50
        sandbox.move_deal(deal["id"], later_stage)
    sandbox.add_deal(title="Added while broken")
    return connected


@pytest.mark.parametrize(
    ("faults", "outcome", "error_kind"),
    [
        ({"fail_page": ("deals", 3)}, SyncOutcome.FAILED, "bad_response"),
        ({"server_errors": True}, SyncOutcome.FAILED, "transient"),
        ({"drop_connection": True}, SyncOutcome.FAILED, "transient"),
    ],
    ids=["malformed-page-3", "http-500", "dropped-connection"],
)
def test_fault_leaves_cache_intact_and_next_sync_converges(changed_upstream, faults, outcome, error_kind):
    connected = changed_upstream
    before = snapshot(connected.integration)

    connected.sandbox.set_faults(**faults)
    failed = connected.sync()

    assert (failed.outcome, failed.error_kind) == (outcome, error_kind)
    assert failed.error
    assert snapshot(connected.integration) == before
    connected.integration.refresh_from_db()
    assert connected.integration.sync_state.last_sync_outcome == outcome
    assert connected.integration.sync_state.last_sync_error == failed.error

    connected.sandbox.reset_faults()
    recovered = connected.sync()
    assert recovered.outcome == SyncOutcome.SUCCEEDED
    assert (recovered.created, recovered.updated) == (1, 120)
    assert StageChange.objects.count() == 120


def test_timeout_is_a_transient_failure(changed_upstream):
    connected = changed_upstream
    before = snapshot(connected.integration)
    base_url, stop = serve_in_thread(connected.sandbox)  # over loopback: a real socket timeout
    connected.integration.settings["api_base_url"] = base_url
    connected.integration.save()
    connected.sandbox.set_faults(latency_seconds=0.5)
    try:
        run = connected.sync(transport=None, timeout=httpx.Timeout(0.1), max_retries=1)
    finally:
        stop()
    assert (run.outcome, run.error_kind) == (SyncOutcome.FAILED, "transient")
    assert snapshot(connected.integration) == before
    assert retry_countdown(run, retries_so_far=0) is not None


def test_budget_exhaustion_ends_rate_limited_without_retry(changed_upstream):
    connected = changed_upstream
    before = snapshot(connected.integration)
    sandbox = connected.sandbox
    sandbox.spend_budget(sandbox.rate_limiter.daily_budget - sandbox.rate_limiter.spent - 40)

    run = connected.sync()

    assert (run.outcome, run.error_kind) == (SyncOutcome.RATE_LIMITED, "budget_exhausted")
    assert "budget" in run.error
    assert snapshot(connected.integration) == before
    assert retry_countdown(run, retries_so_far=0) is None
    connected.integration.refresh_from_db()
    assert connected.integration.sync_state.sync_blocked_until is not None

    calls_before = sandbox.rate_limiter.spent
    paused = connected.sync()
    assert paused.outcome == SyncOutcome.SKIPPED and "resume" in paused.error
    assert paused.api_calls == 0 and sandbox.rate_limiter.spent == calls_before


def test_sync_resumes_after_the_budget_resets(changed_upstream):
    connected = changed_upstream
    sandbox = connected.sandbox
    sandbox.spend_budget(sandbox.rate_limiter.daily_budget)
    assert connected.sync().outcome == SyncOutcome.RATE_LIMITED

    sandbox.reset_rate_limits()
    SyncState.objects.filter(integration_id=connected.integration.pk).update(sync_blocked_until=None)
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED


def test_token_never_reaches_run_error_or_logs(connected, caplog):
    token = connected.integration.credentials["api_token"]
    connected.sandbox.set_faults(server_errors=True)
    with caplog.at_level(logging.DEBUG):
        failed = connected.sync()
    connected.sandbox.set_faults(server_errors=False, fail_page=("stages", 1))
    with caplog.at_level(logging.DEBUG):
        malformed = connected.sync()
    texts = [failed.error, failed.progress, malformed.error, malformed.progress, caplog.text]
    connected.integration.refresh_from_db()
    texts.append(connected.integration.sync_state.last_sync_error)
    assert failed.error and malformed.error
    assert not any(token in text for text in texts)


def test_wrong_token_fails_with_auth_error_and_no_token_in_message(connected):
    connected.integration.credentials = {"api_token": "wrong-token-1234567890"}
    connected.integration.save()
    run = connected.sync()
    assert (run.outcome, run.error_kind) == (SyncOutcome.FAILED, "auth")
    assert "wrong-token-1234567890" not in run.error
    assert retry_countdown(run, retries_so_far=0) is None
