"""Open pipeline now: count, value and weighted value by standard column (the board's rule,
dealflow.columns, through selectors.StageMap), and the forecast by expected close month.

Weighted value = value × the stage's probability (selectors.weight_percent, as the board's
totals). Open deals in a stage mapped to Closed Won count there; excluded stages are left out and
counted apart, as are unmapped ones. All at the latest rates.

The open deals' counts and values are the board's own totals (dealflow.board_totals: rows per
integration, stage and currency kept by triggers), so they cost a few hundred rows whatever the
number of deals; so does the forecast by expected close month (metrics pages only), off the open
deal totals (dealflow.metrics.open_totals: rows per integration, stage, currency and month, and
this month's deals split at today).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from dealflow.board_totals import board_rows
from dealflow.columns import EXCLUDED, UNMAPPED
from dealflow.fx import Rates, Total
from dealflow.metrics.open_totals import forecast_rows
from dealflow.metrics.period import add_months
from dealflow.metrics.scope import Scope, rows_of
from dealflow.models import BoardTotal, DealStatus
from dealflow.stages import StandardStage

STAGES = [stage.value for stage in StandardStage]
FORECAST_MONTHS = 6  # this month and the five after


@dataclass
class PipelineRows:
    open: list[dict]
    forecast: list[dict] | None  # None: not fetched (the overview)
    today: date

    def currencies(self) -> set[str]:
        return {row["currency"] for row in self.open}


def fetch(scope: Scope, today: date | None = None, *, forecast: bool = True) -> PipelineRows:
    """The open rows, and the forecast's unless `forecast` is False (the overview shows none)."""
    today = today or timezone.localdate()
    if not forecast:
        return PipelineRows(open=open_rows(scope), forecast=None, today=today)
    # Before the horizon, a date is overdue or in one of the forecast's months.
    forecast = forecast_rows(scope, today, horizon=add_months(today, FORECAST_MONTHS))
    return PipelineRows(open=open_rows(scope), forecast=forecast, today=today)


def open_rows(scope: Scope) -> list[dict]:
    """Open deals' count and value per integration, stage (None: none) and currency, from the
    board's totals (one query)."""
    return [
        {
            "integration_id": row["integration_id"],
            "stage_id": None if row["stage_id"] == BoardTotal.NO_STAGE else row["stage_id"],
            "currency": row["currency"],
            "count": row["count"],
            "value": row["total_value"],
        }
        for row in board_rows(integration_ids=list(scope.integration_ids), won_since=None)
        if row["status"] == DealStatus.OPEN
    ]


def placed(row: dict, scope: Scope) -> tuple[str, Decimal, Decimal]:
    """An open row's column, value and weighted value (value × the stage's probability)."""
    value = row["value"] or Decimal(0)
    weight = scope.stages.weight(DealStatus.OPEN, row["stage_id"])
    return scope.stages.column_of(DealStatus.OPEN, row["stage_id"]), value, value * weight / 100


def compute(rows: PipelineRows, ids: set[int], rates: Rates, scope: Scope) -> dict:
    stages = scope.stages
    counts = defaultdict(int)
    values, weighted = defaultdict(Total), defaultdict(Total)
    for row in rows_of(rows.open, ids):
        column, value, weighted_value = placed(row, scope)
        counts[column] += row["count"]
        values[column].add(rates, value, row["currency"])
        weighted[column].add(rates, weighted_value, row["currency"])
    by_column = {
        column: {"count": counts[column], "value": values[column].value, "weighted": weighted[column].value}
        for column in [*STAGES, UNMAPPED]
    }
    result = {
        "open_deals": sum(counts[column] for column in [*STAGES, UNMAPPED]),
        "weighted_pipeline": {stage: by_column[stage]["weighted"] for stage in STAGES},
        "pipeline": by_column,
        "excluded": {"count": counts[EXCLUDED]},
        "pipeline_unconverted": merged(*(values[column] for column in [*STAGES, UNMAPPED])),
    }
    if rows.forecast is not None:
        result.update(forecast_of(rows, ids, rates, stages))
    return result


def forecast_of(rows: PipelineRows, ids: set[int], rates: Rates, stages) -> dict:
    months = [add_months(rows.today, offset) for offset in range(FORECAST_MONTHS)]
    forecast = {month: Total() for month in [f"{day:%Y-%m}" for day in months] + ["overdue"]}
    for row in rows_of(rows.forecast, ids):
        weight = stages.weight(DealStatus.OPEN, row["stage_id"])
        forecast[row["month"]].add(rates, (row["value"] or 0) * weight / 100, row["currency"])
    return {
        "forecast": {key: total.value for key, total in forecast.items()},
        "forecast_unconverted": merged(*forecast.values()),
    }


def merged(*totals: Total) -> dict:
    """The unconverted amounts of several totals, by currency."""
    result = defaultdict(lambda: 0)
    for total in totals:
        for currency, amount in total.unconverted.items():
            result[currency] += amount
    return dict(result)
