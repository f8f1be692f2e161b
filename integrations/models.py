from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.fields import SecretJSONField, is_undecryptable
from integrations.providers.base import Category, Provider
from integrations.providers.registry import get_provider, provider_choices

CANNOT_READ_CREDENTIALS = "The stored API token is missing or cannot be decrypted; enter it again in the admin."


class SyncOutcome(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    RATE_LIMITED = "rate_limited", _("Rate limited")
    SKIPPED = "skipped", _("Skipped")


class SyncErrorKind(models.TextChoices):
    """Why a run failed or was skipped: the provider's error kinds plus the engine's own."""

    # A provider's ProviderError kinds (integrations/providers/base.py ErrorKind), stored by value.
    AUTH = "auth", _("Credentials rejected")
    NOT_FOUND = "not_found", _("Account or record not found")
    RATE_LIMITED = "rate_limited", _("Rate limited")
    TRANSIENT = "transient", _("Temporary provider failure")
    BAD_RESPONSE = "bad_response", _("Unreadable provider response")
    BAD_REQUEST = "bad_request", _("Request refused")
    # The engine's own.
    BUDGET_EXHAUSTED = "budget_exhausted", _("Daily API budget spent")
    LEASE_HELD = "lease_held", _("Another sync was running")
    LEASE_LOST = "lease_lost", _("Lease lost to another worker")
    DB_BUSY = "db_busy", _("Database busy")
    INTERRUPTED = "interrupted", _("Interrupted")
    INTERNAL = "internal", _("Internal error")


class Integration(models.Model):
    company = models.ForeignKey("portfolio.PortfolioCompany", on_delete=models.CASCADE, related_name="integrations")
    provider = models.CharField(max_length=20, choices=provider_choices, default="pipedrive")
    # The provider's category, kept in a column so that the board can pick a company's CRM in SQL.
    category = models.CharField(max_length=20, choices=Category.choices, editable=False)
    # The provider's own settings (Pipedrive: company_domain, api_base_url) and credentials (an API
    # token, or OAuth tokens with their expiry), edited in the admin through the provider's fields.
    settings = models.JSONField(default=dict, blank=True, editable=False)
    credentials = SecretJSONField(
        default=dict, blank=True, editable=False, help_text="Stored encrypted; never shown again."
    )
    is_enabled = models.BooleanField(default=True)
    sync_interval_minutes = models.PositiveIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    # Stage history backfill (integrations/backfill/): opt-in, and the share of the account's daily
    # API budget it may spend (its progress is in StageHistoryBackfill, written by the task only).
    backfill_stage_history = models.BooleanField(
        _("backfill stage history"),
        default=False,
        help_text=_("Read each deal's changelog once to record the stage changes the sync never saw."),
    )
    backfill_budget_share = models.PositiveSmallIntegerField(
        _("backfill share of the daily budget (%)"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("The backfill stops for the day when it has spent this share of the daily API budget."),
    )
    daily_api_budget = models.PositiveIntegerField(
        _("daily API budget (tokens)"),
        default=30_000,
        validators=[MinValueValidator(1)],
        help_text=_("The account's daily token budget: Pipedrive gives 30,000 × plan multiplier × seats."),
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["company__name", "provider"]
        constraints = [
            models.UniqueConstraint(fields=["company", "provider"], name="one_integration_per_company_and_provider")
        ]

    def __str__(self):
        return f"{self.company} · {self.get_provider_display()}"

    def save(self, *args, **kwargs):
        self.category = self.provider_api.category
        if kwargs.get("update_fields") is not None and "provider" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "category"}
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:  # the one place a SyncState is created (existing rows got theirs in a migration)
            SyncState.objects.get_or_create(integration=self)

    @property
    def provider_api(self) -> Provider:
        """The provider's interface (integrations/providers/base.py), imported on first use."""
        return get_provider(self.provider)

    def record_url(self, kind: str, remote_id: int) -> str:
        return self.provider_api.record_url(self, kind, remote_id)

    def deal_url(self, remote_id: int) -> str:
        return self.record_url("deal", remote_id)

    @property
    def credentials_are_readable(self) -> bool:
        return bool(self.credentials) and not is_undecryptable(self.credentials)

    @property
    def token_hint(self) -> str:
        """A masked hint (last four characters) that is safe to show staff."""
        if is_undecryptable(self.credentials):
            return "cannot be decrypted with FERNET_KEYS — enter the token again"
        return self.provider_api.credentials_hint(self.credentials)


class SyncState(models.Model):
    """An integration's sync bookkeeping, in its own row so that saving the Integration (the admin
    saves the whole row) can never wipe a lease taken or revert marks written meanwhile.

    Created with its Integration (Integration.save) and written only by targeted queryset UPDATEs
    (services/lease.py, services/scheduling.py, sync/run_log.py, sync/runner.py); never .save()d.
    """

    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, primary_key=True, related_name="sync_state"
    )
    last_sync_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_sync_outcome = models.CharField(max_length=20, choices=SyncOutcome.choices, blank=True, editable=False)
    last_sync_error = models.TextField(blank=True, editable=False)
    last_successful_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_full_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    # High-water marks per entity type ({"deals": "2026-01-01T00:00:00Z", ...}).
    sync_marks = models.JSONField(default=dict, blank=True, editable=False)
    # A lease in the database: at most one sync per integration, expiring if a worker dies.
    sync_lease_owner = models.CharField(max_length=64, blank=True, editable=False)
    sync_lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Where the holder runs, so a holder that died on this host frees the lease at once (lease.py).
    sync_lease_host = models.CharField(max_length=255, blank=True, editable=False)
    sync_lease_pid = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # When the dispatcher last queued a scheduled sync (claimed with a conditional UPDATE).
    sync_enqueued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when Pipedrive's daily token budget is spent: no sync runs before this time.
    sync_blocked_until = models.DateTimeField(null=True, blank=True, editable=False)

    # Set when a sync failed in a way retrying cannot fix (credentials rejected, account not found):
    # the dispatcher stops queueing it until its settings or credentials change or a sync succeeds.
    attention_reason = models.TextField(blank=True, editable=False)
    attention_since = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self):
        return f"Sync state of {self.integration_id}"

    @property
    def needs_attention(self) -> bool:
        return self.attention_since is not None


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Incremental")

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=SyncOutcome.choices, default=SyncOutcome.RUNNING)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    token_cost = models.PositiveIntegerField(default=0)
    progress = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True, help_text="Token-free description of what went wrong.")
    error_kind = models.CharField(
        max_length=20, choices=SyncErrorKind.choices, blank=True, help_text="Why it failed; decides retries."
    )

    values_out_of_range = models.PositiveIntegerField(
        default=0, help_text="Values that did not fit their columns: stored as null, clamped or 0, and flagged."
    )
    skipped = models.PositiveIntegerField(default=0, help_text="Records that could not be stored at all.")
    skipped_ids = models.JSONField(
        default=dict, blank=True, help_text="Pipedrive ids of skipped records by entity (the first 100 each)."
    )
    write_lock_seconds = models.FloatField(
        null=True, blank=True, help_text="The longest the run held the database's write lock at a stretch."
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["integration", "-started_at"])]

    def __str__(self):
        return f"{self.integration} {self.kind} sync at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None


