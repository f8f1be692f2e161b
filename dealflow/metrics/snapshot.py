"""The daily pipeline snapshot: each active company's open pipeline per standard column and currency,
as of one day (PipelineSnapshot), for the pipeline trend chart. Taking a day's snapshot again
replaces that day's rows, so the beat task is idempotent per day."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from dealflow.metrics.pipeline import open_rows, placed
from dealflow.metrics.scope import Scope
from dealflow.models import PipelineSnapshot
from portfolio.models import PortfolioCompany


def take_snapshots(day: date | None = None) -> int:
    """Snapshot every active company's open pipeline for `day` (default today); returns the rows written."""
    day = day or timezone.localdate()
    scope = Scope.of(PortfolioCompany.objects.active())
    sums = defaultdict(lambda: [0, Decimal(0), Decimal(0)])  # (company, column, currency) -> count, value, weighted
    for row in open_rows(scope):
        column, value, weighted = placed(row, scope)
        entry = sums[scope.company_of[row["integration_id"]], column, row["currency"] or ""]
        entry[0] += row["count"]
        entry[1] += value
        entry[2] += weighted
    snapshots = [
        PipelineSnapshot(
            company_id=company_id,
            day=day,
            stage=column,
            currency=currency,
            count=count,
            value=value,
            weighted_value=weighted,
        )
        for (company_id, column, currency), (count, value, weighted) in sums.items()
    ]
    with transaction.atomic():
        PipelineSnapshot.objects.filter(day=day).delete()
        PipelineSnapshot.objects.bulk_create(snapshots)
    return len(snapshots)
