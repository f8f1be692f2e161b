"""The board's exchange rates (fx.load_rates without a start day): the last month before the latest
stored day, read in one statement with that day."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dealflow.fx import LOOKBACK, load_rates
from dealflow.models import FxRate

pytestmark = pytest.mark.django_db


def store(currency: str, day: date, rate: str) -> None:
    FxRate.objects.create(date=day, currency=currency, rate=Decimal(rate), source="test")


def test_the_latest_rates_and_the_month_before_them_are_one_statement(django_assert_num_queries):
    # The test database holds the packaged ECB file (to 2026); these days come after it.
    latest = date(2031, 3, 31)
    store("SEK", latest, "11.5")
    store("SEK", latest - LOOKBACK, "11.4")  # the first day of the month read: included
    store("SEK", latest - LOOKBACK - timedelta(days=1), "99")  # the day before: left out
    store("XYZ", latest - LOOKBACK - timedelta(days=1), "7")  # a currency not quoted within the month

    with django_assert_num_queries(1):
        rates = load_rates("SEK", {"USD", "XYZ"})

    assert rates.days["SEK"] == [latest - LOOKBACK, latest]
    assert rates.values["SEK"] == [Decimal("11.4"), Decimal("11.5")]
    assert "XYZ" not in rates.days and "USD" not in rates.days  # no rate: their amounts stay apart
    assert rates.latest_day == latest
    with_start = load_rates("SEK", {"USD", "XYZ"}, since=latest)  # the start day told: the same rates
    assert (with_start.days, with_start.values) == (rates.days, rates.values)


def test_with_no_rates_stored_nothing_is_read(django_assert_num_queries):
    FxRate.objects.all().delete()
    with django_assert_num_queries(1):
        rates = load_rates("SEK", {"EUR", "USD"})

    assert rates.days == {} and rates.latest_day is None
