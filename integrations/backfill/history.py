"""One deal's stage changes from the provider's log into StageChange rows (source "backfill").

A change already recorded is never recorded twice: the same deal, time and destination stage is
the same move, whoever recorded it (the sync may have seen it coming from an older stage when
several moves fell between two syncs). Remote stage ids map to the cached stages; an entry the
cache cannot place (a stage it does not know, a time in the future, an unreadable entry) is
skipped with a token-free reason for the run's report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from dealflow.models import Deal, DealHistoryBackfill, Stage, StageChange
from integrations.providers.base import RemoteStageChange


@dataclass
class DealHistory:
    recorded: int = 0
    problems: list[str] = field(default_factory=list)


def cached_stages(integration_id: int) -> dict[int, int]:
    """{remote stage id: Stage pk} of the integration."""
    return dict(Stage.objects.filter(integration_id=integration_id).values_list("remote_id", "pk"))


def record_history(
    *, deal: Deal, changes: Iterable[RemoteStageChange], stages: dict[int, int], now: datetime
) -> DealHistory:
    """Record the deal's new changes and mark it read, in one transaction."""
    result = DealHistory()
    seen = set(StageChange.objects.filter(deal_id=deal.pk).values_list("changed_at", "to_stage_remote_id").order_by())
    rows = []
    for change in changes:
        problem = _problem(change, stages, now)
        if problem:
            result.problems.append(problem)
            continue
        key = (change.changed_at, change.to_stage_id)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            StageChange(
                deal_id=deal.pk,
                from_stage_id=stages.get(change.from_stage_id),
                to_stage_id=stages[change.to_stage_id],
                from_stage_remote_id=change.from_stage_id,
                to_stage_remote_id=change.to_stage_id,
                changed_at=change.changed_at,
                source=StageChange.Source.BACKFILL,
            )
        )
    with transaction.atomic():
        StageChange.objects.bulk_create(rows)
        mark_read(deal, now=now, changes=len(rows))
    result.recorded = len(rows)
    return result


def mark_read(deal: Deal, *, now: datetime, changes: int = 0, skipped_reason: str = "") -> None:
    DealHistoryBackfill.objects.update_or_create(
        deal_id=deal.pk,
        defaults={"backfilled_at": now, "changes": changes, "skipped_reason": skipped_reason[:200]},
    )


def _problem(change: RemoteStageChange, stages: dict[int, int], now: datetime) -> str:
    if change.problem:
        return change.problem
    if change.changed_at > now:
        return "a stage change dated in the future"
    ends = (change.from_stage_id, change.to_stage_id)
    unknown = [stage for stage in ends if stage is not None and stage not in stages]
    if unknown:
        return f"a stage change to or from a stage the cache does not know ({unknown[0]})"
    return ""
