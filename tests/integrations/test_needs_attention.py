"""A permanent failure (credentials rejected, account not found) marks the integration as needing
attention: shown in the admin and to staff on the board, and the dispatcher stops queueing it until
someone changes its settings or credentials, or a sync (Sync now) succeeds."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.forms import form_for
from integrations.models import Integration, SyncErrorKind, SyncOutcome, SyncState
from integrations.providers.base import ErrorKind, ProviderError
from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN
from integrations.services import scheduling
from tests.integrations.conftest import connect

pytestmark = pytest.mark.django_db

WRONG_TOKEN = "wrong-token-1234567890"


def state(integration) -> SyncState:
    return SyncState.objects.get(integration_id=integration.pk)


@pytest.fixture
def rejected(coeo_sandbox):
    """An integration whose last sync failed because Pipedrive rejected its token."""
    connected = connect(coeo_sandbox, token=WRONG_TOKEN)
    run = connected.sync()
    assert (run.outcome, run.error_kind) == (SyncOutcome.FAILED, SyncErrorKind.AUTH)
    return connected


def due_ids():
    """Who the dispatcher would queue a day from now (every interval has passed by then)."""
    return [integration.pk for integration in scheduling.due_integrations(now=timezone.now() + timedelta(days=1))]


def test_a_rejected_token_needs_attention_and_is_no_longer_dispatched(rejected, coeo_sandbox):
    other = connect(coeo_sandbox, slug="other").integration
    flagged = state(rejected.integration)
    assert flagged.needs_attention and "rejected the API token" in flagged.attention_reason
    assert WRONG_TOKEN not in flagged.attention_reason
    assert due_ids() == [other.pk]


def test_a_transient_failure_does_not_need_attention(connected, monkeypatch):
    error = ProviderError("Pipedrive server error (HTTP 502)", kind=ErrorKind.TRANSIENT)
    assert not error.permanent
    assert ProviderError("x", kind=ErrorKind.AUTH).permanent and ProviderError("x", kind=ErrorKind.NOT_FOUND).permanent
    monkeypatch.setattr(
        type(connected.integration.provider_api), "sync_plan", lambda *a, **kw: (_ for _ in ()).throw(error)
    )
    assert connected.sync().error_kind == SyncErrorKind.TRANSIENT
    assert not state(connected.integration).needs_attention
    assert due_ids() == [connected.integration.pk]


def admin_form(integration, **changes):
    integration = Integration.objects.get(pk=integration.pk)
    data = {
        "provider": integration.provider,
        "is_enabled": "on",
        "sync_interval_minutes": "15",
        **integration.settings,
        "api_token": "",
        **changes,
    }
    return form_for(integration.provider)(data, instance=integration)


def test_saving_other_fields_keeps_the_flag_and_a_new_token_clears_it(rejected):
    form = admin_form(rejected.integration, sync_interval_minutes="20")
    assert form.is_valid(), form.errors
    form.save()
    assert state(rejected.integration).needs_attention

    form = admin_form(rejected.integration, api_token=DEFAULT_TOKEN)
    assert form.is_valid(), form.errors
    form.save()
    assert not state(rejected.integration).needs_attention
    assert due_ids() == [rejected.integration.pk]


def test_the_admin_page_clears_the_flag_when_the_token_changes(rejected, admin_client):
    """Through the admin itself (save_model with commit=False, then save_m2m)."""
    url = reverse("admin:integrations_integration_change", args=[rejected.integration.pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "api_token"}
    data.update({"company": rejected.integration.company_id, "is_enabled": "on", "api_token": DEFAULT_TOKEN})
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
        for inline_form in formset.formset.forms:
            data.update(
                {
                    inline_form.add_prefix(name): value
                    for name, value in inline_form.initial.items()
                    if value is not None
                }
            )
            data[inline_form.add_prefix("id")] = inline_form.instance.pk
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not state(rejected.integration).needs_attention


def test_a_successful_sync_clears_the_flag(rejected):
    Integration.objects.filter(pk=rejected.integration.pk).update(credentials={})  # keep the flag's cause out
    rejected.integration.credentials = {"api_token": DEFAULT_TOKEN}
    rejected.integration.save()  # a plain save (not the admin form): the flag stays
    assert state(rejected.integration).needs_attention
    assert rejected.sync().outcome == SyncOutcome.SUCCEEDED  # Sync now still runs it by hand
    assert not state(rejected.integration).needs_attention


def test_the_admin_list_and_page_show_it(rejected, admin_client):
    listing = admin_client.get(reverse("admin:integrations_integration_changelist")).content.decode()
    assert "Needs attention" in listing
    page = admin_client.get(reverse("admin:integrations_integration_change", args=[rejected.integration.pk]))
    assert "Needs attention since" in page.content.decode() and "rejected the API token" in page.content.decode()
