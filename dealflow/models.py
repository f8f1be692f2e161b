"""Our copy of each integration's Pipedrive records, plus stage mappings and history.

One row per remote record, unique on (integration, remote_id). Foreign keys between cached
rows are resolved by the sync; the *_remote_id columns keep the link when the target has
not been synced (yet), so nothing is dropped.
"""

from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from dealflow.stages import MappingTarget


class CachedRecord(models.Model):
    # No index of its own: the unique (integration, remote_id) constraint below starts with it.
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    remote_id = models.BigIntegerField()
    raw = models.JSONField(default=dict)
    # A digest of `raw`: the sync compares it to tell changed records from unchanged ones.
    fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["integration", "remote_id"], name="%(class)s_unique_remote")]


class Pipeline(CachedRecord):
    name = models.CharField(max_length=255)
    order_nr = models.IntegerField(default=0)
    is_deleted = models.BooleanField(default=False)

    class Meta(CachedRecord.Meta):
        ordering = ["integration", "order_nr", "remote_id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self):
        return self.name


class Stage(CachedRecord):
    pipeline = models.ForeignKey(Pipeline, null=True, blank=True, on_delete=models.SET_NULL, related_name="stages")
    pipeline_remote_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=255)
    order_nr = models.IntegerField(default=0)
    deal_probability = models.PositiveSmallIntegerField(default=100)
    is_deal_rot_enabled = models.BooleanField(default=False)
    days_to_rotten = models.PositiveIntegerField(null=True, blank=True)
    is_deleted = models.BooleanField(default=False)

    class Meta(CachedRecord.Meta):
        ordering = ["integration", "pipeline_remote_id", "order_nr", "remote_id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self):
        return self.name


class StageMapping(models.Model):
    """Which standard column a company stage belongs in; keyed by stage id, never name."""

    # Denormalised from stage.integration so the integration's admin page can edit mappings inline.
    integration = models.ForeignKey(
        "integrations.Integration",
        on_delete=models.CASCADE,
        related_name="stage_mappings",
        verbose_name=_("integration"),
    )
    stage = models.OneToOneField(Stage, on_delete=models.CASCADE, related_name="mapping", verbose_name=_("stage"))
    target = models.CharField(_("target"), max_length=20, choices=MappingTarget.choices, default=MappingTarget.UNMAPPED)
    suggested_target = models.CharField(_("suggested target"), max_length=20, choices=MappingTarget.choices, blank=True)
    is_confirmed = models.BooleanField(
        _("confirmed"), default=False, help_text=_("Unconfirmed mappings were suggested by keyword rules.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["target"])]
        verbose_name = _("stage mapping")
        verbose_name_plural = _("stage mappings")

    def __str__(self):
        return f"{self.stage} → {self.get_target_display()}"


class Owner(CachedRecord):
    """A Pipedrive user."""

    name = models.CharField(max_length=255)
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta(CachedRecord.Meta):
        ordering = ["name"]
        verbose_name = _("owner")
        verbose_name_plural = _("owners")

    def __str__(self):
        return self.name


class Organization(CachedRecord):
    name = models.CharField(max_length=255)
    owner_remote_id = models.BigIntegerField(null=True, blank=True)
    address = models.TextField(blank=True)
    update_time = models.DateTimeField(null=True, blank=True)

    class Meta(CachedRecord.Meta):
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self):
        return self.name


class Person(CachedRecord):
    name = models.CharField(max_length=255)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="persons"
    )
    org_remote_id = models.BigIntegerField(null=True, blank=True)
    owner_remote_id = models.BigIntegerField(null=True, blank=True)
    emails = models.JSONField(default=list, blank=True)
    phones = models.JSONField(default=list, blank=True)
    update_time = models.DateTimeField(null=True, blank=True)

    class Meta(CachedRecord.Meta):
        ordering = ["name"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self):
        return self.name


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    DELETED = "deleted", _("Deleted")


# What the searched board reads of a deal (dealflow/search_reads.py), after its organization or person.
SEARCH_READ = [
    *("integration", "status", "is_archived", "stage", "currency", "value", "update_time", "won_time", "close_time"),
    *("stage_change_time", "owner", "pipeline", "id"),
]


class Deal(CachedRecord):
    title = models.CharField(max_length=500)
    value = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=10, choices=DealStatus.choices, default=DealStatus.OPEN)
    is_archived = models.BooleanField(default=False)

    pipeline = models.ForeignKey(Pipeline, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    # No index of their own: deal_organization_search_idx and deal_person_search_idx start with
    # them and serve every lookup by organization or person, so a deal write keeps two fewer indexes.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals", db_index=False
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals", db_index=False
    )
    owner = models.ForeignKey(Owner, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    pipeline_remote_id = models.BigIntegerField(null=True, blank=True)
    stage_remote_id = models.BigIntegerField(null=True, blank=True)
    org_remote_id = models.BigIntegerField(null=True, blank=True)
    person_remote_id = models.BigIntegerField(null=True, blank=True)
    owner_remote_id = models.BigIntegerField(null=True, blank=True)

    add_time = models.DateTimeField(null=True, blank=True)
    update_time = models.DateTimeField(null=True, blank=True)
    stage_change_time = models.DateTimeField(null=True, blank=True)
    won_time = models.DateTimeField(null=True, blank=True)
    lost_time = models.DateTimeField(null=True, blank=True)
    close_time = models.DateTimeField(null=True, blank=True)
    expected_close_date = models.DateField(null=True, blank=True)
    probability = models.PositiveSmallIntegerField(null=True, blank=True)
    lost_reason = models.TextField(blank=True)
    label_ids = models.JSONField(default=list, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True, help_text=_("Custom fields keyed by their names."))
    # Whether the deal has an activity not done (a next activity): kept by database triggers on
    # every write (dealflow/metrics/activity_flags.py), so hygiene reads it off an index.
    has_planned_activity = models.BooleanField(default=False, db_default=False, editable=False)

    class Meta(CachedRecord.Meta):
        ordering = ["-update_time", "-remote_id"]
        indexes = [
            # Holds every column the board's deal queries read (totals per stage and currency, each
            # column's newest cards, the filters, the title search), so that they scan this index
            # and never the table rows, which carry the large raw payloads.
            models.Index(
                fields=[
                    "integration",
                    "status",
                    "stage",
                    "currency",
                    "is_archived",
                    "value",
                    "update_time",
                    "won_time",
                    "close_time",
                    "stage_change_time",
                    "owner",
                    "pipeline",
                    "organization",
                    "person",
                    "title",
                ],
                name="deal_board_cover_idx",
            ),
            models.Index(fields=["integration", "update_time"], name="deal_update_idx"),
            # For PostgreSQL: its btree entries do not carry the row id, so the index above never
            # covers there; this one does, for the board's filtered totals and searches. (SQLite
            # has no INCLUDE: Django makes it from the key columns, a prefix of the one above, and
            # migration 0020 drops it there.)
            models.Index(
                fields=["integration", "status", "stage", "currency", "is_archived"],
                include=[
                    "id",
                    "value",
                    "update_time",
                    "won_time",
                    "close_time",
                    "stage_change_time",
                    "owner",
                    "pipeline",
                    "organization",
                    "person",
                ],
                name="deal_board_include_idx",
            ),
            # A column's first page straight off an index, newest first, one integration at a time
            # (selectors.column_cards): open deals by last update, with the stage to filter on, and
            # Closed Won by win date (also the won period's first day in board_totals).
            models.Index(
                fields=["integration", "status", "is_archived", "update_time", "id", "stage"], name="deal_newest_idx"
            ),
            models.Index(
                F("integration"),
                F("status"),
                F("is_archived"),
                Coalesce("won_time", "close_time", "stage_change_time", "update_time"),
                F("id"),
                F("stage"),
                name="deal_won_at_idx",
            ),
            # The metrics' funnel (deals added in a period, with their column) and hygiene (open
            # deals' rotting, expected close), off an index with the id for their subqueries.
            models.Index(fields=["integration", "add_time", "status", "stage", "id"], name="deal_added_idx"),
            # Also the board's first pages (dealflow/newest.py): a stage's open deals newest first is
            # one range, in order to the id that breaks ties on the date, so nothing is sorted (with
            # expected_close_date before the id, every share sorted its rows of one date by id:
            # SQLite's first pages took twice as long).
            models.Index(
                fields=["integration", "status", "is_archived", "stage", "update_time", "id", "expected_close_date"],
                name="deal_hygiene_idx",
            ),
            # The metrics' lost deals of a period (top lost reasons), one range per integration
            # (dealflow.metrics.closed.lost_at_expression).
            models.Index(F("integration"), F("status"), Coalesce("lost_time", "close_time"), name="deal_lost_at_idx"),
            # The searched board's deals of the matching organizations and persons, with all the
            # board reads of them (dealflow/search_reads.py): consecutive index entries instead of
            # one table row read per matching deal. The persons' has the organization too: their
            # branch leaves out the deals that the organizations' branch found.
            models.Index(fields=["organization", *SEARCH_READ], name="deal_organization_search_idx"),
            models.Index(fields=["person", *SEARCH_READ, "organization"], name="deal_person_search_idx"),
            # The metrics' open deals of the current month (forecast and hygiene split it at today:
            # dealflow/metrics/open_totals.py), a range of this small index of open deals only.
            models.Index(
                # status and is_archived too: else SQLite reads each deal's row for them.
                fields=["integration", "expected_close_date", "stage", "currency", "value", "status", "is_archived"],
                name="deal_open_close_idx",
                condition=models.Q(status="open", is_archived=False),
            ),
        ]
        permissions = [("view_all_companies", _("Can view every company's dealflow"))]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")

    def __str__(self):
        return self.title


class CustomFieldDefinition(models.Model):
    """One deal custom field at the provider, as the last sync read it: enough to parse a single
    record (a webhook's deal) without asking the provider for its fields."""

    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(
        max_length=64, help_text=_("The provider's key for the field (Pipedrive: a 40-character hash).")
    )
    name = models.CharField(max_length=255)
    field_type = models.CharField(max_length=32, blank=True)
    options = models.JSONField(default=list, blank=True, help_text=_("[[option id, label], …]"))

    class Meta:
        ordering = ["integration", "name", "key"]
        constraints = [models.UniqueConstraint(fields=["integration", "key"], name="customfielddefinition_unique_key")]
        verbose_name = _("custom field definition")
        verbose_name_plural = _("custom field definitions")

    def __str__(self):
        return self.name


class StageChange(models.Model):
    """A stage change observed by a sync, a webhook or our own write-back (for time in stage and
    conversion)."""

    class Source(models.TextChoices):
        SYNC = "sync", _("Sync")
        WEBHOOK = "webhook", _("Webhook")
        WRITE_BACK = "write_back", _("Write-back")
        BACKFILL = "backfill", _("Backfill")  # read from the provider's changelog (integrations/backfill/)

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_stage_remote_id = models.BigIntegerField(null=True, blank=True)
    to_stage_remote_id = models.BigIntegerField(null=True, blank=True)
    changed_at = models.DateTimeField(help_text=_("Pipedrive's stage_change_time where it has one."))
    # How long the deal stayed in from_stage: since its previous change (by changed_at, then id),
    # or for its first since the deal was added (null without an add time). Kept by database
    # triggers on every write to a stage change or a deal's add time (migration 0014), so time in
    # stage reads ranges of stagechange_stage_stay_idx (dealflow/metrics/stage_time.py).
    stay = models.DurationField(null=True, blank=True, editable=False)
    observed_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SYNC)

    class Meta:
        ordering = ["deal", "changed_at", "id"]
        indexes = [
            models.Index(fields=["deal", "changed_at"]),
            # The metrics, read off these indexes alone: the stages a deal reached (funnel.py),
            # the stays ended in a period (stage_time.py: one range per stage of the scope, already
            # in the GROUP BY's order, so neither a join with the stage nor a sort).
            models.Index(fields=["deal", "from_stage", "to_stage"], name="stagechange_reach_idx"),
            models.Index(fields=["from_stage", "changed_at", "stay"], name="stagechange_stage_stay_idx"),
        ]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self):
        return f"{self.deal}: {self.from_stage_remote_id} → {self.to_stage_remote_id}"


