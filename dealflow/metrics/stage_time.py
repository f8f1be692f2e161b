"""Time in stage: mean days spent in each standard stage, from the recorded stage changes whose
stay ended in the period.

A stay in stage S ends with a recorded change out of S (its from_stage) and began with the deal's
previous recorded change, or, for its first recorded change, when the deal was added. Stays in
stages that map to no standard stage are left out. Each change carries its stay (StageChange.stay,
kept by database triggers), so one query reads one range of stagechange_stage_stay_idx per stage of
the scope (stage, then time: no change of another company is read, and the rows come in the GROUP
BY's order) and averages per stage. A change's stages are its deal's integration's (the sync
resolves them there), so the stage gives the integration, read from the scope's stage map rather
than by a join per change.
"""

from collections import defaultdict

from django.db.models import Avg, Count

from dealflow.metrics.scope import Scope, rows_of
from dealflow.models import StageChange
from dealflow.stages import StandardStage

STAGES = [stage.value for stage in StandardStage]


def fetch(scope: Scope, period) -> list[dict]:
    rows = (
        StageChange.objects.filter(
            from_stage_id__in=list(scope.stages.target),
            changed_at__gte=period.start,
            changed_at__lt=period.end,
        )
        .values("from_stage_id")
        # A first change of a deal without an add time has no stay: Avg and Count leave it out.
        .annotate(mean=Avg("stay"), count=Count("stay"))
        .order_by()
    )
    integration_of = scope.stages.integration_of
    return [{**row, "integration_id": integration_of[row["from_stage_id"]]} for row in rows]


def compute(rows: list[dict], ids: set[int], scope: Scope) -> dict:
    seconds, stays = defaultdict(float), defaultdict(int)
    for row in rows_of(rows, ids):
        column = scope.stages.target.get(row["from_stage_id"])
        if column in STAGES and row["mean"] is not None:
            seconds[column] += row["mean"].total_seconds() * row["count"]
            stays[column] += row["count"]
    return {stage: seconds[stage] / stays[stage] / 86400 if stays[stage] else None for stage in STAGES}
