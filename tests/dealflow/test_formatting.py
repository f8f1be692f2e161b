from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import translation

from dealflow.formatting import format_money
from dealflow.freshness import age_text


def test_sek_is_formatted_the_swedish_way():
    assert format_money(Decimal("2773065.40"), "SEK") == "2\u00a0773\u00a0065\u00a0kr"
    assert format_money(0, "SEK") == "0\u00a0kr"
    assert format_money(-1500, "SEK") == "−1\u00a0500\u00a0kr"


def test_other_currencies_follow_the_active_locale():
    with translation.override("en"):
        assert format_money(1234567, "EUR") == "€1,234,567"
        assert format_money(1234567, "NOK") == "1,234,567\u00a0NOK"
    with translation.override("de"):
        assert format_money(1234567, "NOK") == "1.234.567\u00a0NOK"


def test_age_text():
    now = datetime(2026, 1, 1, 12, 0)
    assert age_text(None, now) == "never synced"
    assert age_text(now - timedelta(seconds=20), now) == "synced just now"
    assert age_text(now - timedelta(minutes=3, seconds=59), now) == "synced 3 min ago"
    assert age_text(now - timedelta(hours=5), now) == "synced 5 h ago"
    assert age_text(now - timedelta(days=3), now) == "synced 3 days ago"
