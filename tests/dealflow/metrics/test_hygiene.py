"""Hygiene on a hand-built dataset with known answers: rotting deals (Pipedrive's rule), open deals
without a next activity, deals past expected close; counts and shares of the open deals, per
company and for a set of companies, in two queries whatever the data."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from dealflow.metrics import hygiene
from dealflow.metrics.export import report_json
from dealflow.metrics.period import period_from
from dealflow.metrics.report import build
from dealflow.metrics.scope import Scope
from dealflow.models import Deal, DealStatus
from dealflow.rotting import rotting_q
from dealflow.stages import MappingTarget
from tests import factories as make

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
TODAY = date(2026, 3, 31)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def dataset(coeo, nordic):
    s = coeo.stages  # lead: no rotting; proposal: rotting after 7 days; nej_tack: excluded
    deal = make.deal
    # Rotting (untouched 10 days in a 7-day stage), no activity, expected close passed.
    deal(s.proposal, "c1", update_time=days_ago(10), expected_close_date=date(2026, 3, 1))
    # Fine: updated 2 days ago, planned, closes next month.
    make.activity(deal(s.proposal, "c2", update_time=days_ago(2), expected_close_date=date(2026, 4, 30)), "Call")
    # Untouched 100 days, but its stage has no rotting; only a done activity: no next activity.
    make.activity(deal(s.lead, "c3", update_time=days_ago(100)), "Done call", done=True)
    # Planned, but expected close was yesterday.
    make.activity(deal(s.lead, "c4", update_time=days_ago(1), expected_close_date=date(2026, 3, 30)), "Call")
    # No stage at all (still an open deal: the board's Unmapped), closes today (not past), no activity.
    stageless = deal(s.lead, "c5", update_time=days_ago(50), expected_close_date=TODAY)
    Deal.objects.filter(pk=stageless.pk).update(stage=None, stage_remote_id=None)
    # Not open deals, or not counted among them: won, deleted, archived, in an excluded stage.
    old = {"update_time": days_ago(90), "expected_close_date": date(2026, 1, 1)}
    deal(s.proposal, "won", status=DealStatus.WON, won_time=days_ago(80), **old)
    deal(s.proposal, "deleted", status=DealStatus.DELETED, **old)
    deal(s.proposal, "archived", is_archived=True, **old)
    deal(s.nej_tack, "excluded", **old)

    pipeline = nordic.pipeline
    no_limit = make.stage(pipeline, "Negotiation", MappingTarget.PROPOSAL, is_deal_rot_enabled=True)
    switched_off = make.stage(pipeline, "Review", MappingTarget.MEETING, days_to_rotten=3)
    # Rotting switched on without a number of days: never rotting. No activity.
    deal(no_limit, "n1", currency="EUR", update_time=days_ago(200))
    # A number of days but rotting switched off: not rotting. An overdue activity is still its
    # next activity. Expected close passed.
    n2 = deal(switched_off, "n2", currency="EUR", update_time=days_ago(10), expected_close_date=date(2026, 2, 1))
    make.activity(n2, "Overdue call", due_date=date(2026, 3, 20))
    return coeo, nordic


def figures(open_deals, rotting, no_next_activity, past_expected_close):
    def share(count):
        return count / open_deals if open_deals else None

    return {
        "open_deals": open_deals,
        "rotting": {"count": rotting, "share": share(rotting)},
        "no_next_activity": {"count": no_next_activity, "share": share(no_next_activity)},
        "past_expected_close": {"count": past_expected_close, "share": share(past_expected_close)},
    }


def test_hygiene_per_company_and_for_the_portfolio(dataset):
    coeo, nordic = dataset
    empty = make.company("Empty Co", slug="empty")
    make.integration(empty, company_domain="empty")
    scope = Scope.of([coeo.company, nordic.company, empty])

    rows = hygiene.fetch(scope, NOW, TODAY)

    def of(*companies):
        return hygiene.compute(rows, set().union(*(scope.integrations_of(company) for company in companies)))

    assert of(coeo.company) == figures(5, rotting=1, no_next_activity=3, past_expected_close=2)
    assert of(nordic.company) == figures(2, rotting=0, no_next_activity=1, past_expected_close=1)
    assert of(coeo.company, nordic.company, empty) == figures(7, rotting=1, no_next_activity=4, past_expected_close=3)
    # No open deals: nothing to share out ("—" on the page, null in the JSON), never 0 %.
    assert of(empty) == figures(0, 0, 0, 0)
    assert of(empty)["rotting"]["share"] is None


def test_one_query_whatever_the_data(dataset, django_assert_num_queries):
    coeo, nordic = dataset
    scope = Scope.of([coeo.company, nordic.company])
    # The stages that rot, then the deals (no join with the stage per deal).
    with django_assert_num_queries(2):
        hygiene.fetch(scope, NOW, TODAY)

    make.many_deals(coeo.stages.proposal, 300, update_time=days_ago(30))
    for deal in Deal.objects.filter(title__startswith="Bulk")[:50]:
        make.activity(deal, "Planned")

    with django_assert_num_queries(2):
        rows = hygiene.fetch(scope, NOW, TODAY)
    coeo_figures = hygiene.compute(rows, scope.integrations_of(coeo.company))
    assert coeo_figures["open_deals"] == 305
    assert coeo_figures["rotting"]["count"] == 301
    assert coeo_figures["no_next_activity"]["count"] == 3 + 250


def test_the_reports_json_and_pages_carry_hygiene(client, staff, coeo, nordic):
    now = timezone.now()
    make.deal(coeo.stages.proposal, "Untouched", update_time=now - timedelta(days=10))
    make.activity(make.deal(coeo.stages.proposal, "Planned", update_time=now), "Call")

    data = report_json(build([coeo.company, nordic.company], period_from(), "SEK"))

    assert data["companies"]["coeo"]["hygiene"] == figures(2, rotting=1, no_next_activity=1, past_expected_close=0)
    assert data["companies"]["nordic"]["hygiene"]["rotting"] == {"count": 0, "share": None}
    assert data["portfolio"]["hygiene"]["open_deals"] == 2
    client.force_login(staff)
    html = " ".join(client.get(reverse("dealflow:company_metrics", args=["coeo"])).content.decode().split())
    assert 'Rotting deals</dt><dd>1</dd><dd class="muted">50%' in html
    assert "Without a next activity" in html and "Past expected close" in html


UTC_NOW = NOW.astimezone(UTC)  # as timezone.now() gives it


@pytest.mark.parametrize(
    "now", [UTC_NOW.replace(microsecond=250001), UTC_NOW.replace(second=59, microsecond=999999), UTC_NOW]
)
def test_rotting_in_sql_is_exact_to_the_microsecond(coeo, now):
    # The database compares with "days_to_rotten days before now" itself (rotting.OlderThanDays):
    # a deal updated exactly then is not rotting, one a microsecond earlier is, as in Python.
    limit = now - timedelta(days=7)
    for title, update_time in (
        ("exactly", limit),
        ("earlier", limit - timedelta(microseconds=1)),
        ("later", limit + timedelta(microseconds=1)),
    ):
        make.deal(coeo.stages.proposal, title, update_time=update_time)
    rows = hygiene.fetch(Scope.of([coeo.company]), now, TODAY)
    assert hygiene.compute(rows, {coeo.integration.pk})["rotting"]["count"] == 1
    assert list(Deal.objects.filter(rotting_q(now)).values_list("title", flat=True)) == ["earlier"]


def test_a_company_whose_stages_never_rot(nordic):
    # No stage of the scope rots: the deals are counted without any rotting condition.
    make.deal(nordic.lead, "untouched", currency="EUR", update_time=days_ago(400))
    rows = hygiene.fetch(Scope.of([nordic.company]), NOW, TODAY)
    figures_of = hygiene.compute(rows, {nordic.integration.pk})
    assert figures_of["open_deals"] == 1
    assert figures_of["rotting"] == {"count": 0, "share": 0.0}


def test_more_rotting_branches_than_one_sqlite_compound_select_holds(coeo):
    """A branch per integration and number of days: a studio with hundreds of companies (here one
    company with 520 stages that rot after as many numbers of days) goes past SQLite's 500 terms of
    one compound SELECT, and the branches are then read in more than one statement."""
    pipeline = coeo.stages.proposal.pipeline
    rotting = 0
    for days in range(1, 521):
        stage = make.stage(
            pipeline, f"Steg {days}", MappingTarget.PROPOSAL, is_deal_rot_enabled=True, days_to_rotten=days
        )
        if days % 40 == 0:  # one deal untouched for 100 days: rotting in the stages that rot sooner
            make.deal(stage, f"d{days}", update_time=days_ago(100))
            rotting += days < 100
    rows = hygiene.fetch(Scope.of([coeo.company]), NOW, TODAY)
    assert hygiene.compute(rows, {coeo.integration.pk})["rotting"]["count"] == rotting == 2
    assert Deal.objects.filter(rotting_q(NOW)).count() == rotting
