from django.contrib import admin, messages
from django.db.models import Count, Q

from dealflow.stages import MappingTarget
from integrations.admin_inlines import StageMappingInline, SyncRunInline
from integrations.forms import IntegrationForm
from integrations.models import Integration, SyncRun
from integrations.services.scheduling import enqueue_sync

LAST_SYNC_FIELDS = [
    "last_sync_started_at",
    "last_synced_at",
    "last_sync_outcome",
    "last_sync_error",
    "last_successful_sync_at",
    "last_full_sync_at",
]

@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationForm
    list_display = [
        "company",
        "provider",
        "company_domain",
        "is_enabled",
        "sync_interval_minutes",
        "last_synced_at",
        "last_sync_outcome",
        "unmapped_stages",
    ]
    list_filter = ["provider", "is_enabled", "last_sync_outcome"]
    search_fields = ["company__name", "company__slug", "company_domain"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]
    inlines = [StageMappingInline, SyncRunInline]
    actions = ["sync_now", "full_resync", "test_connection"]
    readonly_fields = ["token_hint", "unmapped_stages", "sync_blocked_until", *LAST_SYNC_FIELDS]
    fieldsets = [
        (None, {"fields": ["company", "provider", "company_domain", "api_token", "token_hint", "api_base_url"]}),
        ("Sync", {"fields": ["is_enabled", "sync_interval_minutes", "unmapped_stages", "sync_blocked_until"]}),
        ("Last sync", {"fields": LAST_SYNC_FIELDS}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = ["company", *IntegrationForm.Meta.fields]
        return super().get_form(request, obj, change, **kwargs)

    def get_queryset(self, request):
        unmapped = Count("stage_mappings", filter=Q(stage_mappings__target=MappingTarget.UNMAPPED))
        return super().get_queryset(request).annotate(unmapped_count=unmapped)

    @admin.display(description="Stored token")
    def token_hint(self, obj):
        return obj.token_hint if obj.pk else "—"

    @admin.display(description="Unmapped stages", ordering="unmapped_count")
    def unmapped_stages(self, obj):
        if not obj.pk:
            return "—"
        count = getattr(obj, "unmapped_count", None)
        if count is None:
            count = obj.stage_mappings.filter(target=MappingTarget.UNMAPPED).count()
        return f"{count} — choose a target below" if count else "0"

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset):
        self._enqueue(request, queryset, full=False)

    @admin.action(description="Full resync (also removes records deleted in Pipedrive)")
    def full_resync(self, request, queryset):
        self._enqueue(request, queryset, full=True)

    def _enqueue(self, request, queryset, *, full):
        names = []
        for integration in queryset.select_related("company"):
            enqueue_sync(integration=integration, full=full)
            names.append(str(integration.company))
        kind = "Full resync" if full else "Sync"
        self.message_user(
            request,
            f"{kind} queued for {', '.join(names)}. Progress appears under “Recent sync runs”.",
            messages.SUCCESS,
        )

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        from integrations.services.connection import check_connection

        for integration in queryset.select_related("company"):
            result = check_connection(integration=integration)
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, f"{integration.company}: {result.message}", level)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "integration",
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
    ]
    list_filter = ["outcome", "kind", "integration__company"]
    search_fields = ["integration__company__name", "error"]
    list_select_related = ["integration__company"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
