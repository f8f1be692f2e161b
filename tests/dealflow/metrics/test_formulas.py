"""Each formula on the hand-built dataset (dataset.py), with the answers worked out by hand."""

from datetime import UTC as UTC_ZONE
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealflow.metrics.period import Period
from dealflow.metrics.report import build
from tests import factories as make
from tests.dealflow.metrics import dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(coeo, nordic):
    dataset.build(coeo, nordic)
    return build([coeo.company, nordic.company], dataset.PERIOD, "SEK", today=dataset.TODAY)


@pytest.fixture
def coeo_metrics(report):
    return report.by_company["coeo"]


def test_new_deals_are_the_added_not_deleted_ones_at_the_latest_rate(coeo_metrics):
    # a b c e g i m; h is deleted, d f j k l were added before; b is 100 € × 12.
    assert coeo_metrics["new"] == {"count": 7, "value": Decimal(1000 + 1200 + 500 + 2000 + 400 + 50 + 2000)}


def test_won_counts_status_won_in_the_period_at_the_close_days_rate(coeo_metrics):
    # a, b (100 € at 4 Feb: the 2 Feb rate, 10), m; g was won in the period but is open again; l is earlier.
    assert coeo_metrics["won"] == {"count": 3, "value": Decimal(4000)}


def test_lost_keeps_a_currency_without_a_rate_apart(coeo_metrics):
    assert coeo_metrics["lost"] == {"count": 2, "value": Decimal(500), "unconverted": {"XYZ": Decimal(700)}}
    assert coeo_metrics["unconverted"]["lost"] == {"XYZ": Decimal(700)}
    assert coeo_metrics["lost_reasons"] == [{"reason": "Price", "count": 2}]


def test_win_rate_average_and_sales_cycle(coeo_metrics):
    assert coeo_metrics["win_rate"] == pytest.approx(3 / 5)
    assert coeo_metrics["average_won_deal"] == pytest.approx(Decimal(4000) / 3)
    assert coeo_metrics["sales_cycle_days"]["median"] == pytest.approx(31)
    assert coeo_metrics["sales_cycle_days"]["mean"] == pytest.approx((31 + 34 + 10) / 3)


def test_no_closed_deals_means_no_win_rate_not_zero(report):
    nordic = report.by_company["nordic"]
    assert nordic["won"]["count"] == nordic["lost"]["count"] == 0
    assert nordic["win_rate"] is None
    assert nordic["average_won_deal"] is None
    assert nordic["sales_cycle_days"] == {"median": None, "mean": None, "deals": 0}
    assert nordic["sales_velocity_per_month"] is None


def test_weighted_pipeline_by_standard_stage(coeo_metrics):
    assert coeo_metrics["weighted_pipeline"] == {
        "lead": Decimal(360),  # f: 3600 kr × 10 %; k (XYZ) apart
        "qualified": 0,
        "meeting": Decimal(160),  # g, reopened: 400 × 40 %
        "due_diligence": 0,
        "proposal": Decimal(1600),  # e
        "closed_won": Decimal(250),  # j, a verbal yes
    }
    assert coeo_metrics["pipeline"]["lead"]["count"] == 2
    assert coeo_metrics["pipeline"]["lead"]["value"] == Decimal(3600)
    assert coeo_metrics["pipeline_unconverted"] == {"XYZ": Decimal(100)}
    assert coeo_metrics["excluded"] == {"count": 1}
    assert coeo_metrics["open_deals"] == 5


def test_sales_velocity(coeo_metrics):
    # 5 open × 0.6 × 4000/3 ÷ 25 days × 30
    assert coeo_metrics["sales_velocity_per_month"] == pytest.approx(Decimal(4800))


def test_forecast_by_expected_close_month_with_overdue_apart(coeo_metrics):
    assert coeo_metrics["forecast"] == {
        "2026-03": 0,
        "2026-04": Decimal(1600),
        "2026-05": 0,
        "2026-06": 0,
        "2026-07": 0,
        "2026-08": 0,
        "overdue": Decimal(360),
    }


def test_funnel_counts_the_furthest_stage_ever_seen(coeo_metrics):
    # a b m reached Closed Won; c skipped to Proposal and moved back; e (no history) is in Proposal;
    # g in Meeting; i in an excluded stage reached none.
    shares = {stage: entry["count"] for stage, entry in coeo_metrics["funnel"].items()}
    assert shares == {"lead": 6, "qualified": 6, "meeting": 6, "due_diligence": 5, "proposal": 5, "closed_won": 3}
    assert coeo_metrics["funnel"]["closed_won"]["share"] == pytest.approx(3 / 7)


