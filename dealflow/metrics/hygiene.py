"""Pipeline hygiene: of the open deals (excluded stages left out, as in "open deals"), how many are
rotting (dealflow.rotting: Pipedrive's rule), have no next activity (no undone activity), and are
past their expected close date (before today). Each as a count and a share of the open deals
(None when there are none).

One query for every company of the scope, a UNION ALL of three small reads: the open deal totals
(dealflow/metrics/open_totals.py: open deals, those without a next activity, those expected to
close in a month before today's, per integration, kept by triggers), today's month's deals before
today (a range of deal_open_close_idx), and the rotting deals. Rotting depends on the moment, so it
is counted from the deals each time: it compares each deal's update time with a moment per number
of days, worked out beforehand from the stages that rot (rotting.rotting_count_sql), so no deal
joins its stage, and ranges of deal_hygiene_idx are counted."""

from collections import defaultdict
from datetime import date, datetime

from django.db import connection
from django.db.models import Count, IntegerField, Q, Sum, Value

from dealflow.columns import EXCLUDED, stage_ids
from dealflow.metrics.open_totals import current_month_deals, totals
from dealflow.metrics.scope import Scope, rows_of
from dealflow.rotting import rotting_count_sql, rotting_stages

FIGURES = ("rotting", "no_next_activity", "past_expected_close")
COUNTS = ("open", *FIGURES)
# SQLite runs at most 500 SELECTs in one compound statement (SQLITE_MAX_COMPOUND_SELECT).
MOST_BRANCHES = 400


def fetch(scope: Scope, now: datetime, today: date) -> list[dict]:
    """Per integration: its open deals and how many of them each figure counts."""
    zero = Value(0, output_field=IntegerField())
    parts = [
        totals(scope)
        .values("integration_id")
        .annotate(
            open=Sum("count"),
            rotting=zero,
            no_next_activity=Sum("no_activity"),
            past_expected_close=Sum("count", filter=Q(month__lt=today.replace(day=1)), default=0),
        ),
        current_month_deals(scope, today)
        .filter(expected_close_date__lt=today)
        .values("integration_id")
        .annotate(open=zero, rotting=zero, no_next_activity=zero, past_expected_close=Count("id")),
    ]
    statements = [part.order_by().query.get_compiler(using=part.db).as_sql() for part in parts]
    # Rotting: a branch per integration and number of days (rotting.rotting_count_sql).
    excluded = set(stage_ids(scope.stages.target, EXCLUDED))
    for integration_id, by_days in rotting_stages(scope.integration_ids).items():
        for days, stages in by_days.items():
            counted = [stage for stage in stages if stage not in excluded]
            if counted:
                sql, params = rotting_count_sql(connection, integration_id, days, counted, now)
                statements.append((f"SELECT r.integration_id, 0, r.rotting, 0, 0 FROM ({sql}) r", params))
    summed = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    with connection.cursor() as cursor:
        # One statement for any usual studio; past MOST_BRANCHES, as many as it takes.
        for start in range(0, len(statements), MOST_BRANCHES):
            chunk = statements[start : start + MOST_BRANCHES]
            cursor.execute(" UNION ALL ".join(sql for sql, _ in chunk), [p for _, params in chunk for p in params])
            for integration_id, *counts in cursor.fetchall():
                for key, count in zip(COUNTS, counts, strict=True):
                    summed[integration_id][key] += count
    return [{"integration_id": integration_id, **counts} for integration_id, counts in summed.items()]


def compute(rows: list[dict], ids: set[int]) -> dict:
    """The figures of some integrations (a company's, or a set of companies')."""
    mine = list(rows_of(rows, ids))
    open_count = sum(row["open"] for row in mine)
    result = {"open_deals": open_count}
    for figure in FIGURES:
        count = sum(row[figure] for row in mine)
        result[figure] = {"count": count, "share": count / open_count if open_count else None}
    return result
