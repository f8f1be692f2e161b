"""A sync whose worker was killed shows as interrupted on the board at once: the header's progress
check frees a dead holder's lease itself, rather than waiting for the next dispatch (a minute)."""

import pytest
from django.urls import reverse

from integrations.models import Integration, SyncOutcome
from tests.dealflow.helpers import board_html
from tests.integrations import test_lease_dead_holder as dead_holder

pytestmark = pytest.mark.django_db

killed_pid = dead_holder.killed_pid  # the fixture: the id of a process that was SIGKILLed


def test_the_board_shows_a_killed_sync_as_interrupted_at_once(client, staff, coeo, killed_pid):
    run = dead_holder.hold_lease(coeo.integration, killed_pid)
    client.force_login(staff)

    html = board_html(client, coeo.company)

    run.refresh_from_db()
    assert (run.outcome, run.error_kind) == (SyncOutcome.FAILED, "interrupted")
    assert "Syncing…" not in html and "every 2s" not in html
    assert "The last sync failed." in html and f"process {killed_pid}" in html  # the reason, for staff
    assert Integration.objects.get(pk=coeo.integration.pk).sync_state.sync_lease_owner == ""


def test_the_sync_poll_says_interrupted_at_once(client, staff, coeo, killed_pid):
    run = dead_holder.hold_lease(coeo.integration, killed_pid)
    client.force_login(staff)
    since = int(run.started_at.timestamp()) - 1

    response = client.get(reverse("dealflow:sync_status", args=[coeo.company.slug]), {"since": since})

    html = response.content.decode()
    assert "Sync ended: interrupted." in html and "every 2s" not in html
    assert response["HX-Trigger"] == "dealflow:synced"  # the board refreshes, its header saying why
