"""Celery tasks: thin wrappers that take ids (never tokens) and call services."""

from celery import shared_task

from integrations.backfill.tasks import backfill_stage_history_all_task, backfill_stage_history_task  # noqa: F401
from integrations.inbound.tasks import check_webhooks_task, process_inbound_event_task  # noqa: F401 (registered)
from integrations.models import Integration
from integrations.services.scheduling import dispatch_due_syncs, enqueue_full_syncs, retry_countdown
from integrations.sync.runner import sync_integration


@shared_task(bind=True, name="integrations.sync_integration", max_retries=None)
def sync_integration_task(self, integration_id: int, full: bool = False) -> str:
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return "gone"
    run = sync_integration(integration=integration, full=full)
    countdown = retry_countdown(run, retries_so_far=self.request.retries)
    if countdown is not None:
        raise self.retry(countdown=countdown)
    return run.outcome


@shared_task(name="integrations.dispatch_due_syncs")
def dispatch_due_syncs_task() -> list[int]:
    return dispatch_due_syncs()


@shared_task(name="integrations.full_sync_all")
def full_sync_all_task() -> list[int]:
    return enqueue_full_syncs()
