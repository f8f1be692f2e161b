"""Activities and rotting on the board: a card's next activity (overdue said in words, not colour
alone), the "no next activity" mark, the panel's upcoming and last five done activities, and
rotting as Pipedrive defines it (by update_time), apart from days in stage."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealflow.models import Activity, Deal, DealStatus
from dealflow.rotting import is_rotting, rotting_q
from tests import factories as make

from .helpers import column, page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def board_url(coeo):
    return reverse("dealflow:company_board", args=[coeo.company.slug])


def cards_of(response, key):
    return {card.title: card for card in column(response, key).cards}


def test_a_card_shows_its_next_undone_activity(client, staff, coeo, board_url):
    today = timezone.localdate()
    deal = make.deal(coeo.stages.lead, "Planned deal")
    make.activity(deal, "Later call", due_date=today + timedelta(days=5))
    make.activity(deal, "Sooner meeting", due_date=today + timedelta(days=2))
    make.activity(deal, "Long done", due_date=today - timedelta(days=20), done=True)
    client.force_login(staff)

    response = client.get(board_url)

    upcoming = cards_of(response, "lead")["Planned deal"].next_activity
    assert (upcoming.subject, upcoming.is_overdue) == ("Sooner meeting", False)
    text = page_text(response)
    assert "Sooner meeting" in text and "Later call" not in text and "No next activity" not in text


def test_overdue_activities_say_so_in_words(client, staff, coeo, board_url):
    now = timezone.now()
    today = timezone.localdate()
    cases = {
        "Due yesterday": {"due_date": today - timedelta(days=1)},
        "Due an hour ago": {
            "due_date": (now - timedelta(hours=1)).date(),
            "due_time": (now - timedelta(hours=1)).time(),
        },
        "Due in an hour": {
            "due_date": (now + timedelta(hours=1)).date(),
            "due_time": (now + timedelta(hours=1)).time(),
        },
        "Due today": {"due_date": today},
    }
    for title, due in cases.items():
        make.activity(make.deal(coeo.stages.lead, title), f"Call about {title}", **due)
    client.force_login(staff)

    response = client.get(board_url)

    cards = cards_of(response, "lead")
    overdue = {title for title, card in cards.items() if card.next_activity.is_overdue}
    assert overdue == {"Due yesterday", "Due an hour ago"}
    html = " ".join(response.content.decode().split())
    assert html.count("card-activity--overdue") == 2
    assert page_text(response).count("Overdue:") == 2  # a word and an icon, not red alone


def test_open_deals_without_a_next_activity_are_marked(client, staff, coeo, board_url):
    idle = make.deal(coeo.stages.lead, "Idle deal")
    make.activity(idle, "Done long ago", done=True)
    make.deal(coeo.stages.lead, "Never planned")
    make.deal(coeo.stages.lead, "Won without activities", status=DealStatus.WON, won_time=timezone.now())
    client.force_login(staff)

    response = client.get(board_url)

    assert cards_of(response, "lead")["Idle deal"].next_activity is None
    # The two open deals are marked; a won deal needs no next activity.
    assert page_text(response).count("No next activity") == 2


def test_the_panel_lists_upcoming_and_the_last_five_done(client, staff, coeo, board_url):
    today = timezone.localdate()
    now = timezone.now()
    deal = make.deal(coeo.stages.lead, "Busy deal")
    make.activity(deal, "Upcoming B", due_date=today + timedelta(days=3))
    make.activity(deal, "Overdue A", due_date=today - timedelta(days=2))
    for days_ago in range(1, 8):
        make.activity(deal, f"Done {days_ago}d ago", done=True, marked_as_done_time=now - timedelta(days=days_ago))
    client.force_login(staff)
    card_url = cards_of(client.get(board_url), "lead")["Busy deal"].url

    text = page_text(client.get(card_url))

    upcoming = text[text.index("Upcoming activities") : text.index("Last done activities")]
    assert upcoming.index("Overdue: Overdue A") < upcoming.index("Upcoming B")
    done = text[text.index("Last done activities") :]
    shown = [f"Done {days}d ago" for days in range(1, 8) if f"Done {days}d ago" in done]
    assert shown == [f"Done {days}d ago" for days in range(1, 6)]
    assert done.index("Done 1d ago") < done.index("Done 5d ago")


def test_rotting_follows_update_time_and_days_in_stage_is_its_own_figure(client, staff, coeo, board_url):
    now = timezone.now()
    proposal = coeo.stages.proposal  # rotting enabled, 7 days
    make.deal(
        proposal, "Untouched 8 days", update_time=now - timedelta(days=8), stage_change_time=now - timedelta(days=2)
    )
    make.deal(
        proposal, "Updated yesterday", update_time=now - timedelta(days=1), stage_change_time=now - timedelta(days=30)
    )
    make.deal(coeo.stages.lead, "Old lead", update_time=now - timedelta(days=60))  # lead: rotting not enabled
    client.force_login(staff)

    response = client.get(board_url)

    cards = cards_of(response, "proposal")
    assert (cards["Untouched 8 days"].is_rotting, cards["Untouched 8 days"].days_in_stage) == (True, 2)
    assert (cards["Updated yesterday"].is_rotting, cards["Updated yesterday"].days_in_stage) == (False, 30)
    assert not cards_of(response, "lead")["Old lead"].is_rotting
    text = page_text(response)
    assert text.count("Rotting: no update for over 7 days") == 1
    assert "2 d in stage" in text and "30 d in stage" in text


def test_rotting_in_python_and_sql_agree(coeo):
    """Every combination of status, rotting switch, limit and age: the card's rule and the SQL the
    hygiene figures count with pick the same deals."""
    now = timezone.now()
    pipeline = coeo.pipeline
    stages = [
        make.stage(pipeline, f"Rot {enabled} {limit}", is_deal_rot_enabled=enabled, days_to_rotten=limit)
        for enabled, limit in itertools.product((True, False), (None, 0, 7))
    ]
    for stage, status, age in itertools.product(stages, (DealStatus.OPEN, DealStatus.WON), (None, 0.5, 6.9, 7.1, 30)):
        updated = None if age is None else now - timedelta(days=age)
        make.deal(stage, f"{stage.name} {status} {age}", status=status, update_time=updated)

    deals = Deal.objects.filter(integration=coeo.integration).select_related("stage")
    in_python = {
        deal.pk
        for deal in deals
        if is_rotting(
            status=deal.status,
            rot_enabled=deal.stage.is_deal_rot_enabled,
            days_to_rotten=deal.stage.days_to_rotten,
            update_time=deal.update_time,
            now=now,
        )
    }
    in_sql = set(deals.filter(rotting_q(now)).values_list("pk", flat=True))
    assert in_sql == in_python
    # Open deals in the enabled stages: with a 0-day limit every updated one, with 7 days those older.
    assert {deal.title for deal in deals.filter(pk__in=in_python)} == {
        *(f"Rot True 0 open {age}" for age in (0.5, 6.9, 7.1, 30)),
        "Rot True 7 open 7.1",
        "Rot True 7 open 30",
    }


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_board_runs_as_many_queries_however_many_activities(client, staff, coeo, board_url):
    stages = coeo.stages
    for stage in (stages.lead, stages.qualified, stages.meeting, stages.due_diligence, stages.proposal, stages.won):
        make.many_deals(stage, 30)
    client.force_login(staff)
    before = count_queries(client, board_url)

    today = timezone.localdate()
    Activity.objects.bulk_create(
        Activity(
            integration=deal.integration,
            remote_id=make.next_id(),
            subject=f"Activity {index}",
            deal=deal,
            due_date=today + timedelta(days=index - 3),
            done=index % 3 == 0,
        )
        for deal in Deal.objects.all()
        for index in range(8)
    )

    assert count_queries(client, board_url) == before
    assert page_text(client.get(board_url)).count("Overdue:") > 0
