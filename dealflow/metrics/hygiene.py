"""Pipeline hygiene: of the open deals (excluded stages left out, as in "open deals"), how many are
rotting (dealflow.rotting: Pipedrive's rule), have no next activity (no undone activity), and are
past their expected close date (before today). Each as a count and a share of the open deals
(None when there are none).

One GROUP BY query for every company of the scope, off deal_open_cover_idx: whether a deal has a
next activity is stored on it (Deal.has_planned_activity, kept by triggers:
dealflow/metrics/activity_flags.py), so no deal probes the activities; rotting compares each deal's
update time with a moment per number of days, worked out beforehand from the stages that rot
(rotting.rotting_in_stages_q), so no deal joins its stage."""

from datetime import date, datetime

from django.db.models import Count, Q, Value

from dealflow.columns import EXCLUDED, in_column
from dealflow.metrics.pipeline import open_deals
from dealflow.metrics.scope import Scope, rows_of
from dealflow.rotting import rotting_in_stages_q, rotting_stages

FIGURES = ("rotting", "no_next_activity", "past_expected_close")


def fetch(scope: Scope, now: datetime, today: date) -> list[dict]:
    """Per integration: its open deals and how many of them each figure counts."""
    rotting = rotting_in_stages_q(now, rotting_stages(scope.integration_ids))
    rows = (
        open_deals(scope)
        .exclude(in_column(scope.stages.target, EXCLUDED))
        .values("integration_id")
        .annotate(
            open=Count("id"),
            rotting=Count("id", filter=rotting) if rotting else Value(0),
            no_next_activity=Count("id", filter=Q(has_planned_activity=False)),
            past_expected_close=Count("id", filter=Q(expected_close_date__lt=today)),
        )
        .order_by()
    )
    return list(rows)


def compute(rows: list[dict], ids: set[int]) -> dict:
    """The figures of some integrations (a company's, or a set of companies')."""
    mine = list(rows_of(rows, ids))
    open_count = sum(row["open"] for row in mine)
    result = {"open_deals": open_count}
    for figure in FIGURES:
        count = sum(row[figure] for row in mine)
        result[figure] = {"count": count, "share": count / open_count if open_count else None}
    return result
