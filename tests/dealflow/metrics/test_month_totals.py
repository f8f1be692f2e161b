"""The metrics' month totals (dealflow_dealmonthtotal) stay exactly equal to a GROUP BY over the deals
after every kind of write, with months in the studio's time zone, and the trends read from them
equal those read from the day totals alone.

Runs on SQLite, and on PostgreSQL with `scripts/with-postgres .venv/bin/python -m pytest ...`."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.backends.sqlite3._functions import _sqlite_datetime_cast_date as django_cast_date
from django.db.models import Q

from dealflow.bulk_insert import insert_set_based
from dealflow.metrics import day_totals, month_totals
from dealflow.metrics.day_totals import by_kind, day_rows, local_date
from dealflow.models import Deal
from tests import factories as make
from tests.dealflow import test_board_totals_table as board_totals_tests

pytestmark = pytest.mark.django_db
synced = board_totals_tests.synced


def assert_exact():
    expected = month_totals.grouped_deals()
    assert month_totals.table_rows() == expected
    return expected


def test_a_full_sync_fills_the_table(synced):
    """(An incremental sync: test_metric_totals.py.)"""
    assert {kind for (_, kind, _, _) in assert_exact()} == {"new", "won", "lost"}


def test_orm_writes_and_local_months(db):
    """Months are the studio's (Europe/Stockholm): 23:30 UTC on 31 January is 1 February there."""
    integration = make.integration(make.company())
    stage = make.stage(make.pipeline(integration), "Lead")
    deal = make.deal(stage, value=Decimal("100.10"), add_time=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    make.many_deals(stage, 3, value=Decimal("0.10"), add_time=datetime(2026, 1, 31, 22, 30, tzinfo=UTC))
    assert_exact()
    assert month_totals.table_rows()[integration.pk, "new", date(2026, 2, 1), "SEK"] == (1, 10010)
    assert month_totals.table_rows()[integration.pk, "new", date(2026, 1, 1), "SEK"] == (3, 30)
    for fields in (
        {"status": "won", "won_time": datetime(2026, 4, 30, 21, 59, tzinfo=UTC)},
        {"won_time": datetime(2026, 4, 30, 22, 0, tzinfo=UTC)},  # 1 May in Stockholm
        {"value": Decimal("5.55"), "currency": "EUR"},
        {"status": "lost", "won_time": None, "lost_time": datetime(2026, 5, 1, 12, tzinfo=UTC)},
        {"add_time": datetime(2025, 12, 1, tzinfo=UTC)},
        {"status": "deleted"},
    ):
        Deal.objects.filter(pk=deal.pk).update(**fields)
        assert_exact()
    Deal.objects.filter(value=Decimal("0.10"))[:1].get().delete()
    expected = assert_exact()
    assert sum(count for (_, kind, _, _), (count, _) in expected.items() if kind == "new") == 2


def copy_every_deal_set_based():
    """A large insert on SQLite (dealflow/bulk_insert.py): a copy of every deal."""
    table = Deal._meta.db_table
    columns = [field.column for field in Deal._meta.concrete_fields if field.column not in ("id", "remote_id")]
    insert_set_based(
        table,
        f"INSERT INTO {table} ({', '.join(columns)}, remote_id) SELECT {', '.join(columns)}, remote_id + 1000000 "
        f"FROM {table} WHERE %s",
        [True],
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's triggers are set-based already")
def test_a_large_insert_set_based_on_sqlite(db):
    stage = make.stage(make.pipeline(make.integration(make.company())), "Lead")
    make.many_deals(stage, 3, value=Decimal("10.01"), add_time=datetime(2026, 3, 5, tzinfo=UTC))
    copy_every_deal_set_based()
    assert month_totals.table_rows()[stage.integration_id, "new", date(2026, 3, 1), "SEK"] == (6, 6006)
    assert_exact()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's triggers are set-based already")
def test_a_large_insert_parses_no_moment_with_djangos_function(db):
    """The set-based day and month totals find each new deal's local days with day_totals.local_date,
    not Django's per-row parsing (most of those two statements' time); the row triggers still use it."""
    stage = make.stage(make.pipeline(make.integration(make.company())), "Lead")
    calls = []

    def counted(*args):
        calls.append(args)
        return django_cast_date(*args)

    connection.ensure_connection()
    connection.connection.create_function("django_datetime_cast_date", 3, counted, deterministic=True)
    make.many_deals(stage, 3, value=Decimal("10.01"), add_time=datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    assert calls  # the row triggers
    calls.clear()
    copy_every_deal_set_based()
    assert calls == []
    assert month_totals.table_rows()[stage.integration_id, "new", date(2026, 4, 1), "SEK"] == (6, 6006)
    assert_exact()
    assert day_totals.table_rows() == day_totals.grouped_deals()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's triggers are set-based already")
def test_a_large_insert_finds_local_months_from_utc_ones_away_from_month_ends(db, monkeypatch):
    """The set-based month totals call local_date only for moments on a month's first or last days in
    UTC (the day totals for every moment): copies of 3 deals added on 5 March and 3 at 22:30 UTC on
    31 March (1 April in Stockholm) take 6 calls for their days and 3 for their months, not 6."""
    stage = make.stage(make.pipeline(make.integration(make.company())), "Lead")
    make.many_deals(stage, 3, value=Decimal("1.00"), add_time=datetime(2026, 3, 5, 12, tzinfo=UTC))
    make.many_deals(stage, 3, value=Decimal("2.00"), add_time=datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    calls = []

    def counted(moment, zone):
        calls.append(moment)
        return local_date(moment, zone)

    monkeypatch.setattr(day_totals, "local_date", counted)
    copy_every_deal_set_based()
    assert sorted(calls) == ["2026-03-05 12:00:00"] * 3 + ["2026-03-31 22:30:00"] * 6
    rows = month_totals.table_rows()
    assert rows[stage.integration_id, "new", date(2026, 3, 1), "SEK"] == (6, 600)
    assert rows[stage.integration_id, "new", date(2026, 4, 1), "SEK"] == (6, 1200)
    assert_exact()


@pytest.mark.parametrize(
    "zone", ["Europe/Stockholm", "UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham"]
)
def test_local_date_is_djangos_day(zone):
    """day_totals.local_date gives what Django's django_datetime_cast_date gives: every hour around
    this zone's daylight saving changes and a year's month ends, old local mean times, fractions of
    a second, and what is not a stored moment."""
    moments = [None, "not a moment", "2026-03-29 01:30:00+02:00", "1890-06-30 23:59:59.999999"]
    for month in range(1, 13):
        for day in (1, 28, 30, 31) if month != 2 else (1, 28):
            moments += [
                f"2026-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:00.5" for hour in range(24) for minute in (0, 30)
            ]
    moments += [f"1901-{month:02d}-01 {hour:02d}:14:59" for month in (1, 7) for hour in range(24)]
    for moment in moments:
        assert day_totals.local_date(moment, zone) == django_cast_date(moment, zone, "UTC"), moment


def test_trend_rows_equal_the_day_totals(db):
    """New deals and won amounts in the report's currency per month, other won amounts per day: what
    day_totals.day_rows gives with those rows summed per month."""
    first, second = (make.stage(make.pipeline(make.integration(make.company(name))), "Lead") for name in "AB")
    for stage in (first, second):
        for month, day, currency in ((1, 3, "SEK"), (1, 20, "EUR"), (2, 28, "SEK"), (3, 1, "EUR"), (3, 2, "EUR")):
            at = datetime(2026, month, day, 12, tzinfo=UTC)
            make.deal(stage, value=Decimal("10.05"), currency=currency, add_time=at)
            make.deal(stage, value=Decimal("7.50"), currency=currency, add_time=at, status="won", won_time=at)
    ids = [first.integration_id, second.integration_id]
    for per_integration in (True, False):
        found = month_totals.trend_rows(ids, date(2026, 1, 1), "SEK", per_integration=per_integration)
        expected = day_rows(
            ids,
            ("won", "new"),
            date(2026, 1, 1),
            None,
            per_integration=per_integration,
            monthly=Q(kind="new") | Q(currency="SEK"),
        )

        def key(row):
            return sorted(row.items())

        assert sorted(found, key=key) == sorted(expected, key=key)
    rows = by_kind(month_totals.trend_rows(ids, date(2026, 2, 1), "SEK", per_integration=False))
    assert sorted((row["day"], row["currency"], row["count"], row["value"]) for row in rows["won"]) == [
        (date(2026, 2, 1), "SEK", 2, Decimal("15.00")),
        (date(2026, 3, 1), "EUR", 2, Decimal("15.00")),
        (date(2026, 3, 2), "EUR", 2, Decimal("15.00")),
    ]
