"""The board's integration is the company's CRM (chosen by category), never the first by name:
a company's accounting integration ("fortnox" sorts before "pipedrive") must not take over the
board header, the health dot or Sync now."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import Integration, SyncOutcome, SyncState
from tests import factories as make
from tests.dealflow.helpers import board_html

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_accounting(coeo):
    """Coeo's Pipedrive, synced 3 minutes ago, plus a never-synced integration that sorts first."""
    SyncState.objects.filter(integration_id=coeo.integration.pk).update(
        last_successful_sync_at=timezone.now() - timedelta(minutes=3), last_sync_outcome=SyncOutcome.SUCCEEDED
    )
    coeo.integration.refresh_from_db()
    # Built for another company, then moved: .update() bypasses the provider choices (no Fortnox yet)
    # and the one-per-company-and-provider rule is kept.
    other = make.integration(make.company("Placeholder"))
    Integration.objects.filter(pk=other.pk).update(company=coeo.company, provider="fortnox", category="accounting")
    assert coeo.company.integrations.order_by("provider").first().pk == other.pk  # it does sort first
    return coeo


def test_the_board_header_shows_the_crm_integration(client, staff, with_accounting):
    client.force_login(staff)

    response = client.get(reverse("dealflow:company_board", args=[with_accounting.company.slug]))

    assert response.context["integration"] == with_accounting.integration
    html = board_html(client, with_accounting.company)
    assert "synced 3 min ago" in html and "never synced" not in html


def test_sync_now_and_its_progress_use_the_crm_integration(client, staff, with_accounting, enqueued):
    client.force_login(staff)
    slug = with_accounting.company.slug

    assert client.post(reverse("dealflow:sync", args=[slug])).status_code == 200
    assert enqueued == [{"integration": with_accounting.integration, "full": False}]
    assert client.get(reverse("dealflow:sync_status", args=[slug])).status_code == 200


def test_the_health_dot_is_the_crm_integrations(client, staff, with_accounting, nordic):
    client.force_login(staff)

    response = client.get(reverse("dealflow:board"))

    assert response.context["health"][with_accounting.company.pk].health == "fresh"
