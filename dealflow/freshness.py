"""How fresh a company's copy of Pipedrive is, and the latest sync run, for the board header."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.db.models import FilteredRelation, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from dealflow import statements
from dealflow.formatting import format_datetime, format_time
from dealflow.selectors import company_ids, crm_integrations
from integrations.inbound.selectors import webhooks_live
from integrations.models import Integration, SyncOutcome, SyncRun, WebhookEndpoint
from integrations.services.lease import DEFAULT_TTL as LEASE_TTL
from integrations.services.lease import lease_is_held
from integrations.sync.run_log import INTERRUPTED, recover_dead_holder

# How long "Sync queued…" waits for a worker to start a run before it gives up polling.
QUEUE_PATIENCE = timedelta(minutes=2)
NO_WORKER_MESSAGE = gettext_lazy("No worker has picked this sync up yet — is the Celery worker running?")
STUCK_MESSAGE = gettext_lazy("This sync has stopped reporting progress; its worker probably died. Try again later.")


class Health:
    """A company's sync health, as the coloured dot in the company switcher shows it."""

    FRESH = "fresh"
    STALE = "stale"  # older than twice the interval, never synced, or paused
    FAILING = "failing"  # the last sync failed
    NONE = "none"  # no integration at all


HEALTH_LABELS = {
    Health.FRESH: gettext_lazy("Up to date"),
    Health.STALE: gettext_lazy("Out of date"),
    Health.FAILING: gettext_lazy("Last sync failed"),
    Health.NONE: gettext_lazy("Not connected to a CRM"),
}


@dataclass(frozen=True)
class SyncFreshness:
    integration: Integration
    synced_at: datetime | None
    age_text: str
    warning: str  # empty when all is well; what anyone may read
    health: str = Health.FRESH
    can_sync: bool = True  # False while a sync could not run (paused for the rate limit, disabled)
    error: str = ""  # the last failed sync's (token-free) reason, for staff
    # Set when scheduled syncs stopped for a permanent failure (credentials rejected, account not
    # found) until someone fixes the integration's settings; shown to staff only.
    attention: str = ""

    @property
    def health_label(self) -> str:
        return HEALTH_LABELS[self.health]


