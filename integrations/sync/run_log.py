"""Sync history: the SyncRun of each run, and the last-sync summary on its integration's SyncState."""

from collections.abc import Callable
from functools import partial

from django.utils import timezone

from integrations.models import Integration, SyncErrorKind, SyncOutcome, SyncRun
from integrations.services.lease import Lease, acquire_lease, force_release, release_dead_lease, release_lease
from integrations.services.sync_state import clear_attention, update_state
from integrations.sync.diff import Tally
from integrations.sync.locking import DatabaseBusy, when_writable

# error_kind of a run skipped because another sync of the integration held the lease.
LEASE_HELD = SyncErrorKind.LEASE_HELD
ABANDONED = "The worker running this sync stopped before it finished (its lease expired)."
INTERRUPTED = SyncErrorKind.INTERRUPTED  # error_kind of a run whose worker died or whose lease was released by hand
DB_BUSY = SyncErrorKind.DB_BUSY  # error_kind of a run that could not get the database's write lock


def start_run(*, integration: Integration, kind: str) -> SyncRun:
    return SyncRun.objects.create(integration=integration, kind=kind, started_at=timezone.now(), progress="Starting")


def run_under_lease(*, integration: Integration, run: SyncRun, work: Callable[[Lease], None]) -> SyncRun:
    """Run `work(lease)` holding the integration's lease (one sync at a time, whatever its
    category), with `run` marked started; a held lease or a busy database ends the run recorded,
    and the run's summary lands on the integration's sync state. `work` finishes the run itself."""
    try:
        lease = when_writable(partial(acquire_lease, integration_id=integration.pk))
    except DatabaseBusy as error:
        return finish_run(run, outcome=SyncOutcome.FAILED, error=str(error), error_kind=DB_BUSY)
    if lease is None:
        return finish_run(
            run,
            outcome=SyncOutcome.SKIPPED,
            error="Another sync of this integration is running.",
            error_kind=LEASE_HELD,
        )
    try:
        close_abandoned_runs(integration=integration, current=run)
        mark_started(integration=integration, run=run)
        work(lease)
    finally:
        release_lease(lease)
    record_on_integration(integration=integration, run=run)
    integration.refresh_from_db()
    return run


def unrecorded_busy_run(*, integration: Integration, kind: str, error: DatabaseBusy) -> SyncRun:
    """The failed run of a sync that could not even write its SyncRun: returned unsaved, so the
    caller (the task, a command) sees a failed run like any other; the worker's log keeps it."""
    now = timezone.now()
    return SyncRun(
        integration=integration,
        kind=kind,
        started_at=now,
        finished_at=now,
        outcome=SyncOutcome.FAILED,
        error=str(error),
        error_kind=DB_BUSY,
        progress=f"Failed: {error}"[:200],
    )


def report_progress(run: SyncRun, line: str, *, api_calls: int, token_cost: int) -> None:
    run.progress, run.api_calls, run.token_cost = line[:200], api_calls, token_cost
    SyncRun.objects.filter(pk=run.pk).update(progress=run.progress, api_calls=api_calls, token_cost=token_cost)


def finish_run(
    run: SyncRun,
    *,
    outcome: str,
    tally: Tally | None = None,
    api_calls: int = 0,
    token_cost: int = 0,
    error: str = "",
    error_kind: str = "",
    write_lock_seconds: float | None = None,
) -> SyncRun:
    tally = tally or Tally()
    run.finished_at = timezone.now()
    run.outcome = outcome
    run.created, run.updated, run.deleted, run.unchanged = tally.created, tally.updated, tally.deleted, tally.unchanged
    run.values_out_of_range, run.skipped, run.skipped_ids = tally.out_of_range, tally.skipped, tally.skipped_ids
    run.write_lock_seconds = write_lock_seconds
    run.api_calls, run.token_cost = api_calls, token_cost
    run.error, run.error_kind = error, error_kind
    run.progress = _closing_line(run)
    when_writable(run.save)
    return run


def _closing_line(run: SyncRun) -> str:
    if run.outcome == SyncOutcome.SUCCEEDED:
        line = f"Done: {run.created} created, {run.updated} updated, {run.deleted} deleted, {run.unchanged} unchanged"
        if run.values_out_of_range:
            line += f", {run.values_out_of_range} values out of range"
        if run.skipped:
            line += f", {run.skipped} skipped"
        return line[:200]
    return f"{run.get_outcome_display()}: {run.error}"[:200]


def mark_started(*, integration: Integration, run: SyncRun) -> None:
    update_state(integration.pk, last_sync_started_at=run.started_at)


def record_on_integration(*, integration: Integration, run: SyncRun) -> None:
    """Copy a finished run's result onto the integration's sync state (a targeted UPDATE); a
    success also clears a "needs attention" flag (the problem is evidently fixed)."""
    fields = {
        "last_synced_at": run.finished_at,
        "last_sync_outcome": run.outcome,
        "last_sync_error": run.error,
    }
    if run.outcome == SyncOutcome.SUCCEEDED:
        fields["last_successful_sync_at"] = run.finished_at
        if run.kind == SyncRun.Kind.FULL:
            fields["last_full_sync_at"] = run.finished_at
    when_writable(lambda: update_state(integration.pk, **fields))
    if run.outcome == SyncOutcome.SUCCEEDED:
        when_writable(lambda: clear_attention(integration.pk))


def close_abandoned_runs(*, integration: Integration, current: SyncRun) -> None:
    """Runs left 'running' by a worker that died: we hold the lease now, so they are over."""
    SyncRun.objects.filter(integration=integration, outcome=SyncOutcome.RUNNING).exclude(pk=current.pk).update(
        outcome=SyncOutcome.FAILED, finished_at=timezone.now(), error=ABANDONED, progress=ABANDONED[:200]
    )


def end_interrupted(*, integration: Integration, reason: str) -> int:
    """End the integration's running runs as failed and interrupted; how many there were."""
    return SyncRun.objects.filter(integration=integration, outcome=SyncOutcome.RUNNING).update(
        outcome=SyncOutcome.FAILED,
        finished_at=timezone.now(),
        error=reason,
        error_kind=INTERRUPTED,
        progress=f"Interrupted: {reason}"[:200],
    )


def recover_dead_holder(*, integration: Integration) -> bool:
    """If the process holding the integration's lease died on this host, free the lease and end
    its run as interrupted, at once rather than when the lease expires. True if it did."""
    host, pid = integration.sync_state.sync_lease_host, integration.sync_state.sync_lease_pid
    if not release_dead_lease(integration):
        return False
    reason = f"Interrupted: the worker running this sync (process {pid} on {host}) stopped before it finished."
    end_interrupted(integration=integration, reason=reason)
    update_state(integration.pk, last_sync_outcome=SyncOutcome.FAILED, last_sync_error=reason)
    return True


def release_by_hand(*, integration: Integration) -> tuple[bool, int]:
    """`manage.py release_sync_lease`: free the lease and end running runs as interrupted."""
    released = force_release(integration=integration)
    ended = end_interrupted(integration=integration, reason="Interrupted: the sync lease was released by hand.")
    return released, ended
