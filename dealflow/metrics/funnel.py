"""Funnel of the deals added in the period: the share that reached each standard stage.

A deal reached stage k when its furthest standard stage ever seen is k or later: its current
column (the board's rule: a won deal is in Closed Won) and both ends of every recorded stage
change. A deal that skipped stages reached the skipped ones too; a backward move keeps the
furthest. Stages mapped nowhere (excluded, unmapped) rank 0. One query, off indexes: the deals
counted per integration, current column and furthest rank among their recorded changes; compute
takes the further of the two. The mapping is read when the query runs, so a change shows at once.
"""

from collections import defaultdict

from django.db.models import Count, F, Func, IntegerField, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce

from dealflow.columns import column_expression, stage_ids
from dealflow.metrics.scope import Scope, rows_of
from dealflow.models import DealStatus, StageChange
from dealflow.stages import StandardStage

STAGES = [stage.value for stage in StandardStage]
RANK = {stage: index + 1 for index, stage in enumerate(STAGES)}


class StageRank(Func):
    """The highest standard stage rank (1 Lead … 6 Closed Won; 0 elsewhere) of some stage id columns,
    as one CASE of id lists written directly, highest rank first, so that a row stops at its first
    match instead of ranking each column in full (Django's When(field__in=…) also costs more to
    compile than the query costs to run)."""

    output_field = IntegerField()

    def __init__(self, fields: tuple[str, ...], targets: dict[int, str]):
        super().__init__(*(F(field) for field in fields))
        self.targets = targets

    def as_sql(self, compiler, connection, **extra):
        columns = [compiler.compile(source) for source in self.get_source_expressions()]
        whens, params = [], []
        for stage, rank in sorted(RANK.items(), key=lambda item: -item[1]):
            ids = stage_ids(self.targets, stage)
            if ids:
                marks = ", ".join(["%s"] * len(ids))
                whens.append(f"WHEN {' OR '.join(f'{column} IN ({marks})' for column, _ in columns)} THEN {rank}")
                for _, column_params in columns:
                    params += [*column_params, *ids]
        if not whens:
            return "0", []
        return f"CASE {' '.join(whens)} ELSE 0 END", params


def fetch(scope: Scope, period) -> list[dict]:
    """Per integration, current column and furthest rank among the recorded changes (0 without
    any): the deals added in the period, counted. The deals come off deal_added_idx, their changes
    off stagechange_reach_idx; the column's rank is taken in compute, so that the SQL holds the
    column rule once."""
    targets = scope.stages.target
    furthest_change = (
        StageChange.objects.filter(deal_id=OuterRef("pk"))
        .order_by()
        .values("deal_id")
        .annotate(rank=Max(StageRank(("to_stage_id", "from_stage_id"), targets)))
        .values("rank")
    )
    return list(
        scope.deals()
        .exclude(status=DealStatus.DELETED)
        .filter(add_time__gte=period.start, add_time__lt=period.end)
        .values("integration_id", column=column_expression(targets), changed=Coalesce(Subquery(furthest_change), 0))
        .annotate(count=Count("id"))
        .order_by()
    )


def compute(rows: list[dict], ids: set[int]) -> dict:
    reached = defaultdict(int)
    total = 0
    for row in rows_of(rows, ids):
        total += row["count"]
        reached[max(RANK.get(row["column"], 0), row["changed"])] += row["count"]
    funnel = {}
    for stage, rank in RANK.items():
        count = sum(number for furthest, number in reached.items() if furthest >= rank)
        funnel[stage] = {"count": count, "share": count / total if total else None}
    return funnel
