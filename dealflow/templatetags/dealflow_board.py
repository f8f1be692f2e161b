import html

from django import template
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from dealflow.formatting import format_date, format_datetime, format_money, format_number, format_percent

register = template.Library()


@register.filter
def money(amount, currency):
    """{{ total.value|money:total.currency }}"""
    return format_money(amount, currency)


# Dates and numbers through dealflow.formatting, so that the panel's fields, its history and the
# header all read the same in each language: {{ deal.add_time|when }}, {{ column.count|number }}.
register.filter("when", format_datetime)
register.filter("day", format_date)
register.filter("number", format_number)
register.filter("percent", format_percent)


@register.filter
def field_text(value):
    """A custom field's value as text: Pipedrive sends scalars, lists and small objects."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        if "value" in value and "currency" in value:
            try:
                return format_money(value["value"], str(value["currency"]))
            except (ArithmeticError, TypeError, ValueError):
                pass  # not an amount ("abc", NaN, 1e308): shown as its parts below
        return ", ".join(f"{key}: {item}" for key, item in value.items() if item not in (None, ""))
    if isinstance(value, list):
        return ", ".join(str(field_text(item)) for item in value) or "—"
    return str(value)


@register.filter
def contact_values(items):
    """Pipedrive's emails/phones: [{"value": ..., "label": ..., "primary": ...}] or plain strings."""
    values = []
    for item in items or []:
        if isinstance(item, dict):
            if item.get("value"):
                values.append({"value": item["value"], "label": item.get("label") or ""})
        elif item:
            values.append({"value": str(item), "label": ""})
    return values


@register.filter
def plain_select(field):
    """{{ form.owner|plain_select }}: a bound choice field as a bare <select>, built in Python.

    Django's widget templates render every option through its own includes, which costs
    milliseconds per page for a list of a hundred owners.
    """
    value = field.value()
    selected = "" if value is None else str(value)
    options = "".join(
        f'<option value="{escape_text(key)}"{" selected" if str(key) == selected else ""}>{escape_text(label)}</option>'
        for key, label in field.field.choices
    )
    return format_html('<select name="{}" id="{}">{}</select>', field.html_name, field.id_for_label, mark_safe(options))


@register.filter
def plain_input(field):
    """{{ form.q|plain_input }}: a bound input field as Django's input widget renders it, built in
    Python as plain_select is (its two widget templates cost more than the rest of the search box)."""
    widget = field.field.widget
    attrs = widget.build_attrs(widget.attrs, field.build_widget_attrs({}, widget))
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    value = widget.format_value(field.value())
    html = f'<input type="{escape_text(widget.input_type)}" name="{escape_text(field.html_name)}"'
    if value is not None:
        html += f' value="{escape_text(value)}"'
    for name, item in attrs.items():
        if item is True:
            html += f" {escape_text(name)}"
        elif item is not False:
            html += f' {escape_text(name)}="{escape_text(item)}"'
    return mark_safe(f"{html}>")  # noqa: S308 (every part escaped above)


def escape_text(value) -> str:
    """What conditional_escape returns, without its lazy-aware wrappers: they cost more than the
    rest of an option, and the owners' select has an option per owner of every company."""
    value = str(value) if isinstance(value, Promise) else value
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


@register.filter
def lookup(mapping, key):
    """{{ health|lookup:company.pk }}: a dict's item, or None (also when there is no dict)."""
    return mapping.get(key) if mapping else None
