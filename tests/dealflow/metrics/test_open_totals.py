"""The open deal totals (dealflow_dealopentotal) stay exactly equal to a GROUP BY over the deals
after every kind of write, and the forecast and hygiene read from them equal the same figures
worked out from the deals.

Runs on SQLite, and on PostgreSQL with `scripts/with-postgres .venv/bin/python -m pytest ...`
(the two databases keep the table with different triggers)."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from dealflow.bulk_insert import insert_set_based
from dealflow.metrics import hygiene, open_totals
from dealflow.metrics.period import add_months
from dealflow.metrics.scope import Scope
from dealflow.models import Activity, Deal, DealOpenTotal, DealStatus
from integrations.models import SyncOutcome
from integrations.sync import write
from tests import factories as make
from tests.dealflow import test_board_totals_table as board_totals_tests

pytestmark = pytest.mark.django_db
synced = board_totals_tests.synced
open_deals = board_totals_tests.open_deals

TODAY = date(2026, 3, 17)
NOW = timezone.make_aware(timezone.datetime(2026, 3, 17, 12, 0))


def assert_exact():
    expected = open_totals.grouped_deals()
    assert open_totals.table_rows() == expected
    return expected


def test_a_full_sync_fills_the_table(synced):
    """(An incremental sync: test_metric_totals.py.)"""
    expected = assert_exact()
    counted = Deal.objects.filter(status=DealStatus.OPEN, is_archived=False).count()
    assert counted and sum(count for count, _, _ in expected.values()) == counted


def test_every_kind_of_orm_write(coeo):
    s = coeo.stages
    deal = make.deal(s.lead, value=Decimal("100.10"), expected_close_date=date(2026, 3, 20))
    other = make.deal(s.proposal, value=Decimal("0.05"))  # no expected close date
    make.many_deals(s.meeting, 5, value=Decimal("7.77"), expected_close_date=date(2026, 5, 31))
    assert_exact()
    row = open_totals.table_rows()[coeo.integration.pk, s.lead.pk, "SEK", date(2026, 3, 1)]
    assert row == (1, 10010, 1)
    assert open_totals.table_rows()[coeo.integration.pk, s.proposal.pk, "SEK", open_totals.NO_MONTH] == (1, 5, 1)
    writes = [
        {"value": Decimal("250.55")},
        {"currency": "EUR"},
        {"stage": s.meeting},
        {"expected_close_date": date(2026, 4, 2)},
        {"expected_close_date": None},
        {"is_archived": True},
        {"is_archived": False},
        {"status": DealStatus.WON},
        {"status": DealStatus.OPEN},
        {"status": DealStatus.DELETED},
        {"status": DealStatus.OPEN, "stage": None},
    ]
    for fields in writes:
        Deal.objects.filter(pk=deal.pk).update(**fields)
        assert_exact()
    deal.refresh_from_db()
    deal.value, deal.stage = Decimal("1.99"), s.lead
    deal.save()  # every column written
    assert_exact()
    # The next activity: planned, done, undone, moved, deleted.
    call = make.activity(deal, "Call")
    assert open_totals.table_rows()[coeo.integration.pk, s.lead.pk, "EUR", open_totals.NO_MONTH][2] == 0
    for fields in ({"done": True}, {"done": False}, {"deal": other}):
        Activity.objects.filter(pk=call.pk).update(**fields)
        assert_exact()
    call.delete()
    assert_exact()
    s.meeting.delete()  # SET NULL on its deals
    assert_exact()
    Deal.objects.filter(pk=other.pk).delete()
    expected = assert_exact()
    assert sum(count for count, _, _ in expected.values()) == 6


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's triggers are set-based already")
def test_a_large_insert_set_based_on_sqlite(coeo, monkeypatch):
    """The set-based statement counts the new deals before the planned activity flags' put-back
    (a deal inserted with the flag set, and no activity) moves them by their flag."""
    make.many_deals(coeo.stages.lead, 3, value=Decimal("10.01"), expected_close_date=date(2026, 3, 5))
    table = Deal._meta.db_table
    columns = [field.column for field in Deal._meta.concrete_fields if field.column not in ("id", "remote_id")]
    copied = ", ".join("1" if column == "has_planned_activity" else column for column in columns)
    insert_set_based(
        table,
        f"INSERT INTO {table} ({', '.join(columns)}, remote_id) SELECT {copied}, remote_id + 1000000 "
        f"FROM {table} WHERE %s",
        [True],
    )
    assert Deal.objects.count() == 6 and not Deal.objects.filter(has_planned_activity=True).exists()
    assert open_totals.table_rows()[coeo.integration.pk, coeo.stages.lead.pk, "SEK", date(2026, 3, 1)] == (
        6,
        6006,
        6,
    )
    assert_exact()


def test_a_sync_inserting_set_based(db, monkeypatch):
    monkeypatch.setattr(write, "SET_BASED_FROM", 1)
    connected = board_totals_tests.connect(board_totals_tests.Sandbox("coeo", burst_limit=100_000))
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    assert DealOpenTotal.objects.exists()
    assert_exact()


def worked_out_forecast(scope, today, horizon):
    """The forecast's rows summed from the deals in Python."""
    excluded = {stage for stage, target in scope.stages.target.items() if target == "excluded"}
    summed = defaultdict(Decimal)
    for deal in Deal.objects.filter(status=DealStatus.OPEN, is_archived=False, expected_close_date__lt=horizon):
        if deal.stage_id in excluded or deal.expected_close_date is None:
            continue
        month = "overdue" if deal.expected_close_date < today else f"{deal.expected_close_date:%Y-%m}"
        summed[deal.integration_id, deal.stage_id, deal.currency, month] += deal.value
    return dict(summed)