class Activity(CachedRecord):
    """A Pipedrive activity (call, meeting, task …): a deal's next one shows on its card, and the
    panel lists the upcoming and the last done. Activities deleted upstream are removed."""

    subject = models.CharField(max_length=500)
    type = models.CharField(max_length=64, blank=True)
    # Pipedrive's due date, and its due time in UTC when the activity has one.
    due_date = models.DateField(null=True, blank=True)
    due_time = models.TimeField(null=True, blank=True)
    done = models.BooleanField(default=False)
    marked_as_done_time = models.DateTimeField(null=True, blank=True)
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    deal_remote_id = models.BigIntegerField(null=True, blank=True)
    owner = models.ForeignKey(Owner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owner_remote_id = models.BigIntegerField(null=True, blank=True)
    add_time = models.DateTimeField(null=True, blank=True)
    update_time = models.DateTimeField(null=True, blank=True)

    class Meta(CachedRecord.Meta):
        ordering = ["due_date", "due_time", "remote_id"]
        indexes = [
            # A page of cards' next activities, and a deal's upcoming ones: its undone activities by due date.
            models.Index(fields=["deal", "done", "due_date", "due_time"], name="activity_next_idx"),
        ]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self):
        return self.subject


class FxRate(models.Model):
    """A euro reference rate: how many units of `currency` one euro bought on `date` (ECB). The
    euro itself has no row (it is 1). See dealflow/fx.py for loading and conversion."""

    date = models.DateField()
    currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=18, decimal_places=6, help_text=_("Units of the currency per euro."))
    source = models.CharField(max_length=20)

    class Meta:
        ordering = ["currency", "date"]
        # (currency, date) first: conversion looks up one currency's rates up to a day.
        constraints = [models.UniqueConstraint(fields=["currency", "date"], name="fxrate_unique_day")]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")

    def __str__(self):
        return f"{self.date} EUR/{self.currency} {self.rate}"


