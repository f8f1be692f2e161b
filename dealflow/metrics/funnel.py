"""Funnel of the deals added in the period: the share that reached each standard stage.

A deal reached stage k when its furthest standard stage ever seen is k or later: its current
column (the board's rule: a won deal is in Closed Won) and both ends of every recorded stage
change. A deal that skipped stages reached the skipped ones too; a backward move keeps the
furthest. Stages mapped nowhere (excluded, unmapped) rank 0. One query: the furthest rank per deal
in SQL, counted per integration and rank.
"""

from collections import defaultdict

from django.db.models import Case, Count, IntegerField, Max, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest

from dealflow.columns import column_expression, stage_ids
from dealflow.metrics.scope import Scope, rows_of
from dealflow.models import DealStatus, StageChange
from dealflow.stages import StandardStage

STAGES = [stage.value for stage in StandardStage]
RANK = {stage: index + 1 for index, stage in enumerate(STAGES)}


def stage_rank(targets: dict[int, str], field: str) -> Case:
    """A stage id column's standard stage rank (1 Lead … 6 Closed Won; 0 elsewhere)."""
    whens = [When(**{f"{field}__in": stage_ids(targets, stage)}, then=Value(rank)) for stage, rank in RANK.items()]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def fetch(scope: Scope, period) -> list[dict]:
    targets = scope.stages.target
    furthest_change = (
        StageChange.objects.filter(deal_id=OuterRef("pk"))
        .values("deal_id")
        .annotate(rank=Max(Greatest(stage_rank(targets, "to_stage_id"), stage_rank(targets, "from_stage_id"))))
        .values("rank")
    )
    column_rank = Case(
        *[When(column=stage, then=Value(rank)) for stage, rank in RANK.items()],
        default=Value(0),
        output_field=IntegerField(),
    )
    return list(
        scope.deals()
        .exclude(status=DealStatus.DELETED)
        .filter(add_time__gte=period.start, add_time__lt=period.end)
        .annotate(column=column_expression(targets))
        .annotate(reached=Greatest(column_rank, Coalesce(Subquery(furthest_change), Value(0))))
        .values("integration_id", "reached")
        .annotate(count=Count("id"))
        .order_by()
    )


def compute(rows: list[dict], ids: set[int]) -> dict:
    reached = defaultdict(int)
    total = 0
    for row in rows_of(rows, ids):
        total += row["count"]
        reached[row["reached"]] += row["count"]
    funnel = {}
    for stage, rank in RANK.items():
        count = sum(number for furthest, number in reached.items() if furthest >= rank)
        funnel[stage] = {"count": count, "share": count / total if total else None}
    return funnel
