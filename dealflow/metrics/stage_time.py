"""Time in stage: mean days spent in each standard stage, from the recorded stage changes whose
stay ended in the period.

A stay in stage S ends with a recorded change out of S (its from_stage) and began with the deal's
previous recorded change, or, for its first recorded change, when the deal was added. Stays in
stages that map to no standard stage are left out. Each change carries its stay (StageChange.stay,
kept by database triggers), so one query reads a range of stagechange_stay_idx and averages per
stage. A change's stages are its deal's integration's (the sync resolves them there), so the stage
gives the integration.
"""

from collections import defaultdict

from django.db.models import Avg, Count, F

from dealflow.metrics.scope import Scope, rows_of
from dealflow.models import StageChange
from dealflow.stages import StandardStage

STAGES = [stage.value for stage in StandardStage]


def fetch(scope: Scope, period) -> list[dict]:
    return list(
        StageChange.objects.filter(
            changed_at__gte=period.start,
            changed_at__lt=period.end,
            from_stage_id__in=list(scope.stages.target),
        )
        .values("from_stage_id", integration_id=F("from_stage__integration_id"))
        # A first change of a deal without an add time has no stay: Avg and Count leave it out.
        .annotate(mean=Avg("stay"), count=Count("stay"))
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
