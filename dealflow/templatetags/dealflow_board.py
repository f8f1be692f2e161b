from django import template

from dealflow.formatting import format_money

register = template.Library()


@register.filter
def money(amount, currency):
    """{{ total.value|money:total.currency }}"""
    return format_money(amount, currency)


@register.filter
def field_text(value):
    """A custom field's value as text: Pipedrive sends scalars, lists and small objects."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        if "value" in value and "currency" in value:
            return format_money(value["value"], value["currency"])
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