class PipelineSnapshot(models.Model):
    """One day's open pipeline of a company in one standard column and currency (the pipeline
    trend chart reads these; taken daily by beat, see dealflow/metrics/snapshot.py)."""

    company = models.ForeignKey("portfolio.PortfolioCompany", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    stage = models.CharField(max_length=20)
    currency = models.CharField(max_length=3, blank=True)
    count = models.PositiveIntegerField(default=0)
    value = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    weighted_value = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        ordering = ["company", "day", "stage", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["company", "day", "stage", "currency"], name="pipelinesnapshot_unique_day")
        ]
        verbose_name = _("pipeline snapshot")
        verbose_name_plural = _("pipeline snapshots")

    def __str__(self):
        return f"{self.company_id} {self.day} {self.stage} {self.currency}"


class BoardTotal(models.Model):
    """How many deals, and their value, the board shows per company (integration), status, stage
    and currency: the board's column totals read these few hundred rows instead of grouping every
    deal (dealflow/board_totals.py).

    Database triggers on the deals table keep it in step in the same transaction as every write to
    a deal (the sync's set-based upsert, webhooks and write-back through apply_records,
    reconciliation's deletes, a removed stage's SET NULL, admin and ORM saves), so it stays
    exactly equal to a GROUP BY over the deals; `manage.py rebuild_board_totals` recomputes it.
    Only deals that can be on the board are counted (open or won, not archived). A stage mapping
    change needs no write: rows are per stage, and the board maps stages to columns when it reads.
    """

    # The unique key has no NULLs (they never conflict): these stand in for "none".
    NO_STAGE = 0  # open deals without a stage, and every won deal (Closed Won whatever its stage)
    OPEN_DAY = 0  # won_day of open deals
    NO_WIN_DATE = -1_000_000  # won_day of won deals without any of the dates a win date comes from

    # No database constraint: deleting an integration first deletes these rows, then sets its
    # deals' stage to NULL (a removed stage), which the triggers count again for a moment before
    # the deals go; a constraint would then fail the delete at commit. Rows left at count 0 are
    # ignored by every reader, and the delete cascades in Django as before.
    integration = models.ForeignKey(
        "integrations.Integration",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(max_length=10, choices=DealStatus.choices)
    # A plain number, not a foreign key: the triggers move counts when a stage is removed.
    stage_id = models.BigIntegerField(default=NO_STAGE)
    currency = models.CharField(max_length=3, blank=True)
    # Won deals: the UTC day of the win (columns.won_at_expression) as days since 1970-01-01, so
    # the won period is answered from the rows of the days after its first, plus that one day.
    won_day = models.IntegerField(default=OPEN_DAY)
    count = models.IntegerField(default=0)
    # In cents, an integer: sums stay exact on SQLite too, which would add decimals as floats.
    value_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "status", "stage_id", "currency", "won_day"], name="boardtotal_unique_key"
            )
        ]
        # The board's reads: an integration's open rows, and its won rows of a range of days.
        indexes = [models.Index(fields=["integration", "status", "won_day"], name="boardtotal_won_day_idx")]
        verbose_name = _("board total")
        verbose_name_plural = _("board totals")

    def __str__(self):
        return f"{self.integration_id} {self.status} {self.stage_id} {self.currency}: {self.count}"


