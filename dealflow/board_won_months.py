"""Won deals on the board per integration, currency and UTC calendar month (dealflow_boardwonmonth),
kept by database triggers in the transaction of every write to a deal.

The board's won period (the last twelve months by default) is answered from BoardTotal's rows of
the days after the period's first day. At 400,000 deals that was about 5,600 day rows summed on
every board; the period's whole months now come from these rows (a dozen per integration and
currency), and only the first day's own month from the day rows (dealflow/board_totals.py).

A deal is counted as BoardTotal counts a won deal (won, not archived), by the UTC month of
columns.won_at_expression; a won deal without any of those dates has no month and is not counted
here (BoardTotal keeps it under NO_WIN_DATE, which no won period includes).

Made as dealflow/metrics/open_totals.py makes its triggers (row triggers on SQLite, statement
triggers over the transition tables on PostgreSQL) and registered in dealflow/triggers.py, so
`migrate` makes them again with the rows recomputed when they are missing;
`rebuild_board_totals` remakes the rows, `--check` compares them with `grouped_deals`.
"""

from datetime import UTC

from django.db.models import Count, DateField, Sum
from django.db.models.functions import TruncMonth

from dealflow import totals_sql
from dealflow.columns import won_at_expression
from dealflow.metrics.day_totals import cents, stored_rows
from dealflow.models import BoardWonMonth, Deal, DealStatus
from dealflow.triggers import create, drop, register

TABLE = BoardWonMonth._meta.db_table
DEALS = Deal._meta.db_table
KEY = "integration_id, currency, month"
FIGURES = ("count", "value_cents")
# The deal columns a row's key or figures are read from: an update that changes none moves nothing.
COLUMNS = (
    "integration_id",
    "status",
    "is_archived",
    "currency",
    "value",
    "won_time",
    "close_time",
    "stage_change_time",
    "update_time",
)


def won_at(d: str) -> str:
    """SQL: when the deal row `d` was won (columns.won_at_expression)."""
    return f"COALESCE({d}.won_time, {d}.close_time, {d}.stage_change_time, {d}.update_time)"


def counted(d: str) -> str:
    """SQL: whether the deal row `d` is counted."""
    return f"{d}.status = 'won' AND NOT {d}.is_archived AND {won_at(d)} IS NOT NULL"


def row_sql(d: str, vendor: str) -> tuple[list[str], str]:
    """(the key columns, cents) of a deal row `d`, as `vendor`'s SQL."""
    if vendor == "postgresql":
        month = f"date_trunc('month', {won_at(d)} AT TIME ZONE 'UTC')::date"
        amount = f"({d}.value * 100)::bigint"
    else:
        # Django keeps SQLite's datetimes as UTC text, "YYYY-MM-DD HH:MM:SS…" (BoardTotal's day reads
        # them the same way).
        month = f"substr({won_at(d)}, 1, 7) || '-01'"
        amount = f"CAST(round({d}.value * 100) AS INTEGER)"
    return [f"{d}.integration_id", f"{d}.currency", month], amount


# --- SQLite: a trigger per event, row by row ------------------------------------------------------


def sqlite_triggers():
    key, amount = row_sql("NEW", "sqlite")
    add = totals_sql.add_row(TABLE, KEY, key, {"value_cents": amount}, counted("NEW")) + ";"
    key, amount = row_sql("OLD", "sqlite")
    remove = totals_sql.subtract_row(TABLE, KEY, key, {"value_cents": amount}, counted("OLD")) + ";"
    return totals_sql.deal_triggers(TABLE, "sqlite", add, remove, COLUMNS)


# --- Both: the grouped rows of a set of deal rows (a whole table, or a trigger's transition table) ---


def grouped_sql(rows: str, vendor: str, sign: str = "") -> str:
    key, amount = row_sql("d", vendor)
    return (
        f"SELECT {', '.join(f'{sql} AS {name}' for sql, name in zip(key, KEY.split(', '), strict=True))}, "
        f"{sign}count(*) AS count, {sign}sum({amount}) AS value_cents "
        f"FROM {rows} d WHERE {counted('d')} GROUP BY 1, 2, 3"
    )


# --- PostgreSQL: statement-level triggers over the transition tables, set-based -------------------


def postgresql_triggers():
    add = totals_sql.add_grouped(TABLE, KEY, FIGURES, grouped_sql("new_rows", "postgresql"), "postgresql") + ";"
    remove = totals_sql.subtract_grouped(TABLE, KEY, FIGURES, grouped_sql("old_rows", "postgresql", "-")) + ";"
    return totals_sql.deal_triggers(TABLE, "postgresql", add, remove, COLUMNS)


# --- Making the triggers, rebuilding and checking the rows ----------------------------------------


def vendor_triggers(vendor: str):
    return postgresql_triggers() if vendor == "postgresql" else sqlite_triggers()


TRIGGERS = register(
    totals_sql.grouped_trigger_set(
        "board_won_months", "0025_board_won_months", TABLE, KEY, FIGURES, grouped_sql, vendor_triggers
    )
)
refill = TRIGGERS.refill  # migration 0025


def drop_triggers(cursor, vendor: str) -> None:  # migration 0025
    drop(cursor, vendor, TRIGGERS)


def create_triggers(cursor, vendor: str) -> None:  # migration 0025
    create(cursor, vendor, TRIGGERS)


def grouped_deals(integration_ids=None) -> dict[tuple, tuple[int, int]]:
    """{(integration id, currency, month): (count, value in cents)}: Django's own grouping of the
    won deals on the board by the UTC month of their win; keyed like `table_rows`."""
    deals = Deal.objects.filter(status=DealStatus.WON, is_archived=False)
    if integration_ids is not None:
        deals = deals.filter(integration_id__in=integration_ids)
    rows = (
        deals.annotate(won_at=won_at_expression())
        .filter(won_at__isnull=False)
        .values("integration_id", "currency", month=TruncMonth("won_at", output_field=DateField(), tzinfo=UTC))
        .annotate(deals=Count("id"), total=Sum("value"))
        .order_by()
    )
    return {(r["integration_id"], r["currency"], r["month"]): (r["deals"], cents(r["total"])) for r in rows}


def table_rows(integration_ids=None) -> dict[tuple, tuple[int, int]]:
    """The table's rows, keyed like `grouped_deals` (rows whose deals all left are left out)."""
    return stored_rows(BoardWonMonth, ("integration_id", "currency", "month"), integration_ids)
