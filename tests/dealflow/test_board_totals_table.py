"""The board totals table (dealflow_boardtotal) and the won months (dealflow_boardwonmonth) stay
exactly equal to a GROUP BY over the deals after every kind of write, and the board reads its
totals from them.

Runs on SQLite, and on PostgreSQL with `scripts/with-postgres .venv/bin/python -m pytest ...`
(the two databases keep the table with different triggers).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from dealflow import board_won_months
from dealflow.board_totals import board_rows, day_number, grouped_deals, table_rows
from dealflow.models import BoardTotal, BoardWonMonth, Deal, Stage, StageMapping
from dealflow.selectors import BoardFilters, board_columns, board_deals, stage_map
from dealflow.stages import MappingTarget
from integrations.models import SyncOutcome
from integrations.providers.pipedrive import records
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.sync.apply import apply_records
from tests import factories as make
from tests.integrations.conftest import connect

pytestmark = pytest.mark.django_db


def assert_exact():
    assert board_won_months.table_rows() == board_won_months.grouped_deals()
    expected = grouped_deals()
    assert table_rows() == expected
    return expected


@pytest.fixture
def synced(db):
    connected = connect(Sandbox("coeo", burst_limit=100_000))
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    return connected


def open_deals(sandbox) -> list[dict]:
    return [d for d in sandbox.deals() if d["status"] == "open" and not d["is_archived"]]


def win_lose_revalue_delete_and_add(sandbox) -> None:
    """In the sandbox, one of each change an incremental sync then writes (the metrics' totals tests)."""
    first, second, third, fourth = open_deals(sandbox)[:4]
    sandbox.win_deal(first["id"])
    sandbox.lose_deal(second["id"])
    sandbox.update_deal(third["id"], value=123456.78, currency="EUR")
    sandbox.delete_deal(fourth["id"])
    sandbox.add_deal(title="Brand new", value=999.99)


def test_a_full_sync_fills_the_table_with_the_deals_on_the_board(synced):
    expected = assert_exact()
    on_board = Deal.objects.filter(status__in=["open", "won"], is_archived=False).count()
    assert on_board and sum(count for count, _ in expected.values()) == on_board


def test_an_incremental_sync_moves_wins_loses_archives_revalues_and_adds(synced):
    sandbox = synced.sandbox
    first, second, third, fourth, fifth = open_deals(sandbox)[:5]
    other_stage = next(s["id"] for s in sandbox.stages() if s["id"] != first["stage_id"])
    sandbox.move_deal(first["id"], stage_id=other_stage)
    sandbox.win_deal(second["id"])
    sandbox.lose_deal(third["id"])
    sandbox.archive_deal(fourth["id"])
    sandbox.update_deal(fifth["id"], value=123456.78, currency="EUR")
    sandbox.add_deal(title="Brand new", value=999.99)
    before = table_rows()

    assert synced.sync().outcome == SyncOutcome.SUCCEEDED

    assert table_rows() != before
    assert_exact()


def test_deletions_reconciled_by_a_full_sync_and_a_removed_stage(synced):
    sandbox = synced.sandbox
    gone = open_deals(sandbox)[0]
    sandbox.purge_deal(gone["id"])  # no longer listed: the full sync's reconciliation removes it
    sandbox.delete_deal(open_deals(sandbox)[0]["id"])  # listed as deleted
    assert synced.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    assert not Deal.objects.filter(remote_id=gone["id"]).exists()
    assert_exact()

    # A stage removed by hand: its deals lose their stage (SET NULL) and move to "no stage".
    stage = Stage.objects.filter(deals__status="open").distinct().first()
    moved = stage.deals.filter(status="open", is_archived=False).count()
    stage.delete()
    expected = assert_exact()
    integration_id = synced.integration.pk
    no_stage = [
        count for (i, status, s, *_), (count, _) in expected.items() if (i, status, s) == (integration_id, "open", 0)
    ]
    assert sum(no_stage) >= moved > 0


def test_records_applied_by_a_webhook_or_write_back(synced):
    sandbox = synced.sandbox
    deal = open_deals(sandbox)[0]
    other_stage = next(s["id"] for s in sandbox.stages() if s["id"] != deal["stage_id"])
    for change in (
        sandbox.move_deal(deal["id"], stage_id=other_stage),
        sandbox.update_deal(deal["id"], value=42.5),
        sandbox.win_deal(deal["id"]),
        sandbox.add_deal(title="From a webhook", value=10),
    ):
        tally = apply_records(integration=synced.integration, entity="deals", records=[records.Deal.from_api(change)])
        assert tally.created + tally.updated == 1
        assert_exact()


def test_orm_writes_outside_the_sync_keep_it_too(db):
    integration = make.integration(make.company())
    stage = make.stage(make.pipeline(integration), "Lead")
    deal = make.deal(stage, value=100)
    make.many_deals(stage, 7, value=Decimal("0.10"))
    assert_exact()
    Deal.objects.filter(pk=deal.pk).update(status="won", won_time=datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
    Deal.objects.filter(value=Decimal("0.10"))[:1].get().delete()
    deal.refresh_from_db()
    deal.currency = "EUR"
    deal.save()
    expected = assert_exact()
    assert sum(count for count, _ in expected.values()) == 7


def test_a_mapping_change_moves_the_totals_between_columns_without_a_write(synced):
    companies = [synced.integration.company]
    totals = board_columns(companies=companies, filters=BoardFilters()).columns
    counts = {column.key: column.count for column in totals}
    mapping = StageMapping.objects.filter(
        stage__deals__status="open", stage__deals__is_archived=False, target=MappingTarget.LEAD
    ).first()
    moved = mapping.stage.deals.filter(status="open", is_archived=False).count()
    rows = table_rows()
    mapping.target = MappingTarget.MEETING  # what the admin's stage mapping inline saves
    mapping.save()

    assert table_rows() == rows
    after = {column.key: column.count for column in board_columns(companies=companies, filters=BoardFilters()).columns}
    assert after["lead"] == counts["lead"] - moved
    assert after["meeting"] == counts["meeting"] + moved


def test_the_rebuild_command_repairs_the_table(synced, capsys):
    expected = grouped_deals()
    BoardTotal.objects.filter(pk=BoardTotal.objects.exclude(count=0).first().pk).update(count=999)
    BoardTotal.objects.exclude(count=999)[:1].get().delete()
    with pytest.raises(CommandError):
        call_command("rebuild_board_totals", "--check")
    call_command("rebuild_board_totals")
    assert table_rows() == expected
    call_command("rebuild_board_totals", "--check")
    assert "equal" in capsys.readouterr().out


def test_the_rebuild_command_repairs_the_won_months(synced, capsys):
    expected = board_won_months.grouped_deals()
    assert expected
    BoardWonMonth.objects.filter(pk=BoardWonMonth.objects.first().pk).update(count=999)
    with pytest.raises(CommandError, match="differ from the deals in 2 rows"):
        call_command("rebuild_board_totals", "--check")
    call_command("rebuild_board_totals")
    assert board_won_months.table_rows() == expected
    call_command("rebuild_board_totals", "--check")
    assert "equal" in capsys.readouterr().out


def group_by(stages, filters) -> dict:
    """What the board computed before the table: one GROUP BY over its deals."""
    rows = (
        board_deals(stages=stages, filters=filters)
        .values_list("integration_id", "status", "stage_id", "currency")
        .annotate(count=Count("id"), total=Sum("value"))
        .order_by()
    )
    summed = {}
    for integration_id, status, stage_id, currency, count, total in rows:
        key = (integration_id, status, stage_id if status == "open" and stage_id else 0, currency)
        before = summed.get(key, (0, Decimal(0)))
        summed[key] = (before[0] + count, before[1] + Decimal(total).quantize(Decimal("0.01")))
    return summed


def test_the_won_period_is_exact_to_the_second_on_its_first_day(db):
    integration = make.integration(make.company())
    stage = make.stage(make.pipeline(integration), "Lead")
    since = datetime(2026, 5, 10, 14, 30, tzinfo=UTC)
    moments = [since - timedelta(days=1), since - timedelta(seconds=1), since, since + timedelta(hours=9, minutes=29)]
    moments += [since + timedelta(days=1), since + timedelta(days=200)]
    # Each side of the first day's month's end and of the next months' (the months' rows begin there).
    moments += [datetime(2026, 5, 31, 23, 59, 59, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)]
    moments += [datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC), datetime(2026, 7, 1, 0, 0, 1, tzinfo=UTC)]
    moments += [datetime(2026, 4, 30, 23, 59, 59, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)]
    for number, moment in enumerate(moments):
        make.deal(stage, title=f"Won {number}", status="won", won_time=moment, value=100 + number)
    make.deal(stage, title="Won, no date", status="won", update_time=None, stage_change_time=None, value=5)
    make.deal(stage, title="Won by its close time", status="won", close_time=since + timedelta(minutes=1), value=7)
    make.deal(stage, title="Won, archived", status="won", won_time=since + timedelta(days=40), is_archived=True)
    make.deal(stage, title="Open", value=3)
    assert_exact()
    stages = stage_map([integration.company])
    periods = [None, since, since - timedelta(hours=15), since + timedelta(days=1)]
    periods += [
        datetime(2026, 5, 31, 12, tzinfo=UTC),
        datetime(2026, 6, 1, tzinfo=UTC),
        datetime(2026, 12, 31, tzinfo=UTC),
    ]
    for won_since in periods:
        filters = BoardFilters(won_since=won_since)
        from_table = {
            (r["integration_id"], r["status"], r["stage_id"], r["currency"]): (r["count"], r["total_value"])
            for r in board_rows(integration_ids=stages.integration_ids, won_since=won_since)
        }
        assert from_table == group_by(stages, filters), won_since


def test_deleting_an_integration_with_its_deals_succeeds_and_leaves_nothing_counted(synced):
    # Deleting an integration sets its deals' stage to NULL before deleting them, which the
    # triggers count again for a moment; with a database constraint on the totals' integration
    # the delete then failed at commit.
    assert table_rows()
    synced.integration.delete()
    assert not Deal.objects.exists()
    assert table_rows() == {} == grouped_deals()


def test_the_table_and_the_won_periods_first_day_are_read_in_one_statement(db, django_assert_num_queries):
    integration = make.integration(make.company())
    stage = make.stage(make.pipeline(integration), "Lead")
    since = datetime(2026, 5, 10, 14, 30, tzinfo=UTC)
    for number, moment in enumerate(
        [since - timedelta(days=1), since, since + timedelta(hours=2), since + timedelta(days=3)]
    ):
        for currency in ("SEK", "EUR"):
            make.deal(
                stage,
                title=f"Won {number}",
                status="won",
                won_time=moment,
                value=Decimal("100.05") + number,
                currency=currency,
            )
    make.deal(stage, title="Open", value=Decimal("3.10"))
    stages = stage_map([integration.company])
    for won_since in (since, since + timedelta(hours=1), None):
        board_rows(integration_ids=stages.integration_ids, won_since=won_since)  # its statement built
        with django_assert_num_queries(1):
            rows = board_rows(integration_ids=stages.integration_ids, won_since=won_since)

        found = {
            (r["integration_id"], r["status"], r["stage_id"], r["currency"]): (r["count"], r["total_value"])
            for r in rows
        }
        assert found == group_by(stages, BoardFilters(won_since=won_since)), won_since


def test_the_won_periods_whole_months_are_read_from_the_won_months_not_the_days(db):
    """At 400,000 deals the won period was about 5,600 day rows summed on every board: its months
    after the first day's now come from one row per month and currency."""
    integration = make.integration(make.company())
    stage = make.stage(make.pipeline(integration), "Lead")
    for day in range(0, 90, 3):  # wins over three months
        make.deal(
            stage, title=f"Won {day}", status="won", won_time=datetime(2026, 3, 1, 12, tzinfo=UTC) + timedelta(day)
        )
    assert_exact()
    assert BoardWonMonth.objects.filter(count__gt=0).count() == 3
    since = datetime(2026, 3, 20, 8, tzinfo=UTC)
    stages = stage_map([integration.company])

    def won():
        rows = board_rows(integration_ids=stages.integration_ids, won_since=since)
        return [(r["count"], r["total_value"]) for r in rows if r["status"] == "won"]

    expected = won()
    assert [count for count, _ in expected] == [30 - 7]  # 30 wins, 7 before 20 March (1st, 4th, … 19th)
    # A later month's day rows are not read (a month row stands for them); the first day's month's are.
    BoardTotal.objects.filter(status="won", won_day=day_number(datetime(2026, 4, 9).date())).update(count=999)
    assert won() == expected
    BoardTotal.objects.filter(status="won", won_day=day_number(datetime(2026, 3, 22).date())).update(count=999)
    assert won() != expected
