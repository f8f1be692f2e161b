"""Queue a financial sync (ids only), reporting a broker that does not answer instead of failing."""

import logging

import kombu.exceptions

from integrations.services.scheduling import QUEUE_UNAVAILABLE_MESSAGE

logger = logging.getLogger(__name__)


def queue_first_sync(integration) -> str:
    """Queue a sync of `integration`; "" when queued, else why not (the broker is down)."""
    from accounting.tasks import sync_financials_task

    try:
        sync_financials_task.delay(integration.pk)
    except (kombu.exceptions.OperationalError, OSError) as error:
        logger.error("Could not queue a financial sync of integration %s: %s", integration.pk, error)
        return QUEUE_UNAVAILABLE_MESSAGE
    return ""