class WriteBackEntry(models.Model):
    """One change a user asked the board to make in the CRM (a deal moved, won, lost, reopened,
    edited or created), and what became of it. Token-free; read-only in the admin."""

    class Action(models.TextChoices):
        STAGE = "stage", _("Stage changed")
        WON = "won", _("Marked won")
        LOST = "lost", _("Marked lost")
        REOPEN = "reopen", _("Reopened")
        EDIT = "edit", _("Edited")
        CREATE = "create", _("Created")

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        CONFLICT = "conflict", _("Changed since seen: nothing written")
        FAILED = "failed", _("Failed")

    created_at = models.DateTimeField(_("when"), auto_now_add=True)
    # SET_NULL and copied names: the trail outlives users, companies and integrations.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("who"),
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    company = models.ForeignKey(
        "portfolio.PortfolioCompany",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("company"),
    )
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="write_backs"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    deal_remote_id = models.BigIntegerField(_("deal id at the provider"), null=True, blank=True)
    deal_title = models.CharField(_("deal"), max_length=500, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    error = models.TextField(_("provider's error"), blank=True, help_text=_("Token-free."))

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["company", "-created_at"])]
        verbose_name = _("write-back entry")
        verbose_name_plural = _("write-back entries")

    def __str__(self):
        return f"{self.get_action_display()} · {self.deal_title or self.deal_remote_id} · {self.get_outcome_display()}"


