"""Inlines on the integration page (its stage mappings, editable, and its recent sync runs), the
integration inlines on the company page, and the provider's fields with write-only credentials in both."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from dealflow.models import DealStatus, StageMapping
from integrations.forms import form_for
from integrations.models import Integration, SyncRun
from integrations.providers.registry import PROVIDERS, get_provider

RECENT_RUNS = 10


def provider_of(request, obj):
    """The integration's provider; on an add page the one asked for (?provider=...), else the default."""
    if isinstance(obj, Integration):
        return obj.provider_api
    key = request.GET.get("provider", "")
    return get_provider(key if key in PROVIDERS else Integration._meta.get_field("provider").default)


def connection_fields(provider) -> list[str]:
    """The provider's form fields in its order, with the masked hint after the credentials."""
    names = list(provider.form_fields())
    last_credential = max(names.index(name) for name in provider.credential_fields)
    return [*names[: last_credential + 1], "token_hint", *names[last_credential + 1 :]]


class ProviderFieldsMixin:
    """The provider's settings and credentials fields, with the credentials an input only.

    Where the user may not change the integration, Django renders every field read-only from the
    model: there the settings are shown as text and the credentials not at all (the masked
    `token_hint` says what is stored)."""

    def provider_fields(self, request, provider, obj=None) -> list[str]:
        if self.has_change_permission(request, obj):
            return connection_fields(provider)
        return ["provider_settings", "token_hint"]

    @admin.display(description=_("Stored token"))
    def token_hint(self, obj):
        return obj.token_hint if isinstance(obj, Integration) and obj.pk else "—"

    @admin.display(description=_("Settings"))
    def provider_settings(self, obj):
        if not isinstance(obj, Integration):
            return "—"
        fields = obj.provider_api.form_fields()
        rows = ((fields[name].label, obj.settings.get(name) or "—") for name in obj.provider_api.settings_fields)
        return format_html_join(mark_safe("<br>"), "{}: {}", rows)


def company_integration_inline(provider_key: str) -> type[admin.StackedInline]:
    """The company page's integration with one provider, with the same write-only credentials as
    the integration page (a company has at most one integration per provider)."""
    provider = get_provider(provider_key)

    class CompanyIntegrationInline(ProviderFieldsMixin, admin.StackedInline):
        model = Integration
        form = form_for(provider_key)
        extra = 0
        max_num = 1
        readonly_fields = ["token_hint", "provider_settings"]
        show_change_link = True
        verbose_name = f"{provider.label} integration"

        def get_fields(self, request, obj=None):
            return [*self.provider_fields(request, provider, obj), "is_enabled", "sync_interval_minutes"]

        def get_queryset(self, request):
            return super().get_queryset(request).filter(provider=provider_key)

    return CompanyIntegrationInline


class StageMappingForm(forms.ModelForm):
    class Meta:
        model = StageMapping
        fields = ["target", "is_confirmed"]
        labels = {"is_confirmed": _("Confirmed")}

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
    verbose_name = _("stage mapping")
    verbose_name_plural = _("Stage mappings (a changed target counts as confirmed)")

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

    @admin.display(description=_("Stage"))
    def stage_name(self, obj):
        deleted = " (deleted in Pipedrive)" if obj.stage.is_deleted else ""
        return f"{obj.stage.name}{deleted} · id {obj.stage.remote_id}"

    @admin.display(description=_("Pipeline"))
    def pipeline_name(self, obj):
        return obj.stage.pipeline.name if obj.stage.pipeline else f"id {obj.stage.pipeline_remote_id}"

    @admin.display(description=_("Open deals"))
    def open_deals(self, obj):
        return obj.open_deal_count


class RecentRunsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        return super().get_queryset()[:RECENT_RUNS]


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    formset = RecentRunsFormSet
    fields = [
        "kind",
        "started_at",
        "finished_at",
        "outcome",
        "created",
        "updated",
        "deleted",
        "unchanged",
        "api_calls",
        "token_cost",
        "values_out_of_range",
        "skipped",
        "skipped_ids",
        "progress",
        "error",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-started_at"]
    verbose_name_plural = format_lazy(_("Recent sync runs (last {count})"), count=RECENT_RUNS)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
