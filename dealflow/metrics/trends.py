"""Trends: won value and new deals per month over the last 24 months (from the deals' dates), and
open pipeline value per standard column per day from the daily snapshots (PipelineSnapshot)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from dealflow.columns import won_at_expression
from dealflow.fx import Rates, Total
from dealflow.metrics.period import add_months, local_midnight, month_case
from dealflow.metrics.pipeline import STAGES
from dealflow.metrics.scope import Scope, rows_of
from dealflow.models import DealStatus, PipelineSnapshot

MONTHS = 24
SNAPSHOT_POINTS = 31


@dataclass
class TrendRows:
    months: list[str]  # YYYY-MM, oldest first
    won: list[dict]
    new: list[dict]
    snapshots: list[dict]

    def currencies(self) -> set[str]:
        return {row["currency"] for rows in (self.won, self.snapshots) for row in rows}


def first_month(today: date) -> date:
    return add_months(today, -(MONTHS - 1))


def snapshot_days(period) -> list[date]:
    """The days of the period the pipeline trend shows: each day of a short period, else evenly
    spaced days (at most SNAPSHOT_POINTS), always ending on the period's last day."""
    step = -(-period.days // SNAPSHOT_POINTS)  # ceiling division
    return [period.until - timedelta(days=offset) for offset in range(0, period.days, step)][::-1]


def fetch(scope: Scope, period, today: date) -> TrendRows:
    start = first_month(today)
    firsts = [add_months(start, offset) for offset in range(MONTHS)]
    deals = scope.deals()
    won = (
        deals.filter(status=DealStatus.WON)
        .annotate(at=won_at_expression())
        .filter(at__gte=local_midnight(start))
        .values("integration_id", "currency", day=TruncDate("at"))
        .annotate(value=Sum("value"))
        .order_by()
    )
    new = (
        deals.exclude(status=DealStatus.DELETED)
        .filter(add_time__gte=local_midnight(start))
        .values("integration_id", month=month_case("add_time", firsts, moments=True))
        .annotate(count=Count("id"))
        .order_by()
    )
    snapshots = (
        PipelineSnapshot.objects.filter(company__in=scope.companies, day__in=snapshot_days(period), stage__in=STAGES)
        .values("company_id", "day", "stage", "currency")
        .annotate(value=Sum("value"))
        .order_by()
    )
    months = [f"{first:%Y-%m}" for first in firsts]
    return TrendRows(months=months, won=list(won), new=list(new), snapshots=list(snapshots))


def compute(rows: TrendRows, ids: set[int], company_ids: set[int], rates: Rates) -> dict:
    won = {month: Total() for month in rows.months}
    for row in rows_of(rows.won, ids):
        won[f"{row['day']:%Y-%m}"].add(rates, row["value"], row["currency"], row["day"])
    new = dict.fromkeys(rows.months, 0)
    for row in rows_of(rows.new, ids):
        if row["month"]:  # None: added after the last month (a clock ahead of ours)
            new[row["month"]] += row["count"]
    pipeline = defaultdict(lambda: {stage: Total() for stage in STAGES})
    for row in rows.snapshots:
        if row["company_id"] in company_ids:
            pipeline[row["day"].isoformat()][row["stage"]].add(rates, row["value"], row["currency"], row["day"])
    return {
        "won_value_by_month": {month: total.value for month, total in won.items()},
        "new_deals_by_month": new,
        "pipeline_by_day": {
            day: {stage: total.value for stage, total in stages.items()} for day, stages in sorted(pipeline.items())
        },
    }
