"""The integration admin's webhook parts: buttons (register, check, remove) and the state shown on
the integration's page. integrations/admin.py adds them to IntegrationAdmin."""

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dealflow.formatting import format_datetime

from . import registration
from .selectors import webhook_state

OPERATIONS = {
    "register_webhooks": gettext_lazy("Register webhooks"),
    "check_webhooks": gettext_lazy("Check webhooks"),
    "unregister_webhooks": gettext_lazy("Remove webhooks"),
}


def _run(modeladmin, request, queryset, service) -> None:
    for integration in queryset.select_related("company"):
        report = service(integration)
        level = messages.SUCCESS if report.ok else messages.ERROR
        modeladmin.message_user(request, f"{integration.company}: {report.message}", level)
        if report.warning:
            modeladmin.message_user(request, f"{integration.company}: {report.warning}", messages.WARNING)


@admin.action(description=OPERATIONS["register_webhooks"], permissions=["change"])
def register_webhooks(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, registration.register)


@admin.action(description=OPERATIONS["check_webhooks"], permissions=["change"])
def check_webhooks(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, registration.check)


@admin.action(description=OPERATIONS["unregister_webhooks"], permissions=["change"])
def unregister_webhooks(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, registration.unregister)


@admin.display(description=gettext_lazy("Webhooks"))
def webhooks(modeladmin, obj):
    if not obj or not obj.pk:
        return "—"
    state = webhook_state(obj)
    if state.registered:
        registered = _("Registered for %(objects)s") % {"objects": ", ".join(state.objects)}
    else:
        registered = _("Not registered")
    check = "—"
    if state.checked_at:
        check = f"{format_datetime(state.checked_at)}: {state.check_message or ('OK' if state.check_ok else '')}"
    return format_html(
        "{}<br>{} {}<br>{} {}<br>{} {}<br>{} {}",
        registered,
        _("Last check:"),
        check,
        _("Last event received:"),
        format_datetime(state.last_event_at) if state.last_event_at else _("never"),
        _("Events today:"),
        state.events_today,
        _("Rejected requests:"),
        state.rejected_requests,
    )
