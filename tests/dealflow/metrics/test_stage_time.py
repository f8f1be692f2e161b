"""Time in stage reads StageChange.stay, which database triggers keep (migration 0014): after every
kind of write (a change in order, one older than the rest, a tie, a move in time or to another
deal, a delete, a deal's add time changed or removed, bulk inserts) every stored stay equals the
one worked out here in Python from the deal's changes and add time. Runs on SQLite, and on
PostgreSQL with `scripts/with-postgres .venv/bin/python -m pytest tests/dealflow/metrics`."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealflow.metrics import stage_time
from dealflow.metrics.scope import Scope
from dealflow.models import Deal, StageChange, StageMapping
from dealflow.stages import MappingTarget
from tests import factories as make
from tests.dealflow.metrics import dataset

pytestmark = pytest.mark.django_db

ADDED = datetime(2026, 1, 1, 9, 0, 0, 250000, tzinfo=UTC)


def day(number: int, **extra) -> datetime:
    return ADDED + timedelta(days=number, **extra)


def worked_out() -> dict[int, timedelta | None]:
    """Each change's stay: since the deal's previous change (by time, then id), else its add time."""
    changes = defaultdict(list)
    for change in StageChange.objects.select_related("deal").order_by("deal_id", "changed_at", "id"):
        changes[change.deal_id].append(change)
    stays = {}
    for deal_changes in changes.values():
        began = deal_changes[0].deal.add_time
        for change in deal_changes:
            stays[change.id] = change.changed_at - began if began else None
            began = change.changed_at
    return stays


def stored() -> dict[int, timedelta | None]:
    return dict(StageChange.objects.values_list("id", "stay"))


def move(deal, when, from_stage=None, to_stage=None) -> StageChange:
    return StageChange.objects.create(deal=deal, from_stage=from_stage, to_stage=to_stage, changed_at=when)


@pytest.fixture
def deal(coeo):
    return make.deal(coeo.stages.meeting, "a", add_time=ADDED)


def test_stays_of_changes_recorded_in_order(deal):
    first, second = move(deal, day(10)), move(deal, day(25, microseconds=5))
    assert stored() == {first.id: timedelta(days=10), second.id: timedelta(days=15, microseconds=5)}
    assert stored() == worked_out()


def test_an_older_change_recorded_later_shortens_the_next_stay(deal):
    later = move(deal, day(10))
    backfilled = move(deal, day(4))  # e.g. read from Pipedrive's changelog after the sync saw `later`
    assert stored() == {backfilled.id: timedelta(days=4), later.id: timedelta(days=6)}


def test_changes_at_the_same_moment_are_ordered_by_id(deal):
    first, second = move(deal, day(3)), move(deal, day(3))
    assert stored() == {first.id: timedelta(days=3), second.id: timedelta(0)}
    assert stored() == worked_out()


def test_a_change_moved_in_time_by_save_and_by_update(deal):
    first, second, third = move(deal, day(2)), move(deal, day(5)), move(deal, day(9))
    second.changed_at = day(1)  # now the first
    second.save()
    assert stored() == worked_out()
    assert stored()[first.id] == timedelta(days=1)
    StageChange.objects.filter(pk=third.pk).update(changed_at=day(1, hours=12))
    assert stored() == worked_out()
    assert stored()[first.id] == timedelta(hours=12)


def test_a_change_moved_to_another_deal(coeo, deal):
    other = make.deal(coeo.stages.lead, "b", add_time=day(-5))
    first, second = move(deal, day(2)), move(deal, day(5))
    StageChange.objects.filter(pk=first.pk).update(deal=other)
    assert stored() == {first.id: timedelta(days=7), second.id: timedelta(days=5)}


def test_a_deleted_change_joins_its_stay_to_the_next(deal):
    first, second, third = move(deal, day(2)), move(deal, day(5)), move(deal, day(9))
    second.delete()
    assert stored() == {first.id: timedelta(days=2), third.id: timedelta(days=7)}


def test_a_deals_add_time_changed_or_removed(deal):
    first, second = move(deal, day(2)), move(deal, day(5))
    deal.add_time = day(-1)
    deal.save()
    assert stored() == {first.id: timedelta(days=3), second.id: timedelta(days=3)}
    Deal.objects.filter(pk=deal.pk).update(add_time=None)
    assert stored() == {first.id: None, second.id: timedelta(days=3)}
    Deal.objects.filter(pk=deal.pk).update(add_time=day(1, microseconds=999999))
    assert stored() == worked_out()


def test_bulk_inserts_in_any_order_and_a_deleted_deal(coeo):
    deals = [make.deal(coeo.stages.lead, f"d{index}", add_time=day(-index, seconds=59.9996)) for index in range(4)]
    StageChange.objects.bulk_create(
        StageChange(deal=deals[(number * 7) % 4], changed_at=day((number * 5) % 11, microseconds=number))
        for number in range(30)
    )
    assert stored() == worked_out()
    deals[1].delete()
    assert stored() == worked_out()
    assert len(stored()) > 15


def test_time_in_stage_follows_a_mapping_change(coeo, nordic):
    dataset.build(coeo, nordic)
    scope = Scope.of([coeo.company])
    before = stage_time.compute(stage_time.fetch(scope, dataset.PERIOD), scope.integration_ids, scope)
    assert before["meeting"] == pytest.approx(16)
    StageMapping.objects.filter(stage=coeo.stages.meeting).update(target=MappingTarget.DUE_DILIGENCE)
    scope = Scope.of([coeo.company])
    after = stage_time.compute(stage_time.fetch(scope, dataset.PERIOD), scope.integration_ids, scope)
    assert after["meeting"] is None
    assert after["due_diligence"] == pytest.approx(16)


def test_time_in_stage_reads_one_index_range_per_stage_without_a_join(coeo, nordic):
    """The stays of one company are its stages' ranges of stagechange_stage_stay_idx (stage, then
    time): no other company's changes of the period are read, and no stage is joined per change.
    Same figures as the two companies' together (each change is its stage's integration's)."""
    dataset.build(coeo, nordic)
    scope = Scope.of([coeo.company])
    with CaptureQueriesContext(connection) as queries:
        rows = stage_time.fetch(scope, dataset.PERIOD)
    [sql] = [query["sql"] for query in queries.captured_queries]
    assert "dealflow_stage" not in sql.replace("dealflow_stagechange", "")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "COVERING INDEX stagechange_stage_stay_idx (from_stage_id=? AND changed_at>? AND changed_at<?)" in plan
        assert "TEMP B-TREE" not in plan
    both = Scope.of([coeo.company, nordic.company])
    together = stage_time.fetch(both, dataset.PERIOD)
    assert stage_time.compute(rows, scope.integration_ids, scope) == stage_time.compute(
        together, scope.integration_ids, both
    )
    assert {row["integration_id"] for row in rows} == {coeo.integration.pk}
