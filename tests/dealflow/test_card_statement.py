"""A page of cards is one statement: the deals' details and each one's next undone activity
(dealflow/selectors.pages_of, dealflow/activities.with_next_activity), its moments read as text.
Runs on SQLite and PostgreSQL."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealflow.activities import NextActivity
from dealflow.models import Activity, Deal
from dealflow.selectors import BoardFilters, card_query, column_cards, moment, stage_map
from tests import factories as make

from .helpers import column

pytestmark = pytest.mark.django_db


def statements_of(client, url, headers=None) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, headers=headers).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("page", ["all", "company", "load more", "searched load more"])
def test_cards_and_their_next_activities_are_one_statement(client, staff, coeo, nordic, page):
    # A statement of their own cost a round trip on every board and load more (PostgreSQL: ~0.3 ms).
    deals = [make.deal(coeo.stages.lead, f"Deal {number}") for number in range(30)]
    make.activity(deals[-1], "Call back", due_date=timezone.localdate() + timedelta(days=2))
    make.deal(nordic.lead, "Nordic deal")
    client.force_login(staff)
    slug = coeo.company.slug
    url = {
        "all": reverse("dealflow:board"),
        "company": reverse("dealflow:company_board", args=[slug]),
        "load more": reverse("dealflow:company_column", args=[slug, "lead"]) + "?offset=25",
        "searched load more": reverse("dealflow:company_column", args=[slug, "lead"]) + "?offset=0&q=deal",
    }[page]

    sent = statements_of(client, url, {"HX-Request": "true"} if "load more" in page else None)

    cards = [sql for sql in sent if '"dealflow_deal"."title" AS "title"' in sql]
    activities = [sql for sql in sent if "dealflow_activity" in sql]
    assert len(cards) == 1 and activities == cards, sent


def test_each_card_shows_its_next_undone_activity_the_next_first(coeo):
    today = timezone.localdate()
    planned, timed, done_only, bare = (make.deal(coeo.stages.lead, title) for title in ("P", "T", "D", "B"))
    make.activity(planned, "Later", due_date=today + timedelta(days=5))
    Activity.objects.filter(pk=make.activity(planned, "Undated").pk).update(due_date=None)  # undated ones last
    make.activity(planned, "Sooner, timed", due_date=today + timedelta(days=2), due_time=time(9, 30))
    make.activity(planned, "Sooner, untimed, higher id", due_date=today + timedelta(days=2))
    make.activity(planned, "Done sooner", due_date=today, done=True)
    make.activity(timed, "Yesterday, late", due_date=today - timedelta(days=1), due_time=time(23, 0))
    make.activity(timed, "Later day", due_date=today)
    make.activity(done_only, "Done", due_date=today, done=True)
    now = timezone.now()

    cards, _ = column_cards(stages=stage_map([coeo.company]), filters=BoardFilters(), column="lead", now=now)

    shown = {card.title: card.next_activity for card in cards}
    assert shown["P"].subject == "Sooner, untimed, higher id" and shown["P"].is_overdue is False
    assert shown["T"] == NextActivity("Yesterday, late", shown["T"].due_text, is_overdue=True) and shown["T"].due_text
    assert shown["D"] is None and shown["B"] is None


def test_the_cards_moments_read_as_text_are_the_moments_django_loads(coeo):
    moments = [
        datetime(2026, 11, 26, 9, 15, 0, tzinfo=UTC),
        datetime(2026, 11, 26, 9, 15, 0, 500, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    for number, at in enumerate(moments):
        make.deal(
            coeo.stages.lead, f"At {number}", add_time=at, update_time=at - timedelta(hours=3), stage_change_time=at
        )
    make.deal(coeo.stages.lead, "No stage change", stage_change_time=None, update_time=None)
    ids = tuple(Deal.objects.values_list("id", flat=True))

    read = {
        row[0]: tuple(moment(text) for text in (row[6], row[7], row[9])) for row in card_query(ids)
    }  # add_time, stage_change_time, update_time, as card_query orders them

    loaded = {
        pk: tuple(moments)
        for pk, *moments in Deal.objects.values_list("id", "add_time", "stage_change_time", "update_time")
    }
    assert read == loaded
    assert all(value is None or value.utcoffset() == timedelta(0) for values in read.values() for value in values)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's timestamptz loader")
def test_on_postgresql_no_column_of_the_cards_statement_is_a_timestamptz(coeo):
    # Django loads a timestamptz through psycopg's Python parser: a board's 180 cards' three moments
    # took longer to load than the rest of their rows. Read as text, they are parsed in C.
    deal = make.deal(coeo.stages.lead, "A deal")
    sql, params = card_query((deal.pk,)).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        types = [description.type_code for description in cursor.description]
    timestamptz = connection.connection.adapters.types["timestamptz"].oid
    assert types and timestamptz not in types


def test_a_board_card_shows_the_days_and_rot_its_moments_give(client, staff, coeo):
    now = timezone.now()
    make.deal(
        coeo.stages.proposal,
        "Rotting",
        update_time=now - timedelta(days=30),
        stage_change_time=now - timedelta(days=4, hours=1),
    )
    make.deal(
        coeo.stages.proposal,
        "Fresh",
        update_time=now - timedelta(days=1),
        stage_change_time=None,
        add_time=now - timedelta(days=9),
    )
    client.force_login(staff)

    response = client.get(reverse("dealflow:company_board", args=[coeo.company.slug]))

    cards = {card.title: card for card in column(response, "proposal").cards}
    assert (cards["Rotting"].days_in_stage, cards["Rotting"].rot_limit) == (4, 7)
    assert (cards["Fresh"].days_in_stage, cards["Fresh"].rot_limit) == (9, None)
