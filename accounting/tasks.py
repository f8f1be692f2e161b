"""Celery tasks for the financial sync: thin wrappers taking ids (never tokens)."""

from celery import shared_task

from accounting.services.sync import sync_financials
from integrations.models import Integration
from integrations.providers.base import Category
from integrations.services.scheduling import claim_scheduled_sync, due_integrations


@shared_task(name="accounting.sync_financials")
def sync_financials_task(integration_id: int, full: bool = False) -> str:
    integration = Integration.objects.filter(pk=integration_id, category=Category.ACCOUNTING).first()
    if integration is None:
        return "gone"
    return sync_financials(integration=integration, full=full).outcome


@shared_task(name="accounting.dispatch_due_financial_syncs")
def dispatch_due_financial_syncs_task() -> list[int]:
    """Queue a sync of each accounting integration whose interval has passed (the CRM dispatcher
    leaves them alone)."""
    queued = []
    for integration in due_integrations(category=Category.ACCOUNTING):
        if claim_scheduled_sync(integration=integration):
            sync_financials_task.delay(integration.pk)
            queued.append(integration.pk)
    return queued
