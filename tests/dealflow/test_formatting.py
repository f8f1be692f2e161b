from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from dealflow.formatting import format_date, format_datetime, format_money, format_number, format_percent, format_time
from dealflow.freshness import age_text

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "currency", "swedish", "english"),
    [
        (Decimal("2773065.40"), "SEK", "2 773 065 kr", "SEK 2,773,065"),
        (110000, "EUR", "110 000 €", "€110,000"),
        (Decimal("0.5"), "SEK", "1 kr", "SEK 1"),  # whole units, half up
        (0, "SEK", "0 kr", "SEK 0"),
        (-1500, "SEK", "−1 500 kr", "−SEK 1,500"),
        (-1500, "EUR", "−1 500 €", "−€1,500"),
        (5000, "USD", "5 000 USD", "$5,000"),
        (1234567, "NOK", "1 234 567 NOK", "NOK 1,234,567"),
        (1234567, "nok", "1 234 567 NOK", "NOK 1,234,567"),  # codes upper-cased
        (None, "", "0", "0"),
    ],
)
def test_money_in_both_languages(amount, currency, swedish, english):
    # Written here with plain spaces; the real separator is a non-breaking space (asserted below).
    with translation.override("sv"):
        assert format_money(amount, currency).replace(NBSP, " ") == swedish
    with translation.override("en"):
        assert format_money(amount, currency).replace(NBSP, " ") == english


def test_swedish_groups_with_non_breaking_spaces_so_an_amount_never_wraps():
    with translation.override("sv"):
        assert format_money(2773065, "SEK") == "2\u00a0773\u00a0065\u00a0kr"
        assert format_number(1234) == "1\u00a0234"
        assert format_percent(45) == "45\u00a0%"
    with translation.override("en"):
        assert format_money(2773065, "SEK") == "SEK\u00a02,773,065"
        assert format_number(1234) == "1,234"
        assert format_percent(45) == "45%"


def test_dates_in_both_languages_in_the_studios_time_zone(settings):
    settings.TIME_ZONE = "Europe/Stockholm"
    moment = datetime(2026, 3, 30, 10, 13, tzinfo=UTC)  # 12:13 in Stockholm (summer time)
    with translation.override("sv"):
        assert format_datetime(moment) == "30 mar 2026 12:13"
        assert format_date(moment) == "30 mar 2026"
        assert format_date(date(2026, 11, 25)) == "25 nov 2026"
        assert format_time(moment) == "12:13"
    with translation.override("en"):
        assert format_datetime(moment) == "30 Mar 2026, 12:13"
        assert format_date(moment) == "30 Mar 2026"
        assert format_time(moment) == "12:13"
    # The day is the local one: 23:30 UTC is already the next day in Stockholm.
    with translation.override("en"):
        assert format_date(datetime(2026, 11, 24, 23, 30, tzinfo=UTC)) == "25 Nov 2026"
    assert format_datetime(None) == "" and format_date(None) == ""


def test_age_text():
    now = datetime(2026, 1, 1, 12, 0)
    assert age_text(None, now) == "never synced"
    assert age_text(now - timedelta(seconds=20), now) == "synced just now"
    assert age_text(now - timedelta(minutes=3, seconds=59), now) == "synced 3 min ago"
    assert age_text(now - timedelta(hours=5), now) == "synced 5 h ago"
    assert age_text(now - timedelta(days=3), now) == "synced 3 days ago"
    with translation.override("sv"):
        assert age_text(now - timedelta(minutes=3), now) == "synkad för 3 min sedan"