class BoardWonMonth(models.Model):
    """How many won deals the board can show (not archived, with a win date), and their value, per
    company (integration), currency and UTC calendar month of the win: the won period's whole months
    are read from these rows instead of BoardTotal's row per day (dealflow/board_won_months.py).

    As BoardTotal, triggers keep it in the transaction of every write to a deal, so it stays exactly
    equal to a GROUP BY over the deals; `manage.py rebuild_board_totals` recomputes it.
    """

    # No database constraint, as BoardTotal.integration (an integration's delete moves its deals).
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    currency = models.CharField(max_length=3, blank=True)
    month = models.DateField()  # the first day of the win's month, in UTC (columns.won_at_expression)
    count = models.IntegerField(default=0)
    value_cents = models.BigIntegerField(default=0)  # exact sums on SQLite too

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "currency", "month"], name="boardwonmonth_unique_key")
        ]
        verbose_name = _("board won month")
        verbose_name_plural = _("board won months")

    def __str__(self):
        return f"{self.integration_id} {self.currency} {self.month}: {self.count}"


class DealHistoryBackfill(models.Model):
    """A deal whose stage history the backfill has read (integrations/backfill/), so a resumed run
    skips it; `skipped_reason` says why nothing could be read (its changelog was gone or unreadable)."""

    deal = models.OneToOneField(Deal, on_delete=models.CASCADE, primary_key=True, related_name="history_backfill")
    backfilled_at = models.DateTimeField()
    changes = models.PositiveIntegerField(default=0)
    skipped_reason = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"History backfill of {self.deal_id}"


