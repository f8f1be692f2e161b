from django.contrib import admin

from dealflow.models import StageMapping
from integrations.admin_inlines import StageMappingForm


@admin.register(StageMapping)
class StageMappingAdmin(admin.ModelAdmin):
    """Every company's stage mappings in one list (also editable inline on each integration)."""

    form = StageMappingForm
    list_display = ["stage", "integration", "suggested_target", "target", "is_confirmed", "updated_at"]
    list_editable = ["target", "is_confirmed"]
    list_filter = ["target", "is_confirmed", "integration__company"]
    search_fields = ["stage__name", "integration__company__name"]
    list_select_related = ["stage", "integration__company"]
    readonly_fields = ["stage", "integration", "suggested_target", "updated_at"]

    def has_add_permission(self, request):
        return False
