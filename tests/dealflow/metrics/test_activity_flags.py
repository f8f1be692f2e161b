"""Deal.has_planned_activity stays exactly what the activities say (an activity of the deal not done)
after every kind of write, whoever writes: full and incremental syncs, webhooks, the ORM, bulk
inserts, raw updates of the flag itself.

Runs on SQLite, and on PostgreSQL with `scripts/with-postgres .venv/bin/python -m pytest ...`
(the two databases keep the flag with different triggers: dealflow/metrics/activity_flags.py).
"""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dealflow.metrics import activity_flags
from dealflow.models import Activity, Deal
from integrations.models import SyncOutcome
from integrations.providers.pipedrive import records
from integrations.sync.apply import apply_records
from tests import factories as make
from tests.dealflow import test_board_totals_table as board_totals_tests

pytestmark = pytest.mark.django_db
synced = board_totals_tests.synced


def computed() -> dict[int, bool]:
    """Each deal's flag as the activities say it, computed in Python."""
    planned = set(Activity.objects.filter(done=False, deal__isnull=False).values_list("deal_id", flat=True))
    return {deal_id: deal_id in planned for deal_id in Deal.objects.values_list("pk", flat=True)}


def assert_exact() -> dict[int, bool]:
    expected = computed()
    assert dict(Deal.objects.values_list("pk", "has_planned_activity")) == expected
    assert activity_flags.differing() == []
    return expected


def flag(remote_id: int) -> bool:
    return Deal.objects.get(remote_id=remote_id).has_planned_activity


def succeeded(run):
    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    return run


def test_a_full_sync_sets_the_flags(synced):
    flags = assert_exact()
    assert True in flags.values() and False in flags.values()


def test_an_incremental_sync_marks_done_adds_moves_and_deletes(synced):
    sandbox = synced.sandbox
    remote = [row for row in sandbox.activities() if not row["is_deleted"] and row["deal_id"]]
    planned_by_deal = {}
    for row in remote:
        if not row["done"]:
            planned_by_deal.setdefault(row["deal_id"], []).append(row["id"])
    singles = [ids[0] for ids in planned_by_deal.values() if len(ids) == 1]
    done_one, moved_one, deleted_one = singles[:3]
    moved_from = next(row["deal_id"] for row in remote if row["id"] == moved_one)
    deleted_from = next(row["deal_id"] for row in remote if row["id"] == deleted_one)
    without = [deal["id"] for deal in sandbox.deals() if deal["id"] not in planned_by_deal]
    done_from = next(row["deal_id"] for row in remote if row["id"] == done_one)
    assert flag(done_from) and flag(moved_from) and not flag(without[0]) and not flag(without[1])

    sandbox.update_activity(done_one, done=True)
    sandbox.update_activity(moved_one, deal_id=without[0])
    sandbox.add_activity(subject="Board meeting", deal_id=without[1], due_date="2030-01-02")
    sandbox.delete_activity(deleted_one)
    succeeded(synced.sync())
    # Pipedrive lists no deleted activities: the full sync's reconciliation removes them.
    succeeded(synced.sync(full=True))

    assert not Activity.objects.filter(remote_id=deleted_one).exists()
    assert_exact()
    assert (flag(done_from), flag(moved_from), flag(deleted_from)) == (False, False, False)
    assert (flag(without[0]), flag(without[1])) == (True, True)


def test_records_applied_by_a_webhook_and_deals_resynced(synced):
    sandbox = synced.sandbox
    row = next(row for row in sandbox.activities() if not row["is_deleted"] and not row["done"] and row["deal_id"])
    change = sandbox.update_activity(row["id"], done=True)
    apply_records(integration=synced.integration, entity="activities", records=[records.Activity.from_api(change)])
    assert_exact()
    # A deal written again by the sync (its upsert writes every column, the flag's default too).
    deal = next(deal for deal in sandbox.deals() if flag(deal["id"]))
    change = sandbox.update_deal(deal["id"], value=42.5)
    apply_records(integration=synced.integration, entity="deals", records=[records.Deal.from_api(change)])
    assert flag(deal["id"])
    assert_exact()


def test_orm_writes_bulk_inserts_and_deleted_deals(db):
    stage = make.stage(make.pipeline(make.integration(make.company())), "Lead")
    first, second = make.deal(stage, "First"), make.deal(stage, "Second")
    stale = Deal.objects.get(pk=first.pk)  # read before its activity: saving it must not clear the flag
    call = make.activity(first, "Call")
    assert assert_exact()[first.pk] is True
    stale.title = "First, renamed"
    stale.save()
    assert assert_exact()[first.pk] is True

    call.deal = second  # moved to another deal
    call.save()
    assert assert_exact() == {first.pk: False, second.pk: True}
    Activity.objects.bulk_create(
        [
            Activity(integration=first.integration, remote_id=make.next_id(), subject="Done", deal=first, done=True),
            Activity(integration=first.integration, remote_id=make.next_id(), subject="Next", deal=first),
        ]
    )
    assert assert_exact() == {first.pk: True, second.pk: True}
    Activity.objects.filter(deal=first, done=False).update(done=True)
    assert assert_exact()[first.pk] is False
    call.delete()
    assert assert_exact()[second.pk] is False

    # The flag written directly is put back to what the activities say.
    Deal.objects.filter(pk=first.pk).update(has_planned_activity=True)
    third = Deal.objects.create(integration=first.integration, remote_id=make.next_id(), has_planned_activity=True)
    make.many_deals(stage, 3, has_planned_activity=True)
    assert not any(assert_exact().values())

    # A deleted deal's activities lose their deal: the remaining flags stay exact.
    make.activity(third, "Call")
    make.activity(second, "Call")
    third.delete()
    assert assert_exact()[second.pk] is True


def test_the_rebuild_command_repairs_the_flags_and_their_triggers(synced, capsys):
    expected = assert_exact()
    with connection.cursor() as cursor:
        activity_flags.uninstall(cursor, connection.vendor)
    wrong = next(pk for pk, planned in expected.items() if planned)
    Deal.objects.filter(pk=wrong).update(has_planned_activity=False)
    with pytest.raises(CommandError, match="planned activity"):
        call_command("rebuild_metric_totals", "--check")
    call_command("rebuild_metric_totals")
    assert activity_flags.triggers_present()
    assert assert_exact() == expected
    call_command("rebuild_metric_totals", "--check")
    assert "planned activit" in capsys.readouterr().out
