"""Deals added, won and lost in the period; win rate, average won deal, sales cycle, lost reasons.

Won: status won, won within the period (won_time; Pipedrive's close time when it has none, the
board's rule, dealflow.columns.won_at_expression). Lost: status lost, lost_time (or close time)
within the period. Closed deals convert at their close day's rates, new deals at the latest.

Counts and values come from the day totals (dealflow.metrics.day_totals: a few rows per company
and day, kept by triggers); the sales cycle and the lost reasons need the period's won and lost
deals themselves, each one indexed range per company (deal_won_at_idx, deal_lost_at_idx).
"""

import statistics
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q
from django.db.models.functions import Coalesce

from dealflow.columns import won_at_expression
from dealflow.fx import Rates, Total
from dealflow.metrics.day_totals import by_kind, day_rows
from dealflow.metrics.period import MicrosecondsBetween
from dealflow.metrics.scope import Scope, rows_of
from dealflow.models import DealStatus

TOP_LOST_REASONS = 5
SECONDS_PER_DAY = 86400
MICROSECONDS = 1_000_000  # per second


def lost_at_expression():
    return Coalesce("lost_time", "close_time")


@dataclass
class ClosedRows:
    new: list[dict]
    won: list[dict]
    lost: list[dict]
    # None: not fetched (the overview)
    lost_reasons: list[dict] | None
    cycles: list[dict] | None  # one per won deal with an add_time: integration_id, days

    def currencies(self) -> set[str]:
        return {row["currency"] for rows in (self.new, self.won, self.lost) for row in rows}


def fetch(scope: Scope, period, currency: str, *, details: bool = True) -> ClosedRows:
    """The period's rows; without `details` (the overview) no lost reasons and no sales cycles.
    Amounts in `currency` (the report's) need no close day's rate: read per month, not per day."""
    ids = scope.integration_ids
    dated = by_kind(day_rows(ids, ("won", "lost"), period.since, period.until, monthly=Q(currency=currency)))
    new = day_rows(ids, ("new",), period.since, period.until, by_day=False)
    if not details:
        return ClosedRows(new=new, won=dated["won"], lost=dated["lost"], lost_reasons=None, cycles=None)
    deals = scope.deals()
    in_period = {"at__gte": period.start, "at__lt": period.end}
    # is_archived in both values: the ranges of deal_won_at_idx (archived deals count as won too).
    won = deals.filter(status=DealStatus.WON, is_archived__in=(False, True)).annotate(at=won_at_expression())
    lost = deals.filter(status=DealStatus.LOST).annotate(at=lost_at_expression()).filter(**in_period)
    # The cycle in whole microseconds from the database: the same days as (at - add_time) in Python.
    cycles = won.filter(**in_period, add_time__isnull=False).values_list(
        "integration_id", MicrosecondsBetween("add_time", "at")
    )
    return ClosedRows(
        new=new,
        won=dated["won"],
        lost=dated["lost"],
        lost_reasons=list(lost.values("integration_id", "lost_reason").annotate(count=Count("id")).order_by()),
        cycles=[
            {"integration_id": integration_id, "days": micros / MICROSECONDS / SECONDS_PER_DAY}
            for integration_id, micros in cycles
        ],
    )


def money(rows, rates: Rates, *, dated: bool) -> tuple[int, int, Total]:
    """(count, count of the converted deals, total) of grouped rows."""
    count, converted, total = 0, 0, Total()
    for row in rows:
        count += row["count"]
        if total.add(rates, row["value"], row["currency"], row["day"] if dated else None):
            converted += row["count"]
    return count, converted, total


def compute(rows: ClosedRows, ids: set[int], rates: Rates) -> dict:
    new_count, _, new_total = money(rows_of(rows.new, ids), rates, dated=False)
    won_count, won_converted, won_total = money(rows_of(rows.won, ids), rates, dated=True)
    lost_count, _, lost_total = money(rows_of(rows.lost, ids), rates, dated=True)
    closed = won_count + lost_count
    result = {
        "new": figure(new_count, new_total),
        "won": figure(won_count, won_total),
        "lost": figure(lost_count, lost_total),
        "win_rate": won_count / closed if closed else None,
        # Over the won deals whose value could be converted (the others are listed apart).
        "average_won_deal": won_total.value / won_converted if won_converted else None,
    }
    if rows.cycles is not None:
        result.update(details(rows, ids))
    return result


def details(rows: ClosedRows, ids: set[int]) -> dict:
    """The sales cycle and the top lost reasons."""
    days = [row["days"] for row in rows_of(rows.cycles, ids)]
    reasons = Counter()
    for row in rows_of(rows.lost_reasons, ids):
        reasons[row["lost_reason"].strip()] += row["count"]
    return {
        "sales_cycle_days": {
            "median": statistics.median(days) if days else None,
            "mean": statistics.fmean(days) if days else None,
            "deals": len(days),
        },
        "lost_reasons": [
            {"reason": reason, "count": count}
            for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_LOST_REASONS]
        ],
    }


def figure(count: int, total: Total) -> dict:
    result = {"count": count, "value": total.value}
    if total.unconverted:
        result["unconverted"] = total.unconverted
    return result


def sales_velocity(open_deals: int, metrics: dict) -> Decimal | None:
    """Open deals now × win rate × average won deal ÷ mean sales cycle in days, per month (× 30)."""
    win_rate, average, cycle = metrics["win_rate"], metrics["average_won_deal"], metrics["sales_cycle_days"]["mean"]
    if win_rate is None or average is None or not cycle:
        return None
    return Decimal(open_deals) * Decimal(win_rate) * average / Decimal(cycle) * 30
