"""A read-only admin: for records only our own code writes (the write-back audit trail, the
financial sync's tables). Staff may look, never add, change or delete."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
