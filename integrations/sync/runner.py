"""sync_integration: copy one integration's account at its provider into the cache, safely.

1. Take the integration's lease (one sync at a time) and open a SyncRun.
2. Download every entity page by page, diff each page against the cache, stage the changes in
   temporary tables (staging.py: no lock on the cache's database).
3. Only when every page arrived: apply the staged changes with set-based SQL, new stage mappings,
   the reconciliation of a full sync and the new high-water marks in one short transaction.
Any failure before or during step 3 leaves the cache and the marks as they were; the run records
a token-free reason, and the next sync converges.
"""

import logging
import time
import traceback
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from django.utils import timezone

from integrations.models import CANNOT_READ_CREDENTIALS, Integration, SyncErrorKind, SyncOutcome, SyncRun
from integrations.providers.base import ErrorKind, PageInfo, ProviderError, SyncPlan
from integrations.redaction import redact
from integrations.services.api_budget import note_budget_spent
from integrations.services.lease import renew_lease
from integrations.services.sync_state import flag_attention, update_state
from integrations.sync import run_log
from integrations.sync.analyze import analyze, is_large
from integrations.sync.download import Download, download
from integrations.sync.locking import DatabaseBusy, when_writable, write_transaction
from integrations.sync.mappings import create_missing_mappings
from integrations.sync.marks import MAX_CLOCK_SKEW, next_marks
from integrations.sync.pragmas import bulk_write_pragmas
from integrations.sync.reconcile import remove_unseen
from integrations.sync.staging import Staging
from integrations.sync.write import Writer

logger = logging.getLogger(__name__)

# How often a running sync renews its lease and saves its progress line (at most).
PROGRESS_EVERY_SECONDS = 0.5


class LeaseLost(Exception):
    """Another worker took over this integration's expired lease while we were still running."""


