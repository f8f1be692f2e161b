"""The board's column totals, read from dealflow_boardtotal instead of grouping every deal.

The table holds, per integration, status, stage and currency (and for won deals the day of the
win), how many deals the board can show and their value; triggers keep it in the transaction of
every write to a deal (see models.BoardTotal and migration 0009). So the board reads a few
hundred rows whatever the number of deals:

- open deals: every row, by stage (the stage map turns stages into columns when the board reads,
  so a stage mapping change moves totals between columns without a write);
- won deals within the won period: the rows of the days after the period's first day to the end
  of its month, the rows of the months after (dealflow_boardwonmonth, board_won_months.py: a
  dozen rows per company and currency instead of a row per day), plus that first day itself
  counted from the deals (one indexed range: deal_won_at_idx), so the period keeps its exact start.

`grouped_deals` is the GROUP BY over the deals that the table must equal: `rebuild` writes it, and
the tests compare the table with it after every kind of write.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, Count, IntegerField, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, TruncDate

from dealflow import board_won_months, statements
from dealflow.columns import on_board, won_at_expression
from dealflow.models import BoardTotal, BoardWonMonth, Deal, DealStatus

EPOCH = date(1970, 1, 1)
CENT = Decimal("0.01")


def day_number(day: date) -> int:
    return (day - EPOCH).days


def cents(value) -> int:
    return int(Decimal(value or 0).quantize(CENT) * 100)


def grouped_deals(integration_ids=None) -> dict[tuple, tuple[int, int]]:
    """{(integration id, status, stage id, currency, won day): (count, value in cents)}, computed
    from the deals with the board's own rule (columns.on_board), keyed like the table's rows."""
    deals = Deal.objects.filter(on_board())
    if integration_ids is not None:
        deals = deals.filter(integration_id__in=integration_ids)
    rows = (
        deals.annotate(
            stage_key=Case(
                When(status=DealStatus.OPEN, then=Coalesce("stage_id", Value(BoardTotal.NO_STAGE))),
                default=Value(BoardTotal.NO_STAGE),
                output_field=IntegerField(),
            ),
            won_on=Case(When(status=DealStatus.WON, then=TruncDate(won_at_expression(), tzinfo=UTC))),
        )
        .values("integration_id", "status", "stage_key", "currency", "won_on")
        .annotate(deals=Count("id"), total=Sum("value"))
        .order_by()
    )
    grouped = {}
    for row in rows:
        if row["status"] == DealStatus.OPEN:
            day = BoardTotal.OPEN_DAY
        else:
            day = BoardTotal.NO_WIN_DATE if row["won_on"] is None else day_number(row["won_on"])
        key = (row["integration_id"], row["status"], row["stage_key"], row["currency"], day)
        grouped[key] = (row["deals"], cents(row["total"]))
    return grouped


def table_rows(integration_ids=None) -> dict[tuple, tuple[int, int]]:
    """The table's rows, keyed like `grouped_deals` (rows whose deals all left are left out)."""
    rows = BoardTotal.objects.exclude(count=0)
    if integration_ids is not None:
        rows = rows.filter(integration_id__in=integration_ids)
    return {
        (row.integration_id, row.status, row.stage_id, row.currency, row.won_day): (row.count, row.value_cents)
        for row in rows
    }


def differing_rows() -> int:
    """How many rows of the totals table and of the won months differ from a GROUP BY over the deals."""
    return len(set(table_rows().items()) ^ set(grouped_deals().items())) + len(
        set(board_won_months.table_rows().items()) ^ set(board_won_months.grouped_deals().items())
    )


