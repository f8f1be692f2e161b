"""Dates, numbers and money as the active language writes them: the one place for these rules.

Everything the board, the panel, the hidden list and the header show goes through here, so a page
never mixes two styles ("March 30, 2026" beside "25 Nov 2026"). Dates use Django's per-language
DATE_FORMAT / DATETIME_FORMAT / TIME_FORMAT (ours: config/formats/<language>/formats.py), in the
current time zone (settings.TIME_ZONE, the studio's). Exports keep typed cells and do not use this.

Money is written in whole units, by a small rule of our own rather than Babel: we ship two
languages, and the rule is a dozen lines, while Babel would add a dependency, CLDR data and a
slower call per card, and still needs its pattern overridden to drop the decimals.
  Swedish: the amount, then the symbol or code ("2 773 065 kr", "110 000 €", "5 000 NOK")
  English: symbol or code first ("SEK 2,773,065", "€110,000", "$5,000")
Swedish groups digits with a non-breaking space (U+00A0), which also keeps an amount on one line.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.translation import get_language

NBSP = "\u00a0"
MINUS = "\u2212"  # a real minus sign, as both languages print it
# Symbols each language writes for a currency; any other currency is written as its ISO code.
SYMBOLS = {
    "sv": {"SEK": "kr", "EUR": "€"},
    "en": {"EUR": "€", "USD": "$", "GBP": "£"},
}


def whole(amount) -> Decimal:
    return Decimal(amount or 0).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def active_language() -> str:
    """The active language, looked up once per call below (asgiref's context lookup is not free)."""
    return get_language() or "en"


@cache
def thousand_separator(language: str) -> str:
    """The language's THOUSAND_SEPARATOR, looked up once: a board formats hundreds of amounts, and
    django.utils.formats.number_format (~40 µs a call) cost ~10 ms a page."""
    return get_format("THOUSAND_SEPARATOR", language, use_l10n=True)


def format_number(value, language: str | None = None) -> str:
    """A whole number grouped by thousands as the language groups them ("1 234" / "1,234")."""
    return f"{whole(value):,}".replace(",", thousand_separator(language or active_language()))


def format_percent(value) -> str:
    """A whole percentage: "45 %" in Swedish (a non-breaking space), "45%" in English."""
    language = active_language()
    number = format_number(value, language)
    return f"{number}{NBSP}%" if language.startswith("sv") else f"{number}%"


def format_money(amount, currency: str, language: str | None = None) -> str:
    """A whole-unit amount in `currency` (never summed or converted here), in `language` (default:
    the active one; a page of cards passes it, read once)."""
    currency = (currency or "").upper()
    rounded = whole(amount)
    sign = MINUS if rounded < 0 else ""
    language = language or active_language()
    number = format_number(abs(rounded), language)
    if language.startswith("sv"):
        unit = SYMBOLS["sv"].get(currency, currency)
        return f"{sign}{number}{NBSP}{unit}" if unit else f"{sign}{number}"
    symbol = SYMBOLS["en"].get(currency)
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{currency}{NBSP}{number}" if currency else f"{sign}{number}"


def format_datetime(value: datetime | None) -> str:
    """A moment in the current time zone: "30 mar 2026 12:13" / "30 Mar 2026, 12:13"."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "DATETIME_FORMAT")


def format_date(value: date | datetime | None) -> str:
    """A day: "30 mar 2026" / "30 Mar 2026" (a moment: its day in the current time zone)."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "DATE_FORMAT")


def format_time(value: datetime) -> str:
    """A time of day in the current time zone: "14:30" in both languages."""
    return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "TIME_FORMAT")
