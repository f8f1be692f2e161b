from django.contrib import admin

from integrations.forms import IntegrationForm
from integrations.models import Integration, SyncRun


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
    ]
    list_filter = ["provider", "is_enabled", "last_sync_outcome"]
    search_fields = ["company__name", "company__slug", "company_domain"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]
    readonly_fields = [
        "token_hint",
        "last_sync_started_at",
        "last_synced_at",
        "last_sync_outcome",
        "last_sync_error",
        "last_successful_sync_at",
        "last_full_sync_at",
    ]
    fieldsets = [
        (None, {"fields": ["company", "provider", "company_domain", "api_token", "token_hint", "api_base_url"]}),
        ("Sync", {"fields": ["is_enabled", "sync_interval_minutes"]}),
        (
            "Last sync",
            {
                "fields": [
                    "last_sync_started_at",
                    "last_synced_at",
                    "last_sync_outcome",
                    "last_sync_error",
                    "last_successful_sync_at",
                    "last_full_sync_at",
                ]
            },
        ),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = ["company", *IntegrationForm.Meta.fields]
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description="Stored token")
    def token_hint(self, obj):
        return obj.token_hint if obj.pk else "—"


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
