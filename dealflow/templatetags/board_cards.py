from django import template
from django.utils.safestring import mark_safe

from dealflow.card_fragments import COLUMN_TEMPLATE, rendered_cards, rendered_column, rendered_header

register = template.Library()


@register.simple_tag(takes_context=True)
def card_items(context, cards, offset=0):
    """{% card_items column.cards offset %}: each card's HTML from the cache (dealflow/card_fragments.py)
    in its list item, the first of a later page marked for focus. Joined here: a template loop over
    a board's 175 cards cost more than reading them from the cache."""
    scope = context.get("scope")
    query = context.get("query") or ""
    html = rendered_cards(cards, all_companies=not scope.company, query=query)
    items = [
        f"<li{' data-first-new' if offset and number == 0 else ''}>\n  {card}\n</li>"
        for number, card in enumerate(html)
    ]
    return mark_safe("\n".join(items))  # noqa: S308 (the cards' own rendered, escaped templates)


@register.simple_tag(takes_context=True)
def column_header(context, column):
    """{% column_header column %}: the column's header from the cache (dealflow/card_fragments.py)."""
    scope = context.get("scope")
    first_stage = (context.get("new_deal_stages") or {}).get(column.key)
    company_slug = scope.company.slug if scope.company else None
    return mark_safe(rendered_header(column, first_stage=first_stage, company_slug=company_slug))  # noqa: S308


@register.simple_tag(takes_context=True)
def board_column(context, column):
    """{% board_column column %}: the column's section (dealflow/partials/column.html, rendered as
    an include would render it) from the cache (dealflow/card_fragments.py)."""
    scope = context.get("scope")

    def render():
        with context.push(column=column):
            return context.template.engine.get_template(COLUMN_TEMPLATE).render(context)

    html = rendered_column(
        column,
        first_stage=(context.get("new_deal_stages") or {}).get(column.key),
        company_slug=scope.company.slug if scope.company else None,
        query=context.get("query") or "",
        render=render,
    )
    return mark_safe(html)  # noqa: S308 (the column template's own rendered, escaped output)