def test_time_in_stage_from_stays_ended_in_the_period(coeo_metrics):
    assert coeo_metrics["time_in_stage_days"] == {
        "lead": pytest.approx(9.5),
        "qualified": pytest.approx(26),
        "meeting": pytest.approx(16),
        "due_diligence": None,
        "proposal": pytest.approx(10),
        "closed_won": None,
    }


def test_period_days_are_inclusive_in_the_studio_time_zone(report):
    # n2 was added a minute before the period (Stockholm), n3 in its last minute.
    assert report.by_company["nordic"]["new"]["count"] == 2


def test_a_period_cutting_through_deals_lives(coeo, nordic):
    deals = dataset.build(coeo, nordic)
    february = Period(since=date(2026, 2, 1), until=date(2026, 2, 28))
    metrics = build([coeo.company], february, "SEK", today=dataset.TODAY).by_company["coeo"]
    assert metrics["won"]["count"] == 2  # a and b; m is in March
    assert metrics["lost"]["count"] == 0  # c was lost on 1 Mar
    assert metrics["new"]["count"] == 2  # c and g (h is deleted)
    assert metrics["time_in_stage_days"]["meeting"] == pytest.approx(16)
    assert metrics["time_in_stage_days"]["qualified"] is None
    assert deals.a.pk


def test_portfolio_adds_the_companies_up(report):
    portfolio = report.portfolio
    assert portfolio["new"]["count"] == 7 + 2
    assert portfolio["new"]["value"] == report.by_company["coeo"]["new"]["value"] + 2 * 100 * 12
    assert portfolio["win_rate"] == pytest.approx(3 / 5)
    assert portfolio["weighted_pipeline"]["lead"] == Decimal(360) + 3 * 100 * 12 * Decimal("0.2")
    assert report.rates_date == date(2026, 3, 2)


def test_trends_per_month(coeo_metrics):
    trends = coeo_metrics["trends"]
    assert len(trends["won_value_by_month"]) == 24
    assert trends["won_value_by_month"]["2025-12"] == Decimal(5000)
    assert trends["won_value_by_month"]["2026-02"] == Decimal(2000)
    assert trends["won_value_by_month"]["2026-03"] == Decimal(2000)
    assert trends["new_deals_by_month"]["2026-03"] == 3  # e i m


def test_query_count_does_not_grow_with_deals(coeo, nordic):
    dataset.build(coeo, nordic)
    with CaptureQueriesContext(connection) as few:
        build([coeo.company, nordic.company], dataset.PERIOD, "SEK", today=dataset.TODAY)
    make.many_deals(coeo.stages.lead, 200, add_time=dataset.at("2026-02-01"))
    with CaptureQueriesContext(connection) as many:
        build([coeo.company, nordic.company], dataset.PERIOD, "SEK", today=dataset.TODAY)
    assert len(many) == len(few)


def test_the_overview_report_reads_only_what_the_overview_shows_with_the_same_numbers(coeo, nordic):
    dataset.build(coeo, nordic)
    companies = [coeo.company, nordic.company]
    full = build(companies, dataset.PERIOD, "SEK", today=dataset.TODAY)
    with CaptureQueriesContext(connection) as light_queries:
        light = build(companies, dataset.PERIOD, "SEK", today=dataset.TODAY, overview=True)
    with CaptureQueriesContext(connection) as full_queries:
        build(companies, dataset.PERIOD, "SEK", today=dataset.TODAY)
    assert len(light_queries) < len(full_queries)
    shown = ("new", "won", "lost", "win_rate", "average_won_deal", "open_deals", "pipeline", "weighted_pipeline")
    for metrics, expected in [
        *zip(light.by_company.values(), full.by_company.values(), strict=True),
        (light.portfolio, full.portfolio),
    ]:
        for key in shown:
            assert metrics[key] == expected[key], key
        for key in ("funnel", "time_in_stage_days", "hygiene", "forecast", "sales_cycle_days", "lost_reasons"):
            assert key not in metrics
    for key in ("won_value_by_month", "new_deals_by_month"):
        assert light.portfolio["trends"][key] == full.portfolio["trends"][key]
    assert light.portfolio["unconverted"] == {k: v for k, v in full.portfolio["unconverted"].items() if k != "forecast"}


