"""At most one sync per integration: a lease in the database that expires if a worker dies."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dealflow.models import Deal
from integrations.models import Integration, SyncOutcome, SyncRun, SyncState
from integrations.services.lease import acquire_lease, release_lease, renew_lease
from integrations.sync.runner import sync_integration

pytestmark = pytest.mark.django_db


def test_lease_is_exclusive_until_released(connected):
    pk = connected.integration.pk
    first = acquire_lease(integration_id=pk)
    assert first is not None
    assert acquire_lease(integration_id=pk) is None
    assert renew_lease(first)
    release_lease(first)
    assert acquire_lease(integration_id=pk) is not None


def test_expired_lease_is_taken_over_and_the_old_holder_cannot_renew(connected):
    pk = connected.integration.pk
    stale = acquire_lease(integration_id=pk, ttl=timedelta(seconds=-1))
    fresh = acquire_lease(integration_id=pk)
    assert fresh is not None and fresh.owner != stale.owner
    assert not renew_lease(stale)
    release_lease(stale)  # a late release by the old holder does not free the new lease
    assert Integration.objects.get(pk=pk).sync_state.sync_lease_owner == fresh.owner


def test_second_concurrent_sync_is_refused(connected):
    pk = connected.integration.pk
    outcomes = []

    def sync_from_inside(_line):
        if not outcomes:  # while the first sync holds the lease, on its first page
            outcomes.append(connected.sync().outcome)

    run = sync_integration(
        integration=connected.integration,
        on_progress=sync_from_inside,
        client_options={"transport": connected.sandbox.transport(), "page_size": 50},
    )
    assert run.outcome == SyncOutcome.SUCCEEDED
    assert outcomes == [SyncOutcome.SKIPPED]
    skipped = SyncRun.objects.get(outcome=SyncOutcome.SKIPPED)
    assert "Another sync" in skipped.error
    assert Deal.objects.count() == len(connected.sandbox.deals())
    assert Integration.objects.get(pk=pk).sync_state.sync_lease_owner == ""


def test_sync_takes_over_an_expired_lease_and_closes_the_dead_run(connected):
    pk = connected.integration.pk
    dead = SyncRun.objects.create(integration=connected.integration, kind="incremental", started_at=timezone.now())
    SyncState.objects.filter(integration_id=pk).update(
        sync_lease_owner="dead-worker", sync_lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    run = connected.sync()

    assert run.outcome == SyncOutcome.SUCCEEDED
    dead.refresh_from_db()
    assert dead.outcome == SyncOutcome.FAILED and "lease expired" in dead.error


def test_live_lease_of_another_worker_skips_the_sync(connected):
    SyncState.objects.filter(integration_id=connected.integration.pk).update(
        sync_lease_owner="other-worker", sync_lease_expires_at=timezone.now() + timedelta(minutes=5)
    )
    run = connected.sync()
    assert run.outcome == SyncOutcome.SKIPPED
    assert run.error_kind == "lease_held"
    assert Deal.objects.count() == 0


def test_a_disabled_integration_is_not_synced(connected):
    Integration.objects.filter(pk=connected.integration.pk).update(is_enabled=False)
    connected.integration.refresh_from_db()
    run = connected.sync()
    assert run.outcome == SyncOutcome.SKIPPED
    assert "disabled" in run.error
    assert Deal.objects.count() == 0
