"""Sync state (lease, marks, last run) lives in its own row, written only by targeted UPDATEs, so
saving an Integration (the admin's change form, a stale instance) can never wipe or revert it."""

import pytest

from integrations.forms import form_for
from integrations.models import Integration, SyncState
from integrations.services.lease import acquire_lease, renew_lease

pytestmark = pytest.mark.django_db


def state_of(integration):
    return SyncState.objects.get(integration_id=integration.pk)


def admin_form(integration, **changes):
    """The admin's change form, bound to `integration` as loaded when the page was opened."""
    data = {
        "provider": integration.provider,
        "is_enabled": "on",
        "sync_interval_minutes": "30",
        **integration.settings,
        "api_token": "",
        **changes,
    }
    return form_for(integration.provider)(data, instance=integration)


def test_saving_the_admin_form_keeps_a_lease_taken_after_the_page_was_loaded(connected):
    loaded = Integration.objects.get(pk=connected.integration.pk)  # the admin opens the page
    form = admin_form(loaded)
    lease = acquire_lease(integration_id=loaded.pk)  # a sync starts meanwhile
    assert lease is not None
    assert form.is_valid(), form.errors
    form.save()  # the admin saves
    assert renew_lease(lease), "the running sync lost its lease to an admin save"
    assert acquire_lease(integration_id=loaded.pk) is None, "a second sync could start"
    assert Integration.objects.get(pk=loaded.pk).sync_interval_minutes == 30  # the edit itself landed


def test_saving_a_stale_instance_keeps_the_marks_and_last_run_written_meanwhile(connected):
    stale = Integration.objects.get(pk=connected.integration.pk)
    run = connected.sync()  # writes marks and the last-run summary through the services
    after_sync = state_of(connected.integration)
    assert after_sync.sync_marks and after_sync.last_successful_sync_at == run.finished_at
    stale.sync_interval_minutes = 45
    stale.save()
    state = state_of(connected.integration)
    assert state.sync_marks == after_sync.sync_marks
    assert state.last_successful_sync_at == run.finished_at
    assert state.last_sync_outcome == "succeeded"
