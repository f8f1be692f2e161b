"""A stage history backfill run: read the logs of the deals still to do, one call each, until they
are all read, the day's share of the API budget is spent, or the shared daily budget is.

The share is counted per calendar day (the studio's time zone) on the progress row: each call's
token cost as the client counts it, against integration.daily_api_budget x the share. The next
day starts a fresh count and the run goes on with the deals not yet marked read. A deal whose log
is gone (404) or unreadable is marked read with the reason, reported, and the run goes on; a spent
shared budget is noted for the sync, webhooks and write-back too (services/api_budget.py), and a
failure no retry fixes (credentials rejected) stops the run with its token-free message.
A deal whose log runs over several pages is read to its end, so a day can go over the share by
those extra pages.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import kombu.exceptions
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import CANNOT_READ_CREDENTIALS, Integration, StageHistoryBackfill
from integrations.providers.base import ErrorKind, ProviderError
from integrations.services.api_budget import budget_spent_until, note_budget_spent
from integrations.services.scheduling import QUEUE_UNAVAILABLE_MESSAGE

from .history import cached_stages, mark_read, record_history
from .selectors import deals_needing_history, tokens_per_day

logger = logging.getLogger(__name__)

State = StageHistoryBackfill.State
# A deal whose log answers these is skipped (marked read with the reason), never the whole run.
DEAL_SKIPPING_KINDS = frozenset({ErrorKind.NOT_FOUND, ErrorKind.BAD_RESPONSE, ErrorKind.BAD_REQUEST})
# A run that died (a worker killed) leaves "running" behind; another may start after this long.
STALE_RUN = timedelta(hours=2)
REPORT_LENGTH = 50  # the most recent skipped deals and entries kept on the progress row


class BackfillRefused(Exception):
    """The backfill cannot be queued; the message says why, for staff."""


def queue_backfill(*, integration: Integration) -> None:
    """Queue a run now (the admin's button), with the integration's id only."""
    from .tasks import backfill_stage_history_task

    if not integration.provider_api.supports_stage_history:
        raise BackfillRefused(_("This provider offers no stage history to read."))
    if not integration.backfill_stage_history:
        raise BackfillRefused(_("Turn on “Backfill stage history” and save first."))
    try:
        backfill_stage_history_task.delay(integration.pk)
    except (kombu.exceptions.OperationalError, OSError) as error:
        logger.error("Could not queue the stage history backfill of integration %s: %s", integration.pk, error)
        raise BackfillRefused(QUEUE_UNAVAILABLE_MESSAGE) from None


class Run:
    """One run's counters, written to the progress row after every deal."""

    def __init__(self, progress: StageHistoryBackfill, today: date) -> None:
        self.pk = progress.pk
        self.day = today
        self.day_tokens = progress.day_tokens if progress.day == today else 0
        self.done = progress.deals_done
        self.skipped = progress.deals_skipped
        self.recorded = progress.changes_recorded
        self.report = list(progress.skipped or [])

    def note(self, deal_remote_id: int, reason: str) -> None:
        logger.warning("Stage history backfill skipped part of deal %s: %s", deal_remote_id, reason)
        self.report = [*self.report, {"deal": deal_remote_id, "reason": reason}][-REPORT_LENGTH:]

    def save(self, **fields) -> None:
        StageHistoryBackfill.objects.filter(pk=self.pk).update(
            day=self.day,
            day_tokens=self.day_tokens,
            deals_done=self.done,
            deals_skipped=self.skipped,
            changes_recorded=self.recorded,
            skipped=self.report,
            **fields,
        )


def run_backfill(*, integration_id: int, today: date | None = None, **client_options) -> str:
    """Run the integration's backfill now; returns the state it ended in ("busy" when another run
    holds it, "off" when it is not opted in or cannot run)."""
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None or not integration.backfill_stage_history or not integration.is_enabled:
        return "off"
    if not integration.provider_api.supports_stage_history:
        return "off"
    progress = _claim(integration)
    if progress is None:
        return "busy"
    run = Run(progress, today or timezone.localdate())
    state, error = _read_logs(integration, run, client_options)
    remaining = deals_needing_history(integration).count()
    run.save(state=state, last_error=error, deals_to_do=remaining)
    return state


def _claim(integration: Integration) -> StageHistoryBackfill | None:
    """Take the progress row for this run (one conditional UPDATE, so two runs never overlap)."""
    StageHistoryBackfill.objects.get_or_create(integration=integration)
    now = timezone.now()
    free = ~Q(state=State.RUNNING) | Q(last_run_at__isnull=True) | Q(last_run_at__lt=now - STALE_RUN)
    rows = StageHistoryBackfill.objects.filter(free, pk=integration.pk)
    if not rows.update(state=State.RUNNING, last_run_at=now, last_error=""):
        return None
    return StageHistoryBackfill.objects.get(pk=integration.pk)


def _read_logs(integration: Integration, run: Run, client_options: dict) -> tuple[str, str]:
    """Read deal after deal; the state to end in and a token-free error."""
    if not integration.credentials_are_readable:
        return State.FAILED, CANNOT_READ_CREDENTIALS
    provider = integration.provider_api
    cost, allowance = provider.stage_history_call_cost, tokens_per_day(integration)
    stages = cached_stages(integration.pk)
    deals = deals_needing_history(integration).only("pk", "remote_id")
    try:
        with provider.client(integration, **client_options) as client:
            for deal in deals.iterator(chunk_size=200):
                if run.day_tokens + cost > allowance:
                    return State.PAUSED, ""
                if budget_spent_until(integration.pk):
                    return State.BLOCKED, ""
                spent_before = client.stats.token_cost
                try:
                    outcome = _read_one(integration.pk, provider, client, deal, stages, run)
                finally:
                    run.day_tokens += client.stats.token_cost - spent_before
                    run.save()
                if outcome:
                    return outcome
    except ProviderError as error:  # the client's settings refused before any call
        return State.FAILED, str(error)
    return State.DONE, ""


def _read_one(integration_id: int, provider, client, deal, stages: dict[int, int], run: Run) -> tuple[str, str] | None:
    """Read and record one deal's log; (state, error) when the run must stop."""
    now = timezone.now()
    try:
        changes = list(provider.iter_stage_changes(client, deal.remote_id))
    except ProviderError as error:
        if note_budget_spent(integration_id, error):
            return State.BLOCKED, ""
        if error.kind in DEAL_SKIPPING_KINDS:
            mark_read(deal, now=now, skipped_reason=str(error))
            run.done += 1
            run.skipped += 1
            run.note(deal.remote_id, str(error))
            return None
        return State.FAILED, str(error)
    history = record_history(deal=deal, changes=changes, stages=stages, now=now)
    run.done += 1
    run.recorded += history.recorded
    for problem in history.problems:
        run.note(deal.remote_id, problem)
    return None
