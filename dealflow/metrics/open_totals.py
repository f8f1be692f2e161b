"""Open deals (not archived) per integration, stage, currency and expected close month
(dealflow_dealopentotal): their count, value in cents and how many have no next activity
(Deal.has_planned_activity false), kept by database triggers in the transaction of every write to a
deal, so the forecast and hygiene read a few hundred rows instead of every open deal.

Stages are mapped to columns (and probabilities) when the rows are read, so a mapping change needs
no write, as with the board's totals. A month's row cannot say which of its deals are before today:
the forecast (`forecast_rows`) and hygiene read the current month's deals themselves, a range per
integration of deal_open_close_idx (a partial index of the open deals), to split it at today.

Made as dealflow/metrics/day_totals.py makes its triggers (row triggers on SQLite, statement
triggers over the transition tables on PostgreSQL) and registered in dealflow/triggers.py, so
`migrate` makes them again with the rows recomputed when they are missing; `rebuild_metric_totals`
remakes them, `--check` compares the table with `grouped_deals`. The tests compare them after
every kind of write.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import BigIntegerField, Case, Func, Sum, Value, When

from dealflow import totals_sql
from dealflow.columns import EXCLUDED, in_column, stage_ids
from dealflow.metrics.day_totals import cents, remake, stored_rows
from dealflow.metrics.period import MonthOf, add_months, month_or_overdue
from dealflow.models import Deal, DealOpenTotal, DealStatus
from dealflow.triggers import Trigger, create, drop, register

TABLE = DealOpenTotal._meta.db_table
DEALS = Deal._meta.db_table
KEY = "integration_id, stage_id, currency, month"
FIGURES = ("count", "value_cents", "no_activity")
NO_STAGE = DealOpenTotal.NO_STAGE
NO_MONTH = date(9999, 12, 31)  # a deal without an expected close date (never a month's first day)
# The deal columns a row's key or figures are read from: an update that changes none moves nothing.
COLUMNS = (
    "integration_id",
    "status",
    "is_archived",
    "stage_id",
    "currency",
    "value",
    "expected_close_date",
    "has_planned_activity",
)


def counted(d: str) -> str:
    """SQL: whether the deal row `d` is counted."""
    return f"{d}.status = 'open' AND NOT {d}.is_archived"


def row_sql(d: str, vendor: str) -> tuple[list[str], str, str]:
    """(the key columns, cents, no next activity as 1/0) of a deal row `d`, as `vendor`'s SQL."""
    if vendor == "postgresql":
        month = f"COALESCE(date_trunc('month', {d}.expected_close_date)::date, DATE '{NO_MONTH}')"
        amount = f"({d}.value * 100)::bigint"
    else:
        month = f"COALESCE(substr({d}.expected_close_date, 1, 7) || '-01', '{NO_MONTH}')"
        amount = f"CAST(round({d}.value * 100) AS INTEGER)"
    key = [f"{d}.integration_id", f"COALESCE({d}.stage_id, {NO_STAGE})", f"{d}.currency", month]
    return key, amount, f"CASE WHEN {d}.has_planned_activity THEN 0 ELSE 1 END"


# --- SQLite: a trigger per event, row by row ------------------------------------------------------


def sqlite_triggers() -> list[Trigger]:
    key, amount, no_activity = row_sql("NEW", "sqlite")
    figures = {"value_cents": amount, "no_activity": no_activity}
    add = totals_sql.add_row(TABLE, KEY, key, figures, counted("NEW")) + ";"
    key, amount, no_activity = row_sql("OLD", "sqlite")
    figures = {"value_cents": amount, "no_activity": no_activity}
    remove = totals_sql.subtract_row(TABLE, KEY, key, figures, counted("OLD")) + ";"
    return totals_sql.deal_triggers(TABLE, "sqlite", add, remove, COLUMNS)


# --- Both: the grouped rows of a set of deal rows (a whole table, or a trigger's transition table) ---


def grouped_sql(rows: str, vendor: str, sign: str = "") -> str:
    key, amount, no_activity = row_sql("d", vendor)
    return (
        f"SELECT {', '.join(f'{sql} AS {name}' for sql, name in zip(key, KEY.split(', '), strict=True))}, "
        f"{sign}count(*) AS count, {sign}sum({amount}) AS value_cents, {sign}sum({no_activity}) AS no_activity "
        f"FROM {rows} d WHERE {counted('d')} GROUP BY 1, 2, 3, 4"
    )


# --- PostgreSQL: statement-level triggers over the transition tables, set-based -------------------


def postgresql_add(rows: str) -> str:
    return totals_sql.add_grouped(TABLE, KEY, FIGURES, grouped_sql(rows, "postgresql"), "postgresql") + ";"


def postgresql_remove(rows: str) -> str:
    return totals_sql.subtract_grouped(TABLE, KEY, FIGURES, grouped_sql(rows, "postgresql", "-")) + ";"