class WebhookEndpoint(models.Model):
    """Where an integration's provider delivers its webhooks: an unguessable URL key, the basic-auth
    credentials the provider sends (generated here, stored encrypted, never shown), the ids of the
    webhooks registered at the provider, and their health for the admin and the board's freshness.

    Written only by targeted UPDATEs in integrations/inbound/services.py (like SyncState), so a
    request counting a rejection never races an admin save.
    """

    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, primary_key=True, related_name="webhook_endpoint"
    )
    # Part of the receiver's URL (/hooks/pipedrive/<key>/): unguessable, but not the credential.
    url_key = models.CharField(max_length=64, unique=True, editable=False)
    # {"user": ..., "password": ...}: what the provider sends as HTTP basic auth.
    credentials = SecretJSONField(default=dict, blank=True, editable=False)
    # {event object: remote webhook id}, e.g. {"deal": 12, "stage": 13}.
    remote_ids = models.JSONField(default=dict, blank=True, editable=False)
    registered_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The last check (command, admin or the daily beat task) and what it found.
    checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    check_ok = models.BooleanField(default=False, editable=False)
    check_message = models.TextField(blank=True, editable=False, help_text="Token-free.")
    last_event_at = models.DateTimeField(null=True, blank=True, editable=False)
    rejected_requests = models.PositiveIntegerField(default=0, editable=False)
    last_rejected_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self):
        return f"Webhooks of {self.integration_id}"


class InboundEvent(models.Model):
    """One webhook delivery, stored once per provider event id and processed by a Celery task."""

    class Outcome(models.TextChoices):
        PENDING = "", _("Pending")
        APPLIED = "applied", _("Applied")
        REMOVED = "removed", _("Removed")
        CURRENT = "current", _("Already current")
        REFRESHED = "refreshed", _("Refreshed")
        FAILED = "failed", _("Failed")

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="inbound_events")
    event_id = models.CharField(max_length=100)
    entity = models.CharField(max_length=40)
    action = models.CharField(max_length=20)
    entity_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    # Set by the task that claims this event with the others pending for the same record, so a
    # burst of events for one deal costs one fetch.
    batch = models.CharField(max_length=32, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    error = models.TextField(blank=True, help_text="Token-free.")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "event_id"], name="inbound_event_unique_per_integration")
        ]
        indexes = [
            models.Index(fields=["integration", "entity", "entity_id", "batch"], name="inbound_event_pending_idx"),
            models.Index(fields=["integration", "received_at"], name="inbound_event_received_idx"),
        ]

    def __str__(self):
        return f"{self.entity} {self.action} {self.entity_id} ({self.event_id})"


class StageHistoryBackfill(models.Model):
    """An integration's stage history backfill progress (integrations/backfill/), in its own row so
    that saving the Integration in the admin never reverts it. Written only by targeted UPDATEs."""

    class State(models.TextChoices):
        IDLE = "idle", _("Not started")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused: today's share spent")
        BLOCKED = "blocked", _("Paused: daily budget spent")
        FAILED = "failed", _("Stopped by an error")
        DONE = "done", _("Done")

    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, primary_key=True, related_name="history_backfill"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.IDLE)
    deals_done = models.PositiveIntegerField(_("deals done"), default=0)
    deals_to_do = models.PositiveIntegerField(_("deals to do"), default=0)
    deals_skipped = models.PositiveIntegerField(_("deals skipped"), default=0)
    changes_recorded = models.PositiveIntegerField(_("stage changes recorded"), default=0)
    # The tokens the backfill spent on `day` (the studio's calendar day): its share is counted per day.
    day = models.DateField(null=True, blank=True)
    day_tokens = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, help_text="Token-free.")
    # The most recent skipped deals: [{"deal": remote id, "reason": token-free text}, ...].
    skipped = models.JSONField(default=list, blank=True)

    def __str__(self):
        return f"Stage history backfill of {self.integration_id}"
