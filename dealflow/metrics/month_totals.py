"""Deals added, won and lost per integration, currency and calendar month in the studio's time zone
(dealflow_dealmonthtotal): the day totals (dealflow/metrics/day_totals.py) per month, kept by the
same triggers' SQL with the day truncated to its month's first day, so the 24-month trends read a
few hundred month rows instead of about 15,000 day rows at 50,000 deals.

Only won amounts in a currency other than the report's still need their days (each converts at its
close day's rate): `trend_rows` reads those from the day totals, the rest from the month totals, in
one query. Registered in dealflow/triggers.py like the day totals; `rebuild_metric_totals` remakes
the triggers and rows, `--check` compares the table with `grouped_deals`.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import F, Q, Sum

from dealflow.metrics.day_totals import Grain, remake, stored_rows, trigger_set
from dealflow.metrics.day_totals import grouped_deals as grouped_days
from dealflow.models import DealDayTotal, DealMonthTotal
from dealflow.triggers import create, drop, register

MONTH = Grain(DealMonthTotal._meta.db_table, "month")
TRIGGERS = register(trigger_set("month_totals", "0022_deal_month_totals", MONTH))


def drop_triggers(cursor, vendor: str) -> None:  # migration 0022
    drop(cursor, vendor, TRIGGERS)


def create_triggers(cursor, vendor: str) -> None:  # migration 0022
    create(cursor, vendor, TRIGGERS)


def rebuild() -> int:
    """Remake the triggers (for the current TIME_ZONE) and recompute the rows; how many rows."""
    remake(TRIGGERS)
    return DealMonthTotal.objects.count()


def grouped_deals(integration_ids=None) -> dict[tuple, tuple[int, int]]:
    """{(integration id, kind, month, currency): (count, value in cents)}: day_totals.grouped_deals
    (Django's own grouping of the deals) summed per month; keyed like `table_rows`."""
    grouped = defaultdict(lambda: [0, 0])
    for (integration_id, kind, day, currency), (count, cents) in grouped_days(integration_ids).items():
        row = grouped[integration_id, kind, day.replace(day=1), currency]
        row[0] += count
        row[1] += cents
    return {key: tuple(row) for key, row in grouped.items()}


def table_rows(integration_ids=None) -> dict[tuple, tuple[int, int]]:
    """The table's rows, keyed like `grouped_deals` (rows whose deals all left are left out)."""
    return stored_rows(DealMonthTotal, ("integration_id", "kind", "month", "currency"), integration_ids)


def trend_rows(integration_ids, since: date, currency: str, *, per_integration: bool) -> list[dict]:
    """New and won deals since `since` (a month's first day), as day_totals.day_rows gives them
    (dicts with kind, currency, day, count, value, integration_id when `per_integration`): new deals
    and won amounts in `currency` per month (day: the month's first), other won amounts per day."""
    ids = list(integration_ids)
    # The date as an annotation in both ("at"): a union's columns go by position, and Django puts
    # fields before annotations.
    keys = ["kind", "currency", "at"] + (["integration_id"] if per_integration else [])
    months = (
        DealMonthTotal.objects.filter(integration_id__in=ids, kind__in=("new", "won"), month__gte=since)
        .filter(Q(kind="new") | Q(currency=currency))
        .annotate(at=F("month"))
    )
    days = (
        DealDayTotal.objects.filter(integration_id__in=ids, kind="won", day__gte=since)
        .exclude(currency=currency)
        .annotate(at=F("day"))
    )
    first, second = (
        rows.values(*keys).annotate(deals=Sum("count"), total=Sum("value_cents")).order_by() for rows in (months, days)
    )
    result = []
    for row in first.union(second, all=True):
        if row["deals"]:
            found = {"day" if key == "at" else key: row[key] for key in keys}
            found.update(count=row["deals"], value=Decimal(row["total"]) / 100)
            result.append(found)
    return result