def rebuild() -> int:
    """Recompute the whole table and the won months from the deals; how many rows they now have."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Deal writes wait until the new rows are in (SQLite's write transaction already holds
            # the database's write lock).
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {Deal._meta.db_table} IN SHARE MODE")
        BoardTotal.objects.all().delete()
        rows = BoardTotal.objects.bulk_create(
            BoardTotal(
                integration_id=integration_id,
                status=status,
                stage_id=stage_id,
                currency=currency,
                won_day=won_day,
                count=count,
                value_cents=value_cents,
            )
            for (integration_id, status, stage_id, currency, won_day), (count, value_cents) in grouped_deals().items()
        )
        with connection.cursor() as cursor:
            board_won_months.refill(cursor, connection.vendor)
    return len(rows) + BoardWonMonth.objects.count()


def board_rows(*, integration_ids: list[int], won_since: datetime | None) -> list[dict]:
    """What a GROUP BY of the board's deals (no text, owner or pipeline filter) by integration,
    status, stage and currency returns, from the tables: dicts with integration_id, status,
    stage_id (BoardTotal.NO_STAGE for won deals and deals without a stage), currency, count and
    total_value. One query whatever the number of deals."""
    first_day = None if won_since is None else won_since.astimezone(UTC).date()
    summed = defaultdict(lambda: [0, 0])
    key = ("board_rows", tuple(integration_ids), first_day)
    if first_day is None:
        grouped = statements.rows(key, lambda: _grouped(integration_ids, first_day))
    else:
        # The tables' rows and the first day's wins, in one statement (a round trip less per board).
        def build(since):
            return _with_first_day(integration_ids, first_day, since)

        grouped = statements.rows(key, build, moments=(won_since,))
    for integration_id, status, stage_id, currency, count, value_cents, first_day_value in grouped:
        entry = summed[integration_id, status, stage_id, currency]
        entry[0] += count
        entry[1] += value_cents if first_day_value is None else cents(first_day_value)
    return [
        {
            "integration_id": integration_id,
            "status": status,
            "stage_id": stage_id,
            "currency": currency,
            "count": count,
            "total_value": Decimal(value_cents) / 100,
        }
        for (integration_id, status, stage_id, currency), (count, value_cents) in summed.items()
        if count
    ]


def _grouped(integration_ids: list[int], first_day: date | None):
    """The tables' rows of the board, summed by integration, status, stage and currency, as
    (integration_id, status, stage_id, currency, count, value in cents, None): the open deals, and
    the won deals after `first_day` (None: every won deal), by day up to the end of `first_day`'s
    month and by month after it. One statement (UNION ALL), each part a range of an index."""
    totals = BoardTotal.objects.filter(integration_id__in=integration_ids).exclude(count=0)
    months = BoardWonMonth.objects.filter(integration_id__in=integration_ids).exclude(count=0)
    if first_day is None:
        won_days = totals.filter(status=DealStatus.WON, won_day=BoardTotal.NO_WIN_DATE)  # none has a month
    else:
        next_month = (first_day.replace(day=1) + timedelta(days=31)).replace(day=1)
        won_days = totals.filter(
            status=DealStatus.WON, won_day__gt=day_number(first_day), won_day__lt=day_number(next_month)
        )
        months = months.filter(month__gte=next_month)
    # The last column is the first day's wins' value (_won_on), whose rows follow in the same statement;
    # typed, since PostgreSQL types the NULLs of the first parts before it reads the last.
    no_value = Cast(Value(None), output_field=Deal._meta.get_field("value").clone())
    by_day = [
        rows.values_list("integration_id", "status", "stage_id", "currency")
        .annotate(deals=Sum("count"), total=Sum("value_cents"), first_day_value=no_value)
        .order_by()
        for rows in (totals.filter(status=DealStatus.OPEN), won_days)
    ]
    by_month = (
        months.annotate(won=Value(DealStatus.WON.value), no_stage=Value(BoardTotal.NO_STAGE))
        .values_list("integration_id", "won", "no_stage", "currency")
        .annotate(deals=Sum("count"), total=Sum("value_cents"), first_day_value=no_value)
        .order_by()
    )
    return by_day[0].union(by_day[1], by_month, all=True)


def _with_first_day(integration_ids: list[int], first_day: date, since: datetime):
    """`_grouped` then `_won_on`'s rows, in one statement (UNION ALL)."""
    return _grouped(integration_ids, first_day).union(_won_on(first_day, integration_ids, since), all=True)


def _won_on(day: date, integration_ids: list[int], since: datetime):
    """Won deals of the won period's first (UTC) day, from `since` on, by integration and currency, as
    rows like `_grouped`'s: (integration_id, "won", NO_STAGE, currency, count, None, value)."""
    next_day = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
    return (
        # `is_archived IN (false)`: an equality, so the range is one of deal_won_at_idx (Django writes
        # is_archived=False as `NOT is_archived`, which SQLite's planner cannot match to the index).
        Deal.objects.filter(integration_id__in=integration_ids, status=DealStatus.WON, is_archived__in=[False])
        .alias(won_at=won_at_expression())
        .filter(won_at__gte=since, won_at__lt=next_day)
        .annotate(won=Value(DealStatus.WON.value), no_stage=Value(BoardTotal.NO_STAGE))
        .values_list("integration_id", "won", "no_stage", "currency")
        .annotate(deals=Count("id"), no_cents=Value(None, output_field=IntegerField()), total=Sum("value"))
        .order_by()
    )
