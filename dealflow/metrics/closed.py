"""Deals added, won and lost in the period; win rate, average won deal, sales cycle, lost reasons.

Won: status won, won within the period (won_time; Pipedrive's close time when it has none, the
board's rule, dealflow.columns.won_at_expression). Lost: status lost, lost_time (or close time)
within the period. Closed deals convert at their close day's rates, new deals at the latest.
"""

import statistics
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncDate

from dealflow.columns import won_at_expression
from dealflow.fx import Rates, Total
from dealflow.metrics.scope import Scope, rows_of
from dealflow.models import DealStatus

TOP_LOST_REASONS = 5
SECONDS_PER_DAY = 86400


def lost_at_expression():
    return Coalesce("lost_time", "close_time")


@dataclass
class ClosedRows:
    new: list[dict]
    won: list[dict]
    lost: list[dict]
    lost_reasons: list[dict]
    cycles: list[dict]  # one per won deal with an add_time: integration_id, days

    def currencies(self) -> set[str]:
        return {row["currency"] for rows in (self.new, self.won, self.lost) for row in rows}


def grouped(deals, *day):
    return list(
        deals.values("integration_id", "currency", *day).annotate(count=Count("id"), value=Sum("value")).order_by()
    )


def fetch(scope: Scope, period) -> ClosedRows:
    deals = scope.deals()
    in_period = {"at__gte": period.start, "at__lt": period.end}
    new = deals.exclude(status=DealStatus.DELETED).filter(add_time__gte=period.start, add_time__lt=period.end)
    won = deals.filter(status=DealStatus.WON).annotate(at=won_at_expression()).filter(**in_period)
    lost = deals.filter(status=DealStatus.LOST).annotate(at=lost_at_expression()).filter(**in_period)
    cycles = won.filter(add_time__isnull=False).values_list("integration_id", "add_time", "at")
    return ClosedRows(
        new=grouped(new),
        won=grouped(won.annotate(day=TruncDate("at")), "day"),
        lost=grouped(lost.annotate(day=TruncDate("at")), "day"),
        lost_reasons=list(lost.values("integration_id", "lost_reason").annotate(count=Count("id")).order_by()),
        cycles=[
            {"integration_id": integration_id, "days": (at - added).total_seconds() / SECONDS_PER_DAY}
            for integration_id, added, at in cycles
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
    days = [row["days"] for row in rows_of(rows.cycles, ids)]
    reasons = Counter()
    for row in rows_of(rows.lost_reasons, ids):
        reasons[row["lost_reason"].strip()] += row["count"]
    return {
        "new": figure(new_count, new_total),
        "won": figure(won_count, won_total),
        "lost": figure(lost_count, lost_total),
        "win_rate": won_count / closed if closed else None,
        # Over the won deals whose value could be converted (the others are listed apart).
        "average_won_deal": won_total.value / won_converted if won_converted else None,
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
