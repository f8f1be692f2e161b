"""How fresh a company's copy of Pipedrive is, and the latest sync run, for the board header."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from integrations.models import Integration, SyncOutcome, SyncRun


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
    """Where a sync stands for the header: idle, queued (asked for, no run yet), running, finished."""

    state: str
    run: SyncRun | None
    since: int | None  # epoch seconds of the request that started the wait


def sync_progress(integration: Integration, *, since: int | None) -> SyncProgress:
    if since is None:
        run = latest_run(integration)
        state = "running" if run and run.outcome == SyncOutcome.RUNNING else "idle"
        return SyncProgress(state=state, run=run, since=int(run.started_at.timestamp()) if state == "running" else None)
    run = latest_run(integration, since=datetime.fromtimestamp(since, tz=UTC))
    if run is None:
        return SyncProgress(state="queued", run=None, since=since)
    state = "running" if run.outcome == SyncOutcome.RUNNING else "finished"
    return SyncProgress(state=state, run=run, since=since)