class DealDayTotal(models.Model):
    """How many deals, and their value, were added (new), won and lost per company (integration),
    currency and calendar day in the studio's time zone: the metrics' period figures and 24-month
    trends read these rows instead of grouping every deal (dealflow/metrics/day_totals.py).

    As BoardTotal, triggers keep it in the transaction of every write to a deal, so it stays
    exactly equal to a GROUP BY over the deals; `manage.py rebuild_metric_totals` recomputes it
    (and remakes the triggers, which name settings.TIME_ZONE). Kinds: new (not deleted, by add
    time), won (status won, by columns.won_at_expression), lost (status lost, by lost time or
    close time); a deal without the date is in no row of that kind.
    """

    KINDS = ("new", "won", "lost")

    # No database constraint, as BoardTotal.integration (an integration's delete moves its deals).
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=4)
    day = models.DateField()
    currency = models.CharField(max_length=3, blank=True)
    count = models.IntegerField(default=0)
    value_cents = models.BigIntegerField(default=0)  # exact sums on SQLite too

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "kind", "day", "currency"], name="dealdaytotal_unique_key")
        ]
        verbose_name = _("deal day total")
        verbose_name_plural = _("deal day totals")

    def __str__(self):
        return f"{self.integration_id} {self.kind} {self.day} {self.currency}: {self.count}"


