"""The integration admin's stage history backfill part: its settings, the estimate and progress
shown before and while it runs, and the start button. integrations/admin.py adds them to
IntegrationAdmin."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from dealflow.formatting import format_datetime
from integrations.models import Integration

from .selectors import estimate, progress_of
from .services import BackfillRefused, queue_backfill

OPERATIONS = {"start_backfill": gettext_lazy("Start stage history backfill")}
# The Integration's own fields, edited on its page when its provider keeps a stage history.
FIELDS = ["backfill_stage_history", "backfill_budget_share", "daily_api_budget"]
SKIPPED_SHOWN = 5


def fields_for(provider) -> list[str]:
    return FIELDS if provider.supports_stage_history else []


def _optional(name: str, **bounds) -> forms.IntegerField:
    field = Integration._meta.get_field(name)
    return forms.IntegerField(required=False, label=capfirst(field.verbose_name), help_text=field.help_text, **bounds)


def with_settings(form_class: type[forms.ModelForm]) -> type[forms.ModelForm]:
    """The integration form with the backfill's numbers made optional: a form posted without them
    (from a page opened before they existed, or a script) keeps the stored values."""

    class BackfillSettingsForm(form_class):
        backfill_budget_share = _optional("backfill_budget_share", min_value=1, max_value=100)
        daily_api_budget = _optional("daily_api_budget", min_value=1)

        def clean(self):
            cleaned = super().clean()
            for name in ("backfill_budget_share", "daily_api_budget"):
                if cleaned.get(name) is None and name not in self.errors:
                    cleaned[name] = getattr(self.instance, name)
            return cleaned

    return BackfillSettingsForm


@admin.action(description=OPERATIONS["start_backfill"], permissions=["change"])
def start_backfill(modeladmin, request, queryset):
    for integration in queryset.select_related("company"):
        try:
            queue_backfill(integration=integration)
        except BackfillRefused as refused:
            modeladmin.message_user(request, f"{integration.company}: {refused}", messages.ERROR)
            continue
        message = _("Stage history backfill queued; its progress shows on this page.")
        modeladmin.message_user(request, f"{integration.company}: {message}", messages.SUCCESS)


@admin.display(description=gettext_lazy("Backfill estimate and progress"))
def backfill_status(modeladmin, obj):
    if not obj or not obj.pk or not obj.provider_api.supports_stage_history:
        return "—"
    progress = progress_of(obj)
    return format_html("{}<br>{}{}", _estimate_text(obj), _progress_text(progress), _skipped_list(progress))


def _estimate_text(integration) -> str:
    found = estimate(integration)
    if not found.deals:
        return _("No deals need their stage history read.")
    if found.days is None:
        return _(
            "Your share (%(per_day)d tokens a day) is less than one call (%(cost)d tokens): raise the share or"
            " the daily budget."
        ) % {"per_day": found.tokens_per_day, "cost": found.cost_per_deal}
    return ngettext(
        "%(deals)d deals without history × %(cost)d tokens = %(tokens)d tokens, about %(days)d day at your"
        " share of the daily budget (%(per_day)d tokens a day).",
        "%(deals)d deals without history × %(cost)d tokens = %(tokens)d tokens, about %(days)d days at your"
        " share of the daily budget (%(per_day)d tokens a day).",
        found.days,
    ) % {
        "deals": found.deals,
        "cost": found.cost_per_deal,
        "tokens": found.tokens,
        "days": found.days,
        "per_day": found.tokens_per_day,
    }


def _progress_text(progress) -> str:
    if progress.last_run_at is None:
        return _("Not started yet.")
    text = _(
        "%(state)s. %(done)d deals read (%(skipped)d skipped), %(to_do)d to do; %(changes)d stage changes"
        " recorded. Last run: %(when)s."
    ) % {
        "state": progress.get_state_display(),
        "done": progress.deals_done,
        "skipped": progress.deals_skipped,
        "to_do": progress.deals_to_do,
        "changes": progress.changes_recorded,
        "when": format_datetime(progress.last_run_at),
    }
    return f"{text} {progress.last_error}".strip()


def _skipped_list(progress):
    recent = (progress.skipped or [])[-SKIPPED_SHOWN:]
    if not recent:
        return ""
    items = format_html_join("", "<br>{} {}: {}", ((_("Deal"), i.get("deal"), i.get("reason")) for i in recent))
    return format_html("<br>{}{}", _("Recently skipped:"), items)
