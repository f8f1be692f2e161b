from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dealflow.formatting import format_money, format_number, format_percent

register = template.Library()

DASH = "—"  # no value: nothing closed, nothing to average (never shown as 0)
FIGURE_LABELS = {
    "new": gettext_lazy("New deals"),
    "won": gettext_lazy("Won"),
    "lost": gettext_lazy("Lost"),
    "pipeline": gettext_lazy("Open pipeline"),
    "forecast": gettext_lazy("Forecast"),
}


@register.filter
def figure_label(key):
    """{{ key|figure_label }}: the name of a figure the metrics key by "won", "pipeline"…"""
    return FIGURE_LABELS.get(key, key)


@register.simple_tag
def figure(value, kind, currency=""):
    """{% figure value "money" currency %}: a metric as the page writes it, "—" when it has none."""
    if value is None:
        return DASH
    if kind == "money":
        return format_money(value, currency)
    if kind == "rate":
        return format_percent(value * 100)
    if kind == "days":
        return _("%(days)s d") % {"days": format_number(value)}
    if kind == "count":
        return format_number(value)
    return value


@register.simple_tag
def measure_value(measure, row, currency=""):
    """{% measure_value measure row currency %}: a table cell's value (dealflow.metrics.pages.Measure)."""
    return figure(measure.get(row), measure.kind, currency)