class MetricsMark(models.Model):
    """A random mark per integration's deals (source: the integration's id) and one for the rest the
    overview reads (source 0: rebuilt totals, and exchange rates on PostgreSQL), replaced by database
    triggers in the transaction of every write: the overview's cache key (dealflow/metrics/overview_cache.py)."""

    source = models.BigIntegerField(primary_key=True)
    mark = models.BigIntegerField()

    class Meta:
        verbose_name = _("metrics mark")
        verbose_name_plural = _("metrics marks")

    def __str__(self):
        return f"{self.source}: {self.mark}"


class DealOpenTotal(models.Model):
    """How many open deals (not archived), their value and how many have no next activity, per
    company (integration), stage, currency and expected close month: the metrics' forecast and
    hygiene read these rows instead of every open deal (dealflow/metrics/open_totals.py).

    As DealDayTotal, triggers keep it in the transaction of every write to a deal, so it stays
    exactly equal to a GROUP BY over the deals; `manage.py rebuild_metric_totals` recomputes it.
    """

    # The unique key has no NULLs (they never conflict): NO_STAGE, and for a deal without an
    # expected close date open_totals.NO_MONTH (never a month's first day).
    NO_STAGE = 0

    # No database constraint, as BoardTotal.integration (an integration's delete moves its deals).
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    stage_id = models.BigIntegerField(default=NO_STAGE)  # a plain number, as BoardTotal.stage_id
    currency = models.CharField(max_length=3, blank=True)
    month = models.DateField()  # the first day of the expected close month
    count = models.IntegerField(default=0)
    value_cents = models.BigIntegerField(default=0)  # exact sums on SQLite too
    no_activity = models.IntegerField(default=0)  # of them, without a next activity

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "stage_id", "currency", "month"], name="dealopentotal_unique_key"
            )
        ]
        verbose_name = _("open deal total")
        verbose_name_plural = _("open deal totals")

    def __str__(self):
        return f"{self.integration_id} {self.stage_id} {self.currency} {self.month}: {self.count}"


class DealMonthTotal(models.Model):
    """DealDayTotal summed per calendar month in the studio's time zone (month: its first day): the
    24-month trends read these rows instead of every day's (dealflow/metrics/month_totals.py). Kept
    by triggers like DealDayTotal's (the same SQL, the day truncated to its month), so it stays
    exactly equal to a GROUP BY over the deals; `manage.py rebuild_metric_totals` recomputes it."""

    # No database constraint, as BoardTotal.integration (an integration's delete moves its deals).
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=4)
    month = models.DateField()
    currency = models.CharField(max_length=3, blank=True)
    count = models.IntegerField(default=0)
    value_cents = models.BigIntegerField(default=0)  # exact sums on SQLite too

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "kind", "month", "currency"], name="dealmonthtotal_unique_key"
            )
        ]
        verbose_name = _("deal month total")
        verbose_name_plural = _("deal month totals")

    def __str__(self):
        return f"{self.integration_id} {self.kind} {self.month} {self.currency}: {self.count}"