def postgresql_triggers() -> list[Trigger]:
    return totals_sql.deal_triggers(
        TABLE, "postgresql", postgresql_add("new_rows"), postgresql_remove("old_rows"), COLUMNS
    )


# --- Making the triggers, rebuilding and checking the rows ----------------------------------------


def vendor_triggers(vendor: str) -> list[Trigger]:
    return postgresql_triggers() if vendor == "postgresql" else sqlite_triggers()


TRIGGERS = register(
    totals_sql.grouped_trigger_set(
        "open_totals", "0021_deal_open_totals", TABLE, KEY, FIGURES, grouped_sql, vendor_triggers
    )
)
refill = TRIGGERS.refill  # migration 0021


def drop_triggers(cursor, vendor: str) -> None:  # migration 0021
    drop(cursor, vendor, TRIGGERS)


def create_triggers(cursor, vendor: str) -> None:  # migration 0021
    create(cursor, vendor, TRIGGERS)


def rebuild() -> int:
    """Remake the triggers and recompute the rows; how many rows."""
    remake(TRIGGERS)
    return DealOpenTotal.objects.count()


def grouped_deals(integration_ids=None) -> dict[tuple, tuple[int, int, int]]:
    """{(integration id, stage id, currency, month): (count, value in cents, without a next
    activity)} grouped in Python from the deals; keyed like `table_rows`."""
    deals = Deal.objects.filter(status=DealStatus.OPEN, is_archived=False)
    if integration_ids is not None:
        deals = deals.filter(integration_id__in=integration_ids)
    grouped = defaultdict(lambda: [0, 0, 0])
    columns = ("integration_id", "stage_id", "currency", "expected_close_date", "value", "has_planned_activity")
    for integration_id, stage_id, currency, closes, value, planned in deals.values_list(*columns).order_by():
        month = closes.replace(day=1) if closes else NO_MONTH
        row = grouped[integration_id, stage_id or NO_STAGE, currency, month]
        row[0] += 1
        row[1] += cents(value)
        row[2] += not planned
    return {key: tuple(row) for key, row in grouped.items()}


def table_rows(integration_ids=None) -> dict[tuple, tuple[int, int, int]]:
    """The table's rows, keyed like `grouped_deals` (rows whose deals all left are left out)."""
    key = ("integration_id", "stage_id", "currency", "month")
    return stored_rows(DealOpenTotal, key, integration_ids, ("count", "value_cents", "no_activity"))


# --- Reading ----------------------------------------------------------------------------------------


class Cents(Func):
    """A money column in whole cents, as the triggers write it (exact sums on SQLite too)."""

    output_field = BigIntegerField()
    template = "CAST(round(%(expressions)s * 100) AS bigint)"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(round(%(expressions)s * 100) AS INTEGER)", **extra)


def open_deals(scope):
    """The open deals the table counts, excluded stages left out (as "open deals" on the pages)."""
    return (
        scope.deals()
        .filter(status=DealStatus.OPEN, is_archived=False)
        .exclude(in_column(scope.stages.target, EXCLUDED))
    )


def current_month_deals(scope, today: date):
    """The open deals expected to close in today's month: a range of deal_open_close_idx per
    integration (its condition is the open deals')."""
    start = today.replace(day=1)
    return open_deals(scope).filter(expected_close_date__gte=start, expected_close_date__lt=add_months(start, 1))


def totals(scope):
    """The table's rows of the scope, excluded stages left out."""
    excluded = stage_ids(scope.stages.target, EXCLUDED)
    return DealOpenTotal.objects.filter(integration_id__in=list(scope.integration_ids)).exclude(stage_id__in=excluded)


def forecast_rows(scope, today: date, horizon: date) -> list[dict]:
    """Per integration, stage (None: none), currency and month ("YYYY-MM", or "overdue": expected
    close before today), the value of the open deals expected to close before `horizon`: the
    table's months but today's, and today's month from its deals, in one query."""
    start = today.replace(day=1)
    months = (
        totals(scope)
        .filter(month__lt=horizon)
        .exclude(month=start)
        .values("integration_id", "stage_id", "currency")
        .annotate(month=Case(When(month__lt=start, then=Value("overdue")), default=MonthOf("month")))
        .values("integration_id", "stage_id", "currency", "month")
        .annotate(cents=Sum("value_cents"))
        .order_by()
    )
    current = (
        current_month_deals(scope, today)
        .values("integration_id", "stage_id", "currency")
        .annotate(month=month_or_overdue("expected_close_date", overdue_before=today))
        .values("integration_id", "stage_id", "currency", "month")
        .annotate(cents=Sum(Cents("value")))
        .order_by()
    )
    return [
        {
            "integration_id": row["integration_id"],
            "stage_id": row["stage_id"] or None,  # the table's NO_STAGE, the deals' NULL
            "currency": row["currency"],
            "month": row["month"],
            "value": Decimal(row["cents"] or 0) / 100,
        }
        for row in months.union(current, all=True)
    ]