def sync_integration(
    *,
    integration: Integration,
    full: bool = False,
    on_progress: Callable[[str], None] | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> SyncRun:
    """Sync one integration; never raises for provider or data errors: the run records them.

    `on_progress` receives a short line per page; `client_options` go to the provider's client
    (tests and the benchmark pass a transport, page_size or sleep).
    """
    integration.refresh_from_db()
    kind = SyncRun.Kind.FULL if full else SyncRun.Kind.INCREMENTAL
    try:
        run = when_writable(partial(_start, integration, kind))
    except DatabaseBusy as error:
        logger.warning("Sync of integration %s could not start: %s", integration.pk, error)
        return run_log.unrecorded_busy_run(integration=integration, kind=kind, error=error)
    refusal = _refusal(integration)
    if refusal:
        return run_log.finish_run(run, outcome=SyncOutcome.SKIPPED, error=refusal)
    work = partial(_run, integration, run, full=full, client_options=client_options or {}, on_progress=on_progress)
    return run_log.run_under_lease(integration=integration, run=run, work=work)


def _start(integration: Integration, kind: str) -> SyncRun:
    run_log.recover_dead_holder(integration=integration)  # a holder killed on this host frees its lease now
    return run_log.start_run(integration=integration, kind=kind)


def _refusal(integration: Integration) -> str:
    blocked_until = integration.sync_state.sync_blocked_until
    if blocked_until and blocked_until > timezone.now():
        resume = timezone.localtime(blocked_until)
        label = integration.provider_api.label
        return f"{label}'s daily token budget is spent; syncs resume after {resume:%Y-%m-%d %H:%M %Z}."
    if not integration.is_enabled:
        return "The integration is disabled; enable it in the admin to sync."
    if not integration.credentials_are_readable:
        return CANNOT_READ_CREDENTIALS
    return ""


def _run(integration, run, lease, *, full, client_options, on_progress) -> None:
    provider = integration.provider_api
    secrets = provider.secrets(integration.credentials)
    client = None
    try:
        # Built inside the failure handling: a refused base URL or a malformed token ends the run
        # recorded like any other failure, never left "running".
        client = provider.client(integration, **client_options)
        with client, Staging() as staging:
            plan, fetched = _download(
                provider, client, integration, run, lease, full=full, staging=staging, on_progress=on_progress
            )
            fetched.tally.skipped += client.stats.unreadable_records  # listed rows without a usable id
            _report(run, client, "Saving changes", on_progress)
            held = _write(integration, run, plan, fetched, full=full)
            tally = fetched.tally
            if is_large(created=tally.created, updated=tally.updated, deleted=tally.deleted):
                analyze([*staging.tables, *staging.removals])
        run_log.finish_run(
            run, outcome=SyncOutcome.SUCCEEDED, tally=fetched.tally, write_lock_seconds=held, **_usage(client)
        )
    except DatabaseBusy as error:
        run_log.finish_run(
            run, outcome=SyncOutcome.FAILED, error=str(error), error_kind=run_log.DB_BUSY, **_usage(client)
        )
    except ProviderError as error:
        _finish_after_api_error(integration, run, client, error, secrets)
    except LeaseLost:
        run_log.finish_run(
            run,
            outcome=SyncOutcome.FAILED,
            error="The sync lost its lease to another worker and stopped.",
            error_kind=SyncErrorKind.LEASE_LOST,
            **_usage(client),
        )
    except Exception as error:  # noqa: BLE001 - any failure must end as a recorded, token-free run
        logger.error("Sync of integration %s failed:\n%s", integration.pk, redact(traceback.format_exc(), *secrets))
        run_log.finish_run(
            run,
            outcome=SyncOutcome.FAILED,
            error=redact(f"{type(error).__name__}: {error}", *secrets)[:2000],
            error_kind=SyncErrorKind.INTERNAL,
            **_usage(client),
        )


def _download(provider, client, integration, run, lease, *, full, staging, on_progress):
    last_saved = -PROGRESS_EVERY_SECONDS

    def on_page(info: PageInfo) -> None:
        nonlocal last_saved
        line = f"{info.resource}: page {info.page_number}, {info.records_so_far} records"
        # Each renewal and progress line is a write transaction that the web server and beat wait
        # on; a few a second is plenty for a 15-minute lease and a progress line people read.
        if time.monotonic() - last_saved >= PROGRESS_EVERY_SECONDS:
            if not renew_lease(lease):
                raise LeaseLost
            run_log.report_progress(run, line, **_usage(client))
            last_saved = time.monotonic()
        if on_progress is not None:
            on_progress(line)

    plan = provider.sync_plan(client, marks=integration.sync_state.sync_marks, on_page=on_page)
    fetched = download(
        client=client,
        specs=plan.specs,
        integration_id=integration.pk,
        marks=plan.marks,
        full=full,
        staging=staging,
        on_page=on_page,
    )
    return plan, fetched


def _write(integration: Integration, run: SyncRun, plan: SyncPlan, fetched: Download, *, full: bool) -> float:
    """Apply the staged changes in one transaction; returns how long it held the database's write lock."""
    specs = plan.specs
    with bulk_write_pragmas(), write_transaction() as lock:
        if plan.store is not None:
            plan.store(integration.pk)
        writer = Writer(integration_id=integration.pk, specs=specs, tally=fetched.tally)
        writer.apply(fetched.staging)
        writer.relink(written=fetched.staging.tables, cached=fetched.cached)
        create_missing_mappings(integration_id=integration.pk)
        if full:
            for model, seen in fetched.seen.items():
                fetched.tally.deleted += remove_unseen(integration_id=integration.pk, model=model, seen=seen)
        marks = next_marks(
            fetched.marks,
            fetched.newest,
            cap=run.started_at + MAX_CLOCK_SKEW,
            reset=[spec.key for spec in specs if spec.incremental] if full else (),
        )
        if marks != integration.sync_state.sync_marks:
            update_state(integration.pk, sync_marks=marks)
    return lock.held_seconds


def _finish_after_api_error(integration, run, client, error: ProviderError, secrets: tuple[str, ...]) -> None:
    message = redact(str(error), *secrets)
    if error.kind is ErrorKind.RATE_LIMITED:
        note_budget_spent(integration.pk, error)
        kind = SyncErrorKind.BUDGET_EXHAUSTED if error.budget_exhausted else SyncErrorKind.RATE_LIMITED
        run_log.finish_run(run, outcome=SyncOutcome.RATE_LIMITED, error=message, error_kind=kind, **_usage(client))
        return
    if error.permanent:  # retrying cannot help: stop scheduled syncs until someone fixes the settings
        flag_attention(integration.pk, reason=message)
    kind = SyncErrorKind(error.kind.value)
    run_log.finish_run(run, outcome=SyncOutcome.FAILED, error=message, error_kind=kind, **_usage(client))


def _report(run, client, line: str, on_progress) -> None:
    run_log.report_progress(run, line, **_usage(client))
    if on_progress is not None:
        on_progress(line)


def _usage(client: Any | None) -> dict:
    if client is None:
        return {}
    return {"api_calls": client.stats.calls, "token_cost": client.stats.token_cost}
