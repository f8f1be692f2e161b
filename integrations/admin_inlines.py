"""Inlines on the integration page (its stage mappings, editable, and its recent sync runs), the
integration inline on the company page, and the rule that keeps the token write-only in both."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet

from dealflow.models import DealStatus, StageMapping
from integrations.forms import IntegrationForm
from integrations.models import Integration, SyncRun

RECENT_RUNS = 10
TOKEN_FIELD = "api_token"  # noqa: S105 - a field name


class WriteOnlyTokenMixin:
    """The API token is an input only. Where the user may not change the integration, Django
    renders every field read-only from the model, which would show the decrypted token: drop it
    there (the masked `token_hint` says what is stored)."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj):
            return fieldsets
        return [(name, {**opts, "fields": _without_token(opts["fields"])}) for name, opts in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        return _without_token(super().get_readonly_fields(request, obj))

    @admin.display(description="Stored token")
    def token_hint(self, obj):
        return obj.token_hint if isinstance(obj, Integration) and obj.pk else "—"


def _without_token(fields):
    return [field for field in fields if field != TOKEN_FIELD]


class CompanyIntegrationInline(WriteOnlyTokenMixin, admin.StackedInline):
    """The company page's integration, with the same write-only token as the integration page."""

    model = Integration
    form = IntegrationForm
    extra = 0
    fields = ["provider", "company_domain", TOKEN_FIELD, "token_hint", "api_base_url", "is_enabled",
              "sync_interval_minutes"]  # fmt: skip
    readonly_fields = ["token_hint"]
    show_change_link = True


class StageMappingForm(forms.ModelForm):
    class Meta:
        model = StageMapping
        fields = ["target", "is_confirmed"]
        labels = {"is_confirmed": "Confirmed"}

    def save(self, commit=True):
        if "target" in self.changed_data:
            self.instance.is_confirmed = True  # staff chose it
        return super().save(commit)


class StageMappingInline(admin.TabularInline):
    model = StageMapping
    form = StageMappingForm
    fields = ["stage_name", "pipeline_name", "open_deals", "suggested_target", "target", "is_confirmed"]
    readonly_fields = ["stage_name", "pipeline_name", "open_deals", "suggested_target"]
    extra = 0
    can_delete = False
    verbose_name = "stage mapping"
    verbose_name_plural = "Stage mappings (a changed target counts as confirmed)"

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("stage__pipeline")
            .annotate(open_deal_count=Count("stage__deals", filter=Q(stage__deals__status=DealStatus.OPEN)))
            .order_by("stage__pipeline__order_nr", "stage__pipeline_remote_id", "stage__order_nr", "stage__remote_id")
        )

    @admin.display(description="Stage")
    def stage_name(self, obj):
        deleted = " (deleted in Pipedrive)" if obj.stage.is_deleted else ""
        return f"{obj.stage.name}{deleted} · id {obj.stage.remote_id}"

    @admin.display(description="Pipeline")
    def pipeline_name(self, obj):
        return obj.stage.pipeline.name if obj.stage.pipeline else f"id {obj.stage.pipeline_remote_id}"

    @admin.display(description="Open deals")
    def open_deals(self, obj):
        return obj.open_deal_count


class RecentRunsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        return super().get_queryset()[:RECENT_RUNS]


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    formset = RecentRunsFormSet
    fields = [
        "kind", "started_at", "finished_at", "outcome", "created", "updated", "deleted", "unchanged",
        "api_calls", "token_cost", "values_out_of_range", "skipped", "skipped_ids", "progress", "error",
    ]  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-started_at"]
    verbose_name_plural = f"Recent sync runs (last {RECENT_RUNS})"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
