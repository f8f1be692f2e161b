"""Trends: won value and new deals per month over the last 24 months (from the deals' dates, read
from the month and day totals: dealflow.metrics.month_totals), and open pipeline value per standard column per
day from the daily snapshots (PipelineSnapshot).

Won value converts at each close day's rates, so it is read per day and currency: per company only
when a company's own trend is wanted (`per_integration`), else summed over the scope in SQL; so are
the snapshots (per day, stage and currency: a few hundred rows for the portfolio, not one per
company too)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Sum

from dealflow.fx import Rates, Total
from dealflow.metrics.day_totals import by_kind
from dealflow.metrics.month_totals import trend_rows
from dealflow.metrics.period import add_months
from dealflow.metrics.pipeline import STAGES
from dealflow.metrics.scope import Scope, rows_of
from dealflow.models import PipelineSnapshot

MONTHS = 24
SNAPSHOT_POINTS = 31


@dataclass
class TrendRows:
    months: list[str]  # YYYY-MM, oldest first
    won: list[dict]
    new: list[dict]
    snapshots: list[dict]
    # False: won, new and snapshot rows are the whole scope's (no integration_id, no company_id)
    per_integration: bool = True

    def currencies(self) -> set[str]:
        return {row["currency"] for rows in (self.won, self.snapshots) for row in rows}


def first_month(today: date) -> date:
    return add_months(today, -(MONTHS - 1))


def snapshot_days(period) -> list[date]:
    """The days of the period the pipeline trend shows: each day of a short period, else evenly
    spaced days (at most SNAPSHOT_POINTS), always ending on the period's last day."""
    step = -(-period.days // SNAPSHOT_POINTS)  # ceiling division
    return [period.until - timedelta(days=offset) for offset in range(0, period.days, step)][::-1]


def fetch(
    scope: Scope, period, today: date, currency: str, *, per_integration: bool = True, snapshots: bool = True
) -> TrendRows:
    """The rows of the trends; `snapshots` False leaves the pipeline trend out (the overview).
    Won and new deals in one query: new deals and amounts in `currency` (the report's, no rate to
    look up) per month from the month totals, other won amounts per day (each converts at its day's
    rate) from the day totals (month_totals.trend_rows)."""
    start = first_month(today)
    months = [f"{add_months(start, offset):%Y-%m}" for offset in range(MONTHS)]
    dated = by_kind(trend_rows(scope.integration_ids, start, currency, per_integration=per_integration))
    pipeline = []
    if snapshots:
        days = snapshot_days(period)
        pipeline = (
            PipelineSnapshot.objects.filter(company__in=scope.companies, day__in=days, stage__in=STAGES)
            .values(*(["company_id"] if per_integration else []), "day", "stage", "currency")
            .annotate(value=Sum("value"))
            .order_by()
        )
    return TrendRows(
        months=months, won=dated["won"], new=dated["new"], snapshots=list(pipeline), per_integration=per_integration
    )


def compute(rows: TrendRows, ids: set[int], company_ids: set[int], rates: Rates) -> dict:
    """The trends of some integrations; rows fetched without `per_integration` are the scope's
    (the caller asks for the whole scope only)."""
    mine = (lambda found: rows_of(found, ids)) if rows.per_integration else iter
    won = {month: Total() for month in rows.months}
    for row in mine(rows.won):
        month = f"{row['day']:%Y-%m}"
        if month in won:
            won[month].add(rates, row["value"], row["currency"], row["day"])
    new = dict.fromkeys(rows.months, 0)
    for row in mine(rows.new):
        month = f"{row['day']:%Y-%m}"
        if month in new:  # not: added after the last month (a clock ahead of ours)
            new[month] += row["count"]
    pipeline = defaultdict(lambda: {stage: Total() for stage in STAGES})
    snapshots = rows.snapshots
    if rows.per_integration:
        snapshots = (row for row in snapshots if row["company_id"] in company_ids)
    for row in snapshots:
        pipeline[row["day"].isoformat()][row["stage"]].add(rates, row["value"], row["currency"], row["day"])
    return {
        "won_value_by_month": {month: total.value for month, total in won.items()},
        "new_deals_by_month": new,
        "pipeline_by_day": {
            day: {stage: total.value for stage, total in stages.items()} for day, stages in sorted(pipeline.items())
        },
    }
