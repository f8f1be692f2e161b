"""Celery tasks for webhooks in: thin wrappers taking ids only, consumed by a plain worker."""

from celery import shared_task

from .processing import TryLater, process_event
from .registration import repair_all

RETRY_SECONDS = 30


@shared_task(bind=True, name="integrations.process_inbound_event", max_retries=5)
def process_inbound_event_task(self, event_id: int) -> str:
    try:
        return process_event(event_id)
    except TryLater as later:
        raise self.retry(countdown=later.countdown or RETRY_SECONDS) from None


@shared_task(name="integrations.check_webhooks")
def check_webhooks_task() -> dict:
    """Daily: re-register the webhooks a provider deleted (Pipedrive deletes one failing for 3 days)."""
    return {integration_id: report.ok for integration_id, report in repair_all().items()}
