"""Money formatting: Swedish for SEK ("2 773 065 kr"), the active locale for other currencies."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

NBSP = "\u00a0"
# Prefix symbols for currencies whose symbol is unambiguous in English-speaking locales.
PREFIX_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def whole(amount) -> Decimal:
    return Decimal(amount or 0).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def format_sek(amount) -> str:
    """Swedish grouping: a (non-breaking) space every three digits, then " kr"."""
    rounded = whole(amount)
    digits = f"{abs(rounded):,.0f}".replace(",", NBSP)
    sign = "−" if rounded < 0 else ""
    return f"{sign}{digits}{NBSP}kr"


def format_money(amount, currency: str) -> str:
    """A whole-unit amount in `currency`; never sums or converts anything."""
    currency = (currency or "").upper()
    if currency == "SEK":
        return format_sek(amount)
    number = number_format(whole(amount), decimal_pos=0, use_l10n=True, force_grouping=True)
    symbol = PREFIX_SYMBOLS.get(currency)
    if symbol:
        return f"−{symbol}{number.lstrip('-')}" if number.startswith("-") else f"{symbol}{number}"
    return f"{number}{NBSP}{currency}".strip() if currency else number
