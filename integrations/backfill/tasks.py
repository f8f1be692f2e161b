"""Celery tasks of the stage history backfill: thin, with ids only (never tokens)."""

from celery import shared_task

from integrations.models import Integration

from .services import run_backfill


@shared_task(name="integrations.backfill_stage_history")
def backfill_stage_history_task(integration_id: int) -> str:
    return run_backfill(integration_id=integration_id)


@shared_task(name="integrations.backfill_stage_history_all")
def backfill_stage_history_all_task() -> list[int]:
    """Daily (beat): queue a run for every integration that opted in; each goes on where it stopped."""
    ids = list(Integration.objects.filter(backfill_stage_history=True, is_enabled=True).values_list("pk", flat=True))
    for integration_id in ids:
        backfill_stage_history_task.delay(integration_id)
    return ids
