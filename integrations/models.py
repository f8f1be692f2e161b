from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from integrations.fields import SecretTextField, is_undecryptable
from integrations.providers.pipedrive.connection_rules import (
    base_url_problem,
    normalise_company_domain,
    validate_company_domain,
)
from integrations.providers.pipedrive.errors import ErrorKind, PipedriveError


class Provider(models.TextChoices):
    PIPEDRIVE = "pipedrive", "Pipedrive"


class SyncOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    RATE_LIMITED = "rate_limited", "Rate limited"
    SKIPPED = "skipped", "Skipped"


class Integration(models.Model):
    company = models.ForeignKey(
        "portfolio.PortfolioCompany", on_delete=models.CASCADE, related_name="integrations"
    )
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.PIPEDRIVE)
    api_token = SecretTextField(help_text="Stored encrypted; never shown again.")
    company_domain = models.CharField(
        max_length=63,
        validators=[validate_company_domain],
        help_text="“coeo” for coeo.pipedrive.com.",
    )
    api_base_url = models.URLField(
        blank=True,
        help_text="Leave blank for https://{domain}.pipedrive.com; set for a proxy or the sandbox.",
    )
    is_enabled = models.BooleanField(default=True)
    sync_interval_minutes = models.PositiveIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )

    last_sync_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_sync_outcome = models.CharField(
        max_length=20, choices=SyncOutcome.choices, blank=True, editable=False
    )
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

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["company__name", "provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "provider"], name="one_integration_per_company_and_provider"
            )
        ]

    def __str__(self):
        return f"{self.company} · {self.get_provider_display()}"

    def clean(self):
        self.company_domain = normalise_company_domain(self.company_domain)

    @property
    def base_url(self) -> str:
        """Where the client sends the token; checked on every use (not only in the form), so a
        URL saved before the rules or written around the form is refused with PipedriveError."""
        url = (self.api_base_url or f"https://{self.company_domain}.pipedrive.com").rstrip("/")
        problem = base_url_problem(url, company_domain=self.company_domain)
        if problem:
            raise PipedriveError(problem, kind=ErrorKind.BAD_REQUEST)
        return url

    @property
    def web_url(self) -> str:
        return f"https://{self.company_domain}.pipedrive.com"

    def deal_url(self, remote_id: int) -> str:
        return f"{self.web_url}/deal/{remote_id}"

    @property
    def token_is_readable(self) -> bool:
        return bool(self.api_token) and not is_undecryptable(self.api_token)

    @property
    def token_hint(self) -> str:
        """A masked hint (last four characters) that is safe to show staff."""
        if is_undecryptable(self.api_token):
            return "cannot be decrypted with FERNET_KEYS — enter the token again"
        if not self.api_token:
            return "not set"
        return "•" * 8 + self.api_token[-4:]


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental"

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
        max_length=20, blank=True, help_text="Pipedrive error kind (transient, auth, ...); decides retries."
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
