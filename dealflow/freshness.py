"""How fresh a company's copy of Pipedrive is, and the latest sync run, for the board header."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from integrations.models import Integration, SyncOutcome, SyncRun
from integrations.services.lease import DEFAULT_TTL as LEASE_TTL
from integrations.services.lease import lease_is_held

# How long "Sync queued…" waits for a worker to start a run before it gives up polling.
QUEUE_PATIENCE = timedelta(minutes=2)
NO_WORKER_MESSAGE = "No worker has picked this sync up yet — is the Celery worker running?"
STUCK_MESSAGE = "This sync has stopped reporting progress; its worker probably died. Try again later."


@dataclass(frozen=True)
class SyncFreshness:
    integration: Integration
    synced_at: datetime | None
    age_text: str
    warning: str  # empty when all is well


def age_text(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never synced"
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 1:
        return "synced just now"
    if minutes < 60:
        return f"synced {minutes} min ago"
    if minutes < 48 * 60:
        return f"synced {minutes // 60} h ago"
    return f"synced {minutes // (24 * 60)} days ago"


def sync_freshness(integration: Integration, *, now: datetime) -> SyncFreshness:
    synced_at = integration.last_successful_sync_at
    if integration.last_sync_outcome in (SyncOutcome.FAILED, SyncOutcome.RATE_LIMITED):
        warning = f"The last sync {integration.get_last_sync_outcome_display().lower()}."
    elif synced_at is None:
        warning = "Not synced yet."
    elif now - synced_at > timedelta(minutes=2 * integration.sync_interval_minutes):
        warning = f"Older than twice the sync interval ({integration.sync_interval_minutes} min)."
    else:
        warning = ""
    return SyncFreshness(
        integration=integration, synced_at=synced_at, age_text=age_text(synced_at, now), warning=warning
    )


def company_integration(company) -> Integration | None:
    return company.integrations.order_by("provider").first()


def latest_run(integration: Integration, *, since: datetime | None = None) -> SyncRun | None:
    runs = SyncRun.objects.filter(integration=integration)
    if since is not None:
        runs = runs.filter(started_at__gte=since)
    return runs.order_by("-started_at", "-id").first()


@dataclass(frozen=True)
class SyncProgress:
    """Where a sync stands for the header: idle, queued (asked for, no run yet), running, finished,
    or given up on (unclaimed: no worker took the job; stuck: a run whose worker stopped renewing its lease)."""

    state: str
    run: SyncRun | None
    since: int | None  # epoch seconds of the request that started the wait

    @property
    def polling(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def message(self) -> str:
        return {"unclaimed": NO_WORKER_MESSAGE, "stuck": STUCK_MESSAGE}.get(self.state, "")


def epoch_datetime(seconds: int | None) -> datetime | None:
    """The moment `seconds` after the epoch; None for None or a value no datetime can hold."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def is_stuck(integration: Integration, run: SyncRun, *, now: datetime) -> bool:
    """Still "running" longer than the lease, and nobody holds the lease: the worker is gone."""
    return now - run.started_at > LEASE_TTL and not lease_is_held(integration=integration)


def sync_progress(integration: Integration, *, since: int | None, now: datetime | None = None) -> SyncProgress:
    now = now or timezone.now()
    since_at = epoch_datetime(since)
    if since_at is not None and since_at > now + QUEUE_PATIENCE:
        since_at = None  # a click from the future: not one of ours
    if since_at is None:
        run = latest_run(integration)
        if not (run and run.outcome == SyncOutcome.RUNNING):
            return SyncProgress(state="idle", run=run, since=None)
        state = "stuck" if is_stuck(integration, run, now=now) else "running"
        return SyncProgress(state=state, run=run, since=int(run.started_at.timestamp()))
    run = latest_run(integration, since=since_at)
    if run is None:
        state = "unclaimed" if now - since_at > QUEUE_PATIENCE else "queued"
        return SyncProgress(state=state, run=None, since=since)
    if run.outcome != SyncOutcome.RUNNING:
        return SyncProgress(state="finished", run=run, since=since)
    return SyncProgress(state="stuck" if is_stuck(integration, run, now=now) else "running", run=run, since=since)