def age_text(then: datetime | None, now: datetime) -> str:
    if then is None:
        return _("never synced")
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 1:
        return _("synced just now")
    if minutes < 60:
        return _("synced %(minutes)d min ago") % {"minutes": minutes}
    if minutes < 48 * 60:
        return _("synced %(hours)d h ago") % {"hours": minutes // 60}
    return _("synced %(days)d days ago") % {"days": minutes // (24 * 60)}


def sync_freshness(integration: Integration, *, now: datetime) -> SyncFreshness:
    """How fresh the copy is and, when a sync cannot run or failed, the real reason. While the
    integration's webhooks are healthy the copy is "live": changes arrive within seconds, and the
    periodic sync is only the safety net."""
    state = integration.sync_state
    synced_at = state.last_successful_sync_at
    live = integration.is_enabled and webhooks_live(webhook_endpoint(integration), now=now)
    stale = not live and (
        synced_at is None or now - synced_at > timedelta(minutes=2 * integration.sync_interval_minutes)
    )
    blocked_until = state.sync_blocked_until
    health, can_sync, error = (Health.STALE if stale else Health.FRESH), sync_can_run(integration, now=now), ""
    if not integration.is_enabled:
        warning = _("Syncing is turned off for this company; staff can enable it in the admin.")
    elif not can_sync:
        same_day = blocked_until - now < timedelta(hours=20)
        resume = format_time(blocked_until) if same_day else format_datetime(blocked_until)
        warning = _("Pipedrive's daily limit is reached; syncing resumes at %(time)s.") % {"time": resume}
        health = Health.STALE
    elif state.last_sync_outcome == SyncOutcome.FAILED:
        warning, health, error = _("The last sync failed."), Health.FAILING, state.last_sync_error
    elif state.last_sync_outcome == SyncOutcome.RATE_LIMITED:
        warning = _("The last sync hit Pipedrive's rate limit; the next one continues where it stopped.")
    elif synced_at is None:
        warning = _("Not synced yet.")
    elif stale:
        warning = _("Older than twice the sync interval (%(minutes)s min).") % {
            "minutes": integration.sync_interval_minutes
        }
    else:
        warning = ""
    return SyncFreshness(
        integration=integration,
        synced_at=synced_at,
        age_text=_("live") if live and synced_at else age_text(synced_at, now),
        warning=warning,
        health=health,
        can_sync=can_sync,
        error=error,
        attention=_("Scheduled syncs are paused until someone fixes this integration's settings or credentials.")
        if state.needs_attention
        else "",
    )


def webhook_endpoint(integration: Integration) -> WebhookEndpoint | None:
    try:  # selected with the integration by crm_integrations; a query of its own otherwise
        return integration.webhook_endpoint
    except WebhookEndpoint.DoesNotExist:
        return None


@dataclass(frozen=True)
class CompanyHealth:
    health: str
    label: str
    age_text: str


def companies_health(companies, *, now: datetime) -> dict[int, CompanyHealth]:
    """Each company's sync health for the all-companies switcher, by company id (one query)."""
    # Without the credentials (the CRM's and its webhooks'): decrypting them for every company on
    # every board cost more than the rest of the health dots.
    loaded = statements.instances(
        ("companies_health", tuple(company_ids(companies))),
        lambda: crm_integrations(companies).defer("credentials", "settings", "webhook_endpoint__credentials"),
    )
    integrations = {integration.company_id: integration for integration in loaded}
    result = {}
    for company in companies:
        integration = integrations.get(company.pk)
        if integration is None:
            result[company.pk] = CompanyHealth(Health.NONE, str(HEALTH_LABELS[Health.NONE]), "")
        else:
            freshness = sync_freshness(integration, now=now)
            result[company.pk] = CompanyHealth(freshness.health, str(freshness.health_label), freshness.age_text)
    return result


def change_summary(run: SyncRun | None) -> str:
    """What a finished sync changed, as the header says it: "3 updated, 1 new"."""
    if run is None:
        return ""
    if run.error_kind == INTERRUPTED:
        return _("Sync ended: %(outcome)s.") % {"outcome": _("interrupted")}
    if run.outcome != SyncOutcome.SUCCEEDED:
        return _("Sync ended: %(outcome)s.") % {"outcome": run.get_outcome_display().lower()}
    parts = [
        ngettext("%(count)d updated", "%(count)d updated", run.updated) % {"count": run.updated} if run.updated else "",
        ngettext("%(count)d new", "%(count)d new", run.created) % {"count": run.created} if run.created else "",
        ngettext("%(count)d removed", "%(count)d removed", run.deleted) % {"count": run.deleted} if run.deleted else "",
    ]
    return ", ".join(part for part in parts if part) or _("No changes")


# Where `header_integration` keeps the latest run it read with the integration (None: it has none).
LATEST_RUN = "latest_sync_run"


def header_integration(company) -> Integration | None:
    """The company's CRM integration (selectors.company_crm_integration) with its latest sync run, for
    the board's header: one statement (the run joined by a correlated subquery, its newest by the
    order `latest_run` reads), where reading the run apart cost a round trip on every company's board."""
    latest = SyncRun.objects.filter(integration_id=OuterRef("id")).order_by("-started_at", "-id").values("id")[:1]
    found = statements.instances(
        ("header_integration", company.pk),
        lambda: (
            crm_integrations([company])
            .annotate(**{LATEST_RUN: FilteredRelation("sync_runs", condition=Q(sync_runs__id=Subquery(latest)))})
            .select_related(LATEST_RUN)
            .order_by("provider")[:1]
        ),
    )
    if not found:
        return None
    integration = found[0]
    vars(integration).setdefault(LATEST_RUN, None)  # select_related sets it only when there is a run
    return integration


def latest_run(integration: Integration, *, since: datetime | None = None) -> SyncRun | None:
    def runs():
        runs = SyncRun.objects.filter(integration=integration)
        return runs if since is None else runs.filter(started_at__gte=since)

    if since is not None:
        return runs().order_by("-started_at", "-id").first()
    if LATEST_RUN in vars(integration):  # read with the integration (header_integration)
        return vars(integration)[LATEST_RUN]
    # The board's header asks on every load: its statement is kept (statements.py).
    found = statements.instances(("latest_run", integration.pk), lambda: runs().order_by("-started_at", "-id")[:1])
    return found[0] if found else None


@dataclass(frozen=True)
class SyncProgress:
    """Where a sync stands for the header: idle, queued (asked for, no run yet), running, finished,
    or given up on (unclaimed: no worker took the job; stuck: a run whose worker stopped renewing its lease)."""

    state: str
    run: SyncRun | None
    since: int | None  # epoch seconds of the request that started the wait
    can_sync: bool = True  # whether "Sync now" could run now (see sync_can_run)

    @property
    def polling(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def summary(self) -> str:
        """After Sync now: what the run changed."""
        return change_summary(self.run) if self.state == "finished" else ""

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


def sync_can_run(integration: Integration, *, now: datetime) -> bool:
    """False while a sync would be refused: a disabled integration, or the daily budget spent."""
    blocked_until = integration.sync_state.sync_blocked_until
    return integration.is_enabled and not (blocked_until and blocked_until > now)


def sync_progress(integration: Integration, *, since: int | None, now: datetime | None = None) -> SyncProgress:
    """Where the latest sync stands. A worker killed mid-sync (on this host) is noticed here at once,
    its run ended as interrupted and `integration` reloaded, rather than by the next dispatch."""
    if recover_dead_holder(integration=integration):
        vars(integration).pop(LATEST_RUN, None)  # the run it read has just been ended
        integration.refresh_from_db()
    now = now or timezone.now()
    progress = _sync_progress(integration, since=since, now=now)
    return replace(progress, can_sync=sync_can_run(integration, now=now))


def _sync_progress(integration: Integration, *, since: int | None, now: datetime) -> SyncProgress:
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
