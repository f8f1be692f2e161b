"""Cards' (and column headers') HTML from a cache, keyed by everything they show: rendering the
board's 175 cards through the template engine was most of a board request's time once its queries
were cheap.

The key is a digest of the card's displayed values (dealflow.selectors.Card, its next activity
included), the page's search query string (in the card's link), whether the board shows all
companies (the company line), the language and the time zone. A change to anything shown makes a
new key, so a write can never leave a stale card behind (there is nothing to invalidate; old
entries expire). The cache is each process's own memory (settings.CACHES), so a deploy with a
changed card template starts empty. The card template is rendered with those values and nothing else: no user, no
request, no permissions, so one user's card can never carry another's controls; anything that
differs by user belongs outside it (templates/dealflow/partials/cards.html).
"""

import hashlib
from dataclasses import fields
from functools import cache
from operator import attrgetter

from django.core.cache import caches
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import timezone, translation

TEMPLATE = "dealflow/partials/card.html"
TIMEOUT = 24 * 3600


def card_context(card, *, all_companies: bool, query: str) -> dict:
    """Everything the card template reads."""
    return {"card": card, "all_companies": all_companies, "query": query}


@cache
def shown_fields(card_class) -> attrgetter:
    """Reads every field a card (or its next activity) shows: all but `activities`, which its next
    activity stands for."""
    return attrgetter(*(field.name for field in fields(card_class) if field.name != "activities"))


def card_values(card) -> tuple:
    """Everything a card shows, its next activity's fields included (a tuple's repr is faster than a
    dataclass's)."""
    activity = card.next_activity if card.is_open else None
    return shown_fields(type(card))(card), activity and shown_fields(type(activity))(activity)


def card_key(card, *, all_companies: bool, query: str, extra=None) -> str:
    extra = extra or page_extra(all_companies=all_companies, query=query)
    return "board-card:" + hashlib.sha256(repr((card_values(card), extra)).encode()).hexdigest()


def page_extra(*, all_companies: bool, query: str) -> tuple:
    """What every card of a page is rendered with besides its own values."""
    return (all_companies, query, *locale_extra())


def rendered_cards(cards, *, all_companies: bool, query: str) -> list[str]:
    """Each card's HTML, in order: the cached ones in one cache read, the rest rendered and stored."""
    extra = page_extra(all_companies=all_companies, query=query)
    keys = [card_key(card, all_companies=all_companies, query=query, extra=extra) for card in cards]
    cached = caches["board_cards"].get_many(keys)
    missing = {}
    for card, key in zip(cards, keys, strict=True):
        if key not in cached:
            cached[key] = missing[key] = render_to_string(
                TEMPLATE, card_context(card, all_companies=all_companies, query=query)
            )
    if missing:
        caches["board_cards"].set_many(missing, TIMEOUT)
    return [cached[key] for key in keys]


# --- Column headers ------------------------------------------------------------------------------
#
# A column's header (name, count, totals, converted total, verbal yeses, the "+" for a new deal)
# the same way: keyed by every value it shows, rendered from those values only. The "+" is there
# for staff and the company's editors only: its stage is part of the key, so a header with it is
# never served to someone without it.

HEADER_TEMPLATE = "dealflow/partials/column_header.html"


def header_values(column, *, first_stage, company_slug) -> dict:
    """Everything the header template reads."""
    return {
        "column": {
            "key": column.key,
            "label": str(column.label),
            "count": column.count,
            "totals": column.totals,
            "verbal_totals": column.verbal_totals,
            "verbal_count": column.verbal_count,
            "converted": column.converted,
        },
        "first_stage": first_stage,
        "company_slug": company_slug,
    }


def header_key(context: dict) -> str:
    """The cache key of a header rendered with `context` (header_values)."""
    return "board-header:" + hashlib.sha256(repr((context, locale_extra())).encode()).hexdigest()


def locale_extra() -> tuple:
    """The language and time zone everything here is rendered in."""
    return translation.get_language(), timezone.get_current_timezone_name()


def rendered_header(column, *, first_stage, company_slug) -> str:
    """The column header's HTML, from the cache or rendered and stored."""
    context = header_values(column, first_stage=first_stage, company_slug=company_slug)
    key = header_key(context)
    html = caches["board_cards"].get(key)
    if html is None:
        html = render_to_string(HEADER_TEMPLATE, context)
        caches["board_cards"].set(key, html, TIMEOUT)
    return html


# --- Whole columns -------------------------------------------------------------------------------
#
# A board column's section (its header, first page of cards and load more) the same way, as one
# entry: keyed by its header's key, its cards' keys and what the section's own markup reads (the
# column's key and label, whether more follow, the page's company and query, the script prefix of
# its links). A board whose columns show the same values is then a cache read per column, not a
# template render and a cache read per card. A write that changes anything a column shows changes
# a card's or the header's values, and so the column's key: one digest over all of them, not one
# per card (a board's 175 card digests cost more than the rest of its columns' keys).

COLUMN_TEMPLATE = "dealflow/partials/column.html"


def column_key(column, *, first_stage, company_slug, query: str) -> str:
    extra = page_extra(all_companies=company_slug is None, query=query)
    cards = [card_values(card) for card in column.cards]
    header = header_values(column, first_stage=first_stage, company_slug=company_slug)
    shown = (column.key, str(column.label), column.has_more, company_slug, header, cards, get_script_prefix(), extra)
    return "board-column:" + hashlib.sha256(repr(shown).encode()).hexdigest()


def rendered_column(column, *, first_stage, company_slug, query: str, render) -> str:
    """The column section's HTML, from the cache or made by `render()` (the column template,
    rendered in the page's context) and stored."""
    key = column_key(column, first_stage=first_stage, company_slug=company_slug, query=query)
    html = caches["board_cards"].get(key)
    if html is None:
        html = render()
        caches["board_cards"].set(key, html, TIMEOUT)
    return html
