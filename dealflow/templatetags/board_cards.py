from django import template
from django.utils.safestring import mark_safe

from dealflow.card_fragments import rendered_cards

register = template.Library()


@register.simple_tag(takes_context=True)
def card_html(context, cards):
    """{% card_html column.cards as html %}: the cards' HTML, from the cache (dealflow/card_fragments.py)."""
    scope = context.get("scope")
    query = context.get("query") or ""
    return [mark_safe(html) for html in rendered_cards(cards, all_companies=not scope.company, query=query)]  # noqa: S308
