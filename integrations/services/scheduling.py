"""Queueing syncs: on demand (admin, board) and when an integration's interval has passed."""

import logging
import socket
from datetime import timedelta

import kombu.exceptions
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import Integration, SyncErrorKind, SyncOutcome, SyncRun, SyncState
from integrations.providers.base import RETRYABLE_KINDS, Category
from integrations.sync.run_log import LEASE_HELD, recover_dead_holder

# Retries of a sync that failed for a reason that may pass (a timeout, a 5xx, a burst 429).
MAX_RETRIES = 3
RETRY_BASE_SECONDS = 60
# A run stores its ProviderError's kind by value; a spent daily budget is stored as
# "budget_exhausted", so it never matches.
RETRYABLE_ERROR_KINDS = frozenset(SyncErrorKind(kind.value) for kind in RETRYABLE_KINDS)

logger = logging.getLogger(__name__)


class SyncQueueUnavailable(Exception):
    """Celery's broker did not take the task: Redis is down or unreachable, or the broker is misconfigured."""


QUEUE_UNAVAILABLE_MESSAGE = (
    "The sync could not be queued: the task queue is not answering. "
    "Check that Redis (CELERY_BROKER_URL) is running, then try again."
)


def enqueue_sync(*, integration: Integration, full: bool = False) -> None:
    """Queue a sync of `integration` once the current transaction commits (ids only, never tokens).

    Raises SyncQueueUnavailable when the broker refuses it: at once when called outside a transaction
    (the board, admin actions), at the commit when called inside one."""
    from integrations.tasks import sync_integration_task

    def send():
        try:
            sync_integration_task.delay(integration.pk, full=full)
        except (kombu.exceptions.OperationalError, OSError) as error:
            # The error names host and port at most; the broker URL (which may hold a password) is not logged.
            logger.error("Could not queue a sync of integration %s: %s", integration.pk, error)
            raise SyncQueueUnavailable(QUEUE_UNAVAILABLE_MESSAGE) from error

    transaction.on_commit(send)


def due_integrations(*, now=None, category: str = Category.CRM) -> list[Integration]:
    """Enabled integrations whose interval has passed since their last queued or started sync.

    Not those paused for a spent budget, nor those needing attention (a permanent failure: queueing
    them every interval would only fail again; Sync now still runs them by hand)."""
    now = now or timezone.now()
    # One category per dispatcher: accounting integrations sync with accounting/tasks.py.
    candidates = Integration.objects.filter(
        is_enabled=True, category=category, sync_state__attention_since__isnull=True
    ).filter(Q(sync_state__sync_blocked_until__isnull=True) | Q(sync_state__sync_blocked_until__lte=now))
    due = []
    for integration in candidates.select_related("sync_state").only(
        "pk", "sync_interval_minutes", "sync_state__sync_enqueued_at", "sync_state__last_sync_started_at"
    ):
        state = integration.sync_state
        last = max(filter(None, (state.sync_enqueued_at, state.last_sync_started_at)), default=None)
        if last is None or last + timedelta(minutes=integration.sync_interval_minutes) <= now:
            due.append(integration)
    return due


def claim_scheduled_sync(*, integration: Integration, now=None) -> bool:
    """Mark the integration as queued; False if another dispatcher claimed it first."""
    now = now or timezone.now()
    seen = integration.sync_state.sync_enqueued_at
    return bool(
        SyncState.objects.filter(integration_id=integration.pk, sync_enqueued_at=seen).update(sync_enqueued_at=now)
    )


def dispatch_due_syncs(*, now=None) -> list[int]:
    """Queue an incremental sync for each due integration; returns their ids.

    First, every minute: a sync whose worker died on this host is ended as interrupted and its
    lease freed, so the board stops showing "Syncing…" long before the lease would expire.
    """
    held_here = Integration.objects.exclude(sync_state__sync_lease_owner="").filter(
        sync_state__sync_lease_host=socket.gethostname()
    )
    for held in held_here.select_related("sync_state").only(
        "pk", "sync_state__sync_lease_owner", "sync_state__sync_lease_host", "sync_state__sync_lease_pid"
    ):
        recover_dead_holder(integration=held)
    queued = []
    for integration in due_integrations(now=now):
        if claim_scheduled_sync(integration=integration, now=now):
            enqueue_sync(integration=integration)
            queued.append(integration.pk)
    return queued


def enqueue_full_syncs() -> list[int]:
    """The nightly full reconciliation of every enabled integration."""
    # only("pk"): one query, and no API token decrypted just to queue an id.
    integrations = list(Integration.objects.filter(is_enabled=True, category=Category.CRM).only("pk"))
    for integration in integrations:
        enqueue_sync(integration=integration, full=True)
    return [integration.pk for integration in integrations]


def retry_countdown(run: SyncRun, *, retries_so_far: int) -> int | None:
    """Seconds before retrying a run, or None: budget exhaustion and permanent errors never retry."""
    retryable = (
        run.outcome in (SyncOutcome.FAILED, SyncOutcome.RATE_LIMITED) and run.error_kind in RETRYABLE_ERROR_KINDS
    ) or (
        # A full reconciliation skipped because another sync held the lease is tried again (the
        # nightly one would otherwise be lost); an incremental one waits for the next dispatch.
        run.kind == SyncRun.Kind.FULL and run.error_kind == LEASE_HELD
    )
    if not retryable or retries_so_far >= MAX_RETRIES:
        return None
    return RETRY_BASE_SECONDS * 2**retries_so_far
