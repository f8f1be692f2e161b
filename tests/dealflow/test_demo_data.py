"""The sandbox's demo accounts look live whatever the date (issue 9, item 10): seeded dates are
relative to the day the account is built, and the same day gives the same account."""

from datetime import UTC, date, datetime, timedelta
from statistics import median

from integrations.providers.pipedrive.sandbox.seed import build_store


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_same_day_gives_the_same_account_and_another_day_shifts_it():
    today = date(2031, 3, 4)

    assert build_store("coeo", today=today).deals_list() == build_store("coeo", today=today).deals_list()
    later = build_store("coeo", today=today + timedelta(days=10)).deals_list()
    first = build_store("coeo", today=today).deals_list()
    assert [(deal["id"], deal["title"], deal["status"]) for deal in later] == [
        (deal["id"], deal["title"], deal["status"]) for deal in first
    ]
    assert parse(later[0]["add_time"]) - parse(first[0]["add_time"]) == timedelta(days=10)


def test_open_deals_look_worked_on_today():
    today = datetime.now(UTC).date()
    start_of_today = datetime(today.year, today.month, today.day, tzinfo=UTC)
    deals = build_store("coeo").deals_list()
    open_deals = [deal for deal in deals if deal["status"] == "open"]

    days_in_stage = [(start_of_today - parse(deal["stage_change_time"])).days for deal in open_deals]
    assert max(days_in_stage) <= 51 and median(days_in_stage) <= 30
    future_closes = [deal for deal in open_deals if date.fromisoformat(deal["expected_close_date"]) >= today]
    assert len(future_closes) > 0.75 * len(open_deals)
    # Nothing is dated after today; won deals spread over the last two years.
    assert max(parse(deal["update_time"]) for deal in deals) <= start_of_today
    won_days = [(start_of_today - parse(deal["won_time"])).days for deal in deals if deal["status"] == "won"]
    assert min(won_days) < 60 and max(won_days) > 365
