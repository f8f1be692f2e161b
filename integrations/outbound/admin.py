"""The write-back audit trail in the admin: read-only (no add, change or delete)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from integrations.admin_read_only import ReadOnlyAdmin
from integrations.models import WriteBackEntry


@admin.register(WriteBackEntry)
class WriteBackEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "username", "company", "action", "deal_title", "deal_remote_id", "outcome"]
    list_filter = ["outcome", "action", "company"]
    search_fields = ["deal_title", "username", "error"]
    list_select_related = ["company"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "username",
        "company",
        "integration",
        "action",
        "deal_title",
        "deal_remote_id",
        "change",
        "outcome",
        "error",
    ]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("Before → after"))
    def change(self, obj):
        names = sorted({*obj.before, *obj.after})
        return "; ".join(f"{name}: {obj.before.get(name, '—')} → {obj.after.get(name, '—')}" for name in names) or "—"
