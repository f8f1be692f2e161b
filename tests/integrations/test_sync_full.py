"""Full reconciliation removes what no longer exists upstream, but only after a complete pass."""

import pytest

from dealflow.models import Deal, Stage, StageMapping
from integrations.models import SyncOutcome, SyncRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def purged(connected):
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    victim = connected.sandbox.deals()[0]["id"]
    connected.sandbox.purge_deal(victim)
    return connected, victim


def test_incremental_sync_cannot_see_a_purged_deal(purged):
    connected, victim = purged
    connected.sync()
    assert Deal.objects.filter(remote_id=victim).exists()


def test_full_sync_removes_a_purged_deal(purged):
    connected, victim = purged
    run = connected.sync(full=True)
    assert run.outcome == SyncOutcome.SUCCEEDED and run.kind == SyncRun.Kind.FULL
    assert not Deal.objects.filter(remote_id=victim).exists()
    assert run.deleted == 1 and run.created == 0 and run.updated == 0
    connected.integration.refresh_from_db()
    assert connected.integration.sync_state.last_full_sync_at == run.finished_at


def test_failed_full_sync_removes_nothing(purged):
    connected, victim = purged
    connected.sandbox.set_faults(fail_page=("archived_deals", 1))
    run = connected.sync(full=True)
    assert run.outcome == SyncOutcome.FAILED
    assert Deal.objects.filter(remote_id=victim).exists()
    assert Deal.objects.count() == len(connected.sandbox.deals()) + 1


def test_full_sync_keeps_mappings_of_stages_that_still_exist(purged):
    connected, _ = purged
    before = dict(StageMapping.objects.values_list("stage__remote_id", "pk"))
    connected.sync(full=True)
    assert dict(StageMapping.objects.values_list("stage__remote_id", "pk")) == before
    assert Stage.objects.count() == len(connected.sandbox.stages())