def test_portfolio_pages_leave_each_companys_trends_out_but_keep_the_portfolios(report, coeo, nordic):
    lean = build([coeo.company, nordic.company], dataset.PERIOD, "SEK", today=dataset.TODAY, company_trends=False)
    assert "trends" not in lean.by_company["coeo"]
    assert lean.portfolio["trends"] == report.portfolio["trends"]
    assert lean.by_company["coeo"]["won"] == report.by_company["coeo"]["won"]
    alone = build([coeo.company], dataset.PERIOD, "SEK", today=dataset.TODAY, company_trends=False)
    assert alone.by_company["coeo"]["trends"] == report.by_company["coeo"]["trends"]


def test_forecast_months_at_their_edges(coeo):
    # Today 31 Mar: the 1st and yesterday are overdue, today is this month; 31 Aug is the sixth
    # month's last day, 1 Sep is past the forecast; a deal without a date is in none.
    dataset.rates()
    edges = {
        date(2026, 3, 1): 1,
        date(2026, 3, 30): 2,
        dataset.TODAY: 4,
        date(2026, 4, 1): 8,
        date(2026, 8, 31): 16,
        date(2026, 9, 1): 32,
        None: 64,
    }
    for day, value in edges.items():
        make.deal(coeo.stages.lead, f"{day}", value=value, expected_close_date=day)
    forecast = build([coeo.company], dataset.PERIOD, "SEK", today=dataset.TODAY).by_company["coeo"]["forecast"]
    weight = Decimal(coeo.stages.lead.deal_probability) / 100
    assert forecast == {
        "2026-03": 4 * weight,
        "2026-04": 8 * weight,
        "2026-05": 0,
        "2026-06": 0,
        "2026-07": 0,
        "2026-08": 16 * weight,
        "overdue": 3 * weight,
    }


def test_sales_cycle_days_from_the_database_equal_pythons_to_the_microsecond(coeo):
    # Each cycle's length comes from the database as whole microseconds (no datetimes converted
    # per won deal): the same float as (won - added) in Python, with and without fractions of a
    # second, across a daylight saving change, and won by close time when there is no won time.
    from datetime import datetime, timedelta

    from dealflow.metrics import closed
    from dealflow.metrics.scope import Scope
    from dealflow.models import DealStatus

    def days(start, end):
        # In UTC, as the deals come back from the database (two moments in one zone subtract as
        # wall clock times in Python, an hour off across a daylight saving change).
        return (end.astimezone(UTC_ZONE) - start.astimezone(UTC_ZONE)).total_seconds() / 86400

    zone = dataset.STOCKHOLM
    cases = [
        (datetime(2026, 1, 10, 9, 0, tzinfo=zone), datetime(2026, 2, 10, 17, 30, 0, 1, tzinfo=zone)),
        (datetime(2025, 12, 1, 23, 59, 59, 999999, tzinfo=zone), datetime(2026, 3, 30, 1, 0, tzinfo=zone)),
        (datetime(2026, 3, 1, 0, 0, 0, 500000, tzinfo=zone), datetime(2026, 3, 1, 0, 0, 0, 499999, tzinfo=zone)),
        (datetime(2024, 2, 29, 12, 0, tzinfo=UTC_ZONE), datetime(2026, 3, 31, 21, 59, 59, 999999, tzinfo=UTC_ZONE)),
    ]
    expected = []
    for number, (added, won) in enumerate(cases):
        make.deal(coeo.stages.won, f"w{number}", status=DealStatus.WON, add_time=added, won_time=won)
        expected.append(days(added, won))
    added, closed_at = datetime(2026, 1, 5, 8, 15, 7, 123456, tzinfo=zone), datetime(2026, 3, 3, 10, tzinfo=UTC_ZONE)
    make.deal(coeo.stages.won, "by close time", status=DealStatus.WON, add_time=added, close_time=closed_at)
    expected.append(days(added, closed_at))
    rows = closed.fetch(Scope.of([coeo.company]), dataset.PERIOD, "SEK")
    assert sorted(row["days"] for row in rows.cycles) == sorted(expected)
    assert timedelta(days=min(expected)) < timedelta(0)  # a win recorded before the add counts as it is
