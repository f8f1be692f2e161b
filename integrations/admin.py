from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from dealflow.formatting import format_datetime
from dealflow.models import StageMapping
from dealflow.stages import MappingTarget
from integrations.admin_inlines import (
    ProviderFieldsMixin,
    StageMappingInline,
    SyncRunInline,
    company_integration_inline,
    provider_of,
)
from integrations.backfill import admin as backfill_admin
from integrations.forms import MODEL_FIELDS, form_for
from integrations.inbound import admin as inbound_admin
from integrations.models import Integration, SyncRun, SyncState
from integrations.outbound import admin as outbound_admin  # noqa: F401 (registers the write-back audit)
from integrations.providers.registry import PROVIDERS, get_provider
from integrations.services.scheduling import SyncQueueUnavailable, enqueue_sync
from portfolio.admin import PortfolioCompanyAdmin

LAST_SYNC_FIELDS = [
    "last_sync_started_at",
    "last_synced_at",
    "last_sync_outcome",
    "last_sync_error",
    "last_successful_sync_at",
    "last_full_sync_at",
]
# Shown from the integration's SyncState (read-only: only the sync services write it).
STATE_FIELDS = ["sync_blocked_until", "needs_attention", *LAST_SYNC_FIELDS]
# The buttons on an integration's own page: each runs the bulk action of the same name on it.
OBJECT_OPERATIONS = {
    "test_connection": gettext_lazy("Test connection"),
    "sync_now": gettext_lazy("Sync now"),
    "full_resync": gettext_lazy("Full resync"),
    "confirm_suggestions": gettext_lazy("Confirm all suggestions"),
    **inbound_admin.OPERATIONS,
    **backfill_admin.OPERATIONS,
}


def _when(moment) -> str:
    return format_datetime(moment) if moment else _("never")


def _state_of(obj) -> SyncState | None:
    return getattr(obj, "sync_state", None) if isinstance(obj, Integration) and obj.pk else None


def _state_display(name: str):
    """A read-only admin field showing SyncState.<name> (formatted like Django shows the model field)."""
    field = SyncState._meta.get_field(name)

    @admin.display(description=field.verbose_name)
    def show(self, obj):
        state = _state_of(obj)
        value = getattr(state, name, None) if state else None
        if field.choices:
            return getattr(state, f"get_{name}_display")() or "—" if state else "—"
        if hasattr(value, "tzinfo"):
            return format_datetime(value)
        return value or "—"

    return show


def attention_text(state: SyncState | None) -> str:
    if state is None or not state.needs_attention:
        return ""
    return _("Needs attention since %(when)s: %(reason)s") % {
        "when": format_datetime(state.attention_since),
        "reason": state.attention_reason,
    }