def test_the_forecast_splits_today_s_month_at_today(coeo, nordic, django_assert_num_queries):
    s = coeo.stages
    horizon = add_months(TODAY, 6)
    for day, value in (
        (date(2026, 2, 27), "1.01"),  # last month: overdue
        (date(2026, 3, 1), "2.02"),  # this month, before today: overdue
        (date(2026, 3, 16), "3.03"),
        (TODAY, "4.04"),  # today: this month
        (date(2026, 3, 31), "5.05"),
        (date(2026, 4, 1), "6.06"),
        (date(2026, 8, 31), "7.07"),  # the last month shown
        (horizon, "8.08"),  # past the horizon: left out
    ):
        make.deal(s.meeting, value=Decimal(value), expected_close_date=day)
        make.deal(s.nej_tack, value=Decimal(value), expected_close_date=day)  # excluded stage: left out
        make.deal(s.lead, value=Decimal(value), expected_close_date=day, is_archived=True)
    make.deal(s.lead, value=Decimal("9.09"))  # no expected close date
    stageless = make.deal(s.lead, value=Decimal("10.10"), expected_close_date=date(2026, 3, 2))
    Deal.objects.filter(pk=stageless.pk).update(stage=None)
    make.deal(nordic.lead, value=Decimal("11.11"), currency="EUR", expected_close_date=date(2026, 3, 30))
    scope = Scope.of([coeo.company, nordic.company])

    with django_assert_num_queries(1):
        rows = open_totals.forecast_rows(scope, TODAY, horizon)

    found = defaultdict(Decimal)
    for row in rows:
        found[row["integration_id"], row["stage_id"], row["currency"], row["month"]] += row["value"]
    assert dict(found) == worked_out_forecast(scope, TODAY, horizon)
    meeting = {key[3]: value for key, value in found.items() if key[1] == s.meeting.pk}
    assert meeting == {
        "overdue": Decimal("6.06"),
        "2026-03": Decimal("9.09"),
        "2026-04": Decimal("6.06"),
        "2026-08": Decimal("7.07"),
    }


def test_hygiene_splits_today_s_month_too(coeo):
    s = coeo.stages
    for day in (date(2026, 2, 1), date(2026, 3, 16), TODAY, None):
        make.activity(make.deal(s.lead, expected_close_date=day, update_time=NOW), "Call")
    make.deal(s.nej_tack, expected_close_date=date(2026, 3, 1))
    rows = hygiene.fetch(Scope.of([coeo.company]), NOW, TODAY)
    figures = hygiene.compute(rows, {coeo.integration.pk})
    assert figures["open_deals"] == 4
    assert figures["past_expected_close"]["count"] == 2
    assert figures["no_next_activity"]["count"] == 0
