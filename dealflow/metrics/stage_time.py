"""Time in stage: mean days spent in each standard stage, from the recorded stage changes whose
stay ended in the period.

A stay in stage S ends with a recorded change out of S (its from_stage) and began with the deal's
previous recorded change, or, for its first recorded change, when the deal was added. Stays in
stages that map to no standard stage are left out. One query: each ending change with its stay's
start (a correlated subquery), averaged per stage in SQL.
"""

from collections import defaultdict

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from dealflow.metrics.scope import Scope, rows_of
from dealflow.models import StageChange
from dealflow.stages import StandardStage

STAGES = [stage.value for stage in StandardStage]


def fetch(scope: Scope, period) -> list[dict]:
    previous = (
        StageChange.objects.filter(deal_id=OuterRef("deal_id"))
        .filter(Q(changed_at__lt=OuterRef("changed_at")) | Q(changed_at=OuterRef("changed_at"), id__lt=OuterRef("id")))
        .order_by("-changed_at", "-id")
        .values("changed_at")[:1]
    )
    stay = ExpressionWrapper(F("changed_at") - F("began"), output_field=DurationField())
    return list(
        StageChange.objects.filter(
            deal__integration_id__in=list(scope.company_of),
            changed_at__gte=period.start,
            changed_at__lt=period.end,
            from_stage_id__isnull=False,
        )
        .annotate(began=Coalesce(Subquery(previous), F("deal__add_time")))
        .filter(began__isnull=False)
        .values("from_stage_id", integration_id=F("deal__integration_id"))
        .annotate(mean=Avg(stay), count=Count("id"))
        .order_by()
    )


def compute(rows: list[dict], ids: set[int], scope: Scope) -> dict:
    seconds, stays = defaultdict(float), defaultdict(int)
    for row in rows_of(rows, ids):
        column = scope.stages.target.get(row["from_stage_id"])
        if column in STAGES and row["mean"] is not None:
            seconds[column] += row["mean"].total_seconds() * row["count"]
            stays[column] += row["count"]
    return {stage: seconds[stage] / stays[stage] / 86400 if stays[stage] else None for stage in STAGES}