@admin.register(Integration)
class IntegrationAdmin(ProviderFieldsMixin, admin.ModelAdmin):
    change_form_template = "admin/integrations/integration/change_form.html"
    # Few, short columns: the whole list fits 1440 px beside the admin's sidebar and filters.
    list_display = ["company", "provider", "enabled", "last_synced", "outcome", "unmapped"]
    list_filter = ["provider", "is_enabled", "sync_state__last_sync_outcome"]
    search_fields = ["company__name", "company__slug"]
    list_select_related = ["company", "sync_state"]
    autocomplete_fields = ["company"]
    inlines = [StageMappingInline, SyncRunInline]
    actions = list(OBJECT_OPERATIONS)
    readonly_fields = ["token_hint", "provider_settings", "unmapped_stages", "webhooks", *STATE_FIELDS]
    # Webhooks in (integrations/inbound/admin.py): the buttons' actions and the state shown.
    register_webhooks = inbound_admin.register_webhooks
    check_webhooks = inbound_admin.check_webhooks
    unregister_webhooks = inbound_admin.unregister_webhooks
    webhooks = inbound_admin.webhooks
    # Stage history backfill (integrations/backfill/admin.py): its button and its state.
    start_backfill = backfill_admin.start_backfill
    backfill_status = backfill_admin.backfill_status
    readonly_fields += ["backfill_status"]

    def get_fieldsets(self, request, obj=None):
        provider = provider_of(request, obj)
        connection = ["company", "provider", *self.provider_fields(request, provider, obj)]
        backfill = backfill_admin.fields_for(provider)
        return [
            (None, {"fields": connection}),
            (
                _("Sync"),
                {
                    "fields": [
                        "is_enabled",
                        "sync_interval_minutes",
                        "unmapped_stages",
                        "sync_blocked_until",
                        "needs_attention",
                    ]
                },
            ),
            (_("Last sync"), {"fields": LAST_SYNC_FIELDS}),
            (_("Webhooks"), {"fields": ["webhooks"]}),
            *([(_("Stage history backfill"), {"fields": [*backfill, "backfill_status"]})] if backfill else []),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        provider = provider_of(request, obj)
        kwargs["form"] = form_for(provider.key)
        if provider.supports_stage_history:
            kwargs["form"] = backfill_admin.with_settings(kwargs["form"])
        if self.has_change_permission(request, obj) or obj is None:
            kwargs["fields"] = ["company", *MODEL_FIELDS, *backfill_admin.fields_for(provider), *provider.form_fields()]
        return super().get_form(request, obj, change, **kwargs)

    def get_queryset(self, request):
        unmapped = Count("stage_mappings", filter=Q(stage_mappings__target=MappingTarget.UNMAPPED))
        return super().get_queryset(request).annotate(unmapped_count=unmapped)

    @method_decorator(sensitive_post_parameters())  # the token is posted here
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    # -- the integration's own page: buttons that POST here ------------------------------------

    def get_urls(self):
        operation = self.admin_site.admin_view(self.operation_view)
        return [
            path("<path:object_id>/run/<str:operation>/", operation, name="integrations_integration_operation"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "integration_operations": OBJECT_OPERATIONS.items()}
        return super().change_view(request, object_id, form_url, extra_context)

    @method_decorator(require_POST)
    def operation_view(self, request, object_id, operation):
        integration = self.get_object(request, object_id)
        if integration is None or operation not in OBJECT_OPERATIONS:
            raise Http404
        action = getattr(self, operation)
        if not all(getattr(self, f"has_{p}_permission")(request, integration) for p in action.allowed_permissions):
            raise PermissionDenied
        action(request, self.get_queryset(request).filter(pk=integration.pk))
        return HttpResponseRedirect(reverse("admin:integrations_integration_change", args=[integration.pk]))

    # -- columns --------------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("Enabled"), boolean=True, ordering="is_enabled")
    def enabled(self, obj):
        return obj.is_enabled

    @admin.display(description=gettext_lazy("Last synced"), ordering="sync_state__last_successful_sync_at")
    def last_synced(self, obj):
        """The last success; the last attempt beside it when that came later (and failed)."""
        state = obj.sync_state
        if state.last_synced_at and state.last_synced_at != state.last_successful_sync_at:
            return format_html(
                "{}<br><small>{} {}</small>",
                _when(state.last_successful_sync_at),
                _("last attempt"),
                _when(state.last_synced_at),
            )
        return _when(state.last_successful_sync_at)

    @admin.display(description=gettext_lazy("Outcome"), ordering="sync_state__last_sync_outcome")
    def outcome(self, obj):
        """The last outcome, and "Needs attention" when scheduled syncs stopped for a permanent failure."""
        state = obj.sync_state
        text = state.get_last_sync_outcome_display() or "—"
        if state.needs_attention:
            return format_html(
                '{}<br><strong class="needs-attention" title="{}">{}</strong>',
                text,
                state.attention_reason,
                _("Needs attention"),
            )
        return text

    @admin.display(description=gettext_lazy("Needs attention"))
    def needs_attention(self, obj):
        return attention_text(_state_of(obj)) or "—"

    @admin.display(description=gettext_lazy("Unmapped"), ordering="unmapped_count")
    def unmapped(self, obj):
        return obj.unmapped_count

    @admin.display(description=gettext_lazy("Unmapped stages"), ordering="unmapped_count")
    def unmapped_stages(self, obj):
        if not obj.pk:
            return "—"
        count = getattr(obj, "unmapped_count", None)
        if count is None:
            count = obj.stage_mappings.filter(target=MappingTarget.UNMAPPED).count()
        return _("%(count)d — choose a target below") % {"count": count} if count else "0"

    # -- actions (change permission: view-only staff may not run them) ------------------------

    @admin.action(description=gettext_lazy("Sync now"), permissions=["change"])
    def sync_now(self, request, queryset):
        self._enqueue(request, queryset, full=False)

    @admin.action(
        description=gettext_lazy("Full resync (also removes records deleted in Pipedrive)"), permissions=["change"]
    )
    def full_resync(self, request, queryset):
        self._enqueue(request, queryset, full=True)

    def _enqueue(self, request, queryset, *, full):
        names = []
        for integration in queryset.select_related("company"):
            try:
                enqueue_sync(integration=integration, full=full)
            except SyncQueueUnavailable as error:  # says what is wrong, names no broker URL
                self.message_user(request, f"{integration.company}: {error}", messages.ERROR)
                continue
            names.append(str(integration.company))
        if not names:
            return
        message = (
            _("Full resync queued for %(companies)s. Progress appears under “Recent sync runs”.")
            if full
            else _("Sync queued for %(companies)s. Progress appears under “Recent sync runs”.")
        )
        self.message_user(
            request,
            message % {"companies": ", ".join(names)},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Test connection"), permissions=["change"])
    def test_connection(self, request, queryset):
        for integration in queryset.select_related("company"):
            result = integration.provider_api.check_connection(integration)
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, f"{integration.company}: {result.message}", level)

    @admin.action(description=gettext_lazy("Confirm all suggested stage mappings"), permissions=["confirm"])
    def confirm_suggestions(self, request, queryset):
        confirmed = (
            StageMapping.objects.filter(integration__in=queryset, is_confirmed=False)
            .exclude(target=MappingTarget.UNMAPPED)
            .update(is_confirmed=True, updated_at=timezone.now())
        )
        message = ngettext(
            "Confirmed %(count)d suggested stage mapping.", "Confirmed %(count)d suggested stage mappings.", confirmed
        )
        self.message_user(request, message % {"count": confirmed}, messages.SUCCESS)

    def has_confirm_permission(self, request, obj=None):
        return self.has_change_permission(request, obj) and request.user.has_perm("dealflow.change_stagemapping")


for _name in ["sync_blocked_until", *LAST_SYNC_FIELDS]:
    setattr(IntegrationAdmin, _name, _state_display(_name))


# The company page shows its integrations (portfolio imports neither app, so they are added here).
PortfolioCompanyAdmin.inlines = [
    *PortfolioCompanyAdmin.inlines,
    *(company_integration_inline(key) for key in PROVIDERS if get_provider(key).connects_by_form),
]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """Read-only history: no add, change or delete (runs go with their integration)."""

    list_display = [
        "integration",
        "kind",
        "started_at",
        "run_duration",
        "outcome",
        "created",
        "updated",
        "deleted",
        "unchanged",
        "api_calls",
        "values_out_of_range",
        "skipped",
        "short_error",
    ]
    list_filter = ["outcome", "kind", "integration__company"]
    search_fields = ["integration__company__name", "error"]
    list_select_related = ["integration__company"]
    date_hierarchy = "started_at"
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Deleting stays possible for the cascade from an integration, but not from here.
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "show_delete": False})

    @admin.display(description=gettext_lazy("Duration"), ordering="finished_at")
    def run_duration(self, obj):
        duration = obj.duration
        return f"{duration.total_seconds():.1f} s" if duration is not None else "—"

    @admin.display(description=gettext_lazy("Error"))
    def short_error(self, obj):
        return obj.error if len(obj.error) <= 120 else obj.error[:119] + "…"
