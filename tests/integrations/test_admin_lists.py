"""The integration admin as a new user reads it: labels, order, run history, last sync."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dealflow.models import StageMapping
from integrations.models import SyncOutcome, SyncRun, SyncState
from portfolio.models import PortfolioCompany

pytestmark = pytest.mark.django_db


def change_url(integration):
    return reverse("admin:integrations_integration_change", args=[integration.pk])


def test_labels(admin_client, connected):
    connected.sync()
    page = admin_client.get(change_url(connected.integration)).content.decode()
    assert "API base URL" in page and ">Enabled" in page and ">Confirmed" in page
    listing = admin_client.get(reverse("admin:integrations_integration_changelist")).content.decode()
    assert "Enabled" in listing and "Is enabled" not in listing


def test_the_map_these_stages_anchor_is_on_the_page(admin_client, connected):
    connected.sync()
    page = admin_client.get(change_url(connected.integration)).content.decode()
    assert 'id="stage_mappings-group"' in page  # the board's "Map these stages" link lands here


def test_stage_mappings_are_in_pipeline_order(admin_client, connected):
    connected.sync()
    page = admin_client.get(change_url(connected.integration)).content.decode()
    expected = StageMapping.objects.filter(integration=connected.integration).order_by(
        "stage__pipeline__order_nr", "stage__order_nr"
    )
    positions = [page.index(f"{m.stage.name} · id {m.stage.remote_id}") for m in expected]
    assert positions == sorted(positions)


def test_sync_runs_list_shows_duration_and_error_and_no_delete(admin_client, connected):
    started = timezone.now() - timedelta(minutes=5)
    run = SyncRun.objects.create(
        integration=connected.integration,
        kind="incremental",
        started_at=started,
        finished_at=started + timedelta(seconds=42.5),
        outcome=SyncOutcome.FAILED,
        error="Pipedrive said no",
    )
    listing = admin_client.get(reverse("admin:integrations_syncrun_changelist")).content.decode()
    assert "42.5 s" in listing and "Pipedrive said no" in listing
    assert 'value="delete_selected"' not in listing
    page = admin_client.get(reverse("admin:integrations_syncrun_change", args=[run.pk])).content.decode()
    assert reverse("admin:integrations_syncrun_delete", args=[run.pk]) not in page


def test_sync_runs_show_values_out_of_range_and_skipped_records(admin_client, connected):
    started = timezone.now() - timedelta(minutes=5)
    SyncRun.objects.create(
        integration=connected.integration,
        kind="full",
        started_at=started,
        finished_at=started,
        outcome=SyncOutcome.SUCCEEDED,
        values_out_of_range=7,
        skipped=2,
        skipped_ids={"deals": [901, 902]},
    )
    listing = admin_client.get(reverse("admin:integrations_syncrun_changelist")).content.decode()
    assert '<td class="field-values_out_of_range">7</td>' in listing
    assert '<td class="field-skipped">2</td>' in listing
    page = admin_client.get(reverse("admin:integrations_integration_change", args=[connected.integration.pk]))
    recent_runs = page.content.decode()
    assert "Values out of range" in recent_runs and "901" in recent_runs and "902" in recent_runs


def test_last_synced_is_the_last_success_with_the_last_attempt_beside_it(admin_client, connected):
    success = timezone.now() - timedelta(hours=3)
    failure = timezone.now() - timedelta(minutes=2)
    SyncState.objects.filter(integration_id=connected.integration.pk).update(
        last_successful_sync_at=success, last_synced_at=failure, last_sync_outcome=SyncOutcome.FAILED
    )
    listing = admin_client.get(reverse("admin:integrations_integration_changelist")).content.decode()
    assert "Last synced" in listing and "last attempt " in listing


def test_a_lowercase_currency_is_upper_cased(admin_client):
    response = admin_client.post(
        reverse("admin:portfolio_portfoliocompany_add"),
        {
            "name": "Vinter",
            "slug": "vinter",
            "reporting_currency": "sek",
            "website": "",
            "is_active": "on",
            "integrations-TOTAL_FORMS": "0",
            "integrations-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert PortfolioCompany.objects.get(slug="vinter").reporting_currency == "SEK"
