"""Access tokens renewed under the integration's row lock: single-use refresh tokens are never
spent twice, and a refused refresh marks the integration as needing reconnecting, once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounting.services.sync import sync_financials
from integrations.models import Integration, SyncState
from integrations.providers.base import ErrorKind
from integrations.providers.fortnox import tokens
from integrations.providers.fortnox.errors import FortnoxError


def expire(integration: Integration) -> dict:
    """Make the stored access token look expired (as an hour later); returns the credentials."""
    credentials = {**integration.credentials, "expires_at": (timezone.now() - timedelta(minutes=1)).isoformat()}
    Integration.objects.filter(pk=integration.pk).update(credentials=credentials)
    return credentials


@pytest.mark.django_db
def test_a_fresh_token_is_used_as_it_is(connected):
    stored = connected.integration.credentials["access_token"]
    assert tokens.access_token(connected.integration.pk, transport=connected.sandbox.transport()) == stored
    assert connected.sandbox.refresh_calls == 0


@pytest.mark.django_db
def test_an_expired_token_is_refreshed_and_the_new_refresh_token_stored(connected):
    before = expire(connected.integration)
    token = tokens.access_token(connected.integration.pk, transport=connected.sandbox.transport())
    after = Integration.objects.get(pk=connected.integration.pk).credentials
    assert token == after["access_token"] != before["access_token"]
    assert after["refresh_token"] and after["refresh_token"] != before["refresh_token"]
    assert connected.sandbox.tenant_of(token) == "100001"


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_spend_the_refresh_token_once(connected):
    """Worker A refreshes and is held inside the token call; worker B asks meanwhile. B must wait
    for A's row lock and then use A's new token: one refresh, the connection intact. (Without the
    lock, B would spend the same refresh token and Fortnox would revoke the connection.)"""
    sandbox, integration_id = connected.sandbox, connected.integration.pk
    expire(connected.integration)
    first_in, second_in = threading.Event(), threading.Event()

    def hold_the_first_refresh(grant_type: str) -> None:
        if grant_type != "refresh_token":
            return
        if not first_in.is_set():
            first_in.set()
            second_in.wait(timeout=3)  # B's refresh would arrive here if it were not waiting on the lock
        else:
            second_in.set()

    sandbox.token_hook = hold_the_first_refresh
    results, errors = {}, []

    def worker(name: str) -> None:
        try:
            results[name] = tokens.access_token(integration_id, transport=sandbox.transport())
        except Exception as error:  # noqa: BLE001 - reported by the assertions below
            errors.append(error)
        finally:
            connection.close()

    a = threading.Thread(target=worker, args=("a",))
    a.start()
    assert first_in.wait(timeout=10)
    b = threading.Thread(target=worker, args=("b",))
    b.start()
    a.join(timeout=30)
    b.join(timeout=30)
    assert errors == []
    assert sandbox.refresh_calls == 1
    assert results["a"] == results["b"]
    assert sandbox.tenant_of(results["b"]) == "100001"  # still valid: nothing was revoked
    assert not SyncState.objects.get(integration_id=integration_id).needs_attention


@pytest.mark.django_db
def test_a_revoked_refresh_marks_the_integration_and_is_not_tried_again(connected):
    connected.sandbox.revoke("100001")
    expire(connected.integration)
    with pytest.raises(FortnoxError) as raised:
        tokens.access_token(connected.integration.pk, transport=connected.sandbox.transport())
    assert raised.value.kind is ErrorKind.AUTH and raised.value.permanent
    state = SyncState.objects.get(integration_id=connected.integration.pk)
    assert state.needs_attention and "reconnecting" in state.attention_reason
    assert connected.sandbox.refresh_calls == 1
    # A second attempt (a sync by hand) fails at once, without another call to Fortnox.
    with pytest.raises(FortnoxError):
        tokens.access_token(connected.integration.pk, transport=connected.sandbox.transport())
    assert connected.sandbox.refresh_calls == 1


@pytest.mark.django_db
def test_a_sync_with_a_revoked_connection_fails_once_with_a_token_free_reason(connected):
    connected.sandbox.revoke("100001")
    secret_before = expire(connected.integration)["refresh_token"]
    run = sync_financials(integration=connected.integration, client_options=connected.options())
    assert run.outcome == "failed" and run.error_kind == "auth"
    assert "reconnecting" in run.error and secret_before not in run.error
    assert connected.integration.sync_state.needs_attention
    assert connected.sandbox.refresh_calls == 1


@pytest.mark.django_db
def test_a_token_refused_early_is_renewed_once_and_the_call_repeated(connected):
    connected.sandbox.expire_access_tokens()  # Fortnox refuses it although we think it valid
    run = sync_financials(integration=connected.integration, client_options=connected.options())
    assert run.outcome == "succeeded", run.error
    assert connected.sandbox.refresh_calls == 1
