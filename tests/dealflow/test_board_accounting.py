"""Every open or won deal the filters allow is in exactly one place on the board or counted under it
(issue 9, item 3), and open deals in a Closed Won stage are told apart from won ones."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealflow.models import Deal, DealStatus
from tests import factories as make
from tests.dealflow.helpers import column, page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_board(coeo, nordic):
    """Deals of every status in every kind of stage, with win and stage dates spread over three years."""
    rng = random.Random(9)
    now = timezone.now()
    stages = [*vars(coeo.stages).values(), nordic.lead]
    statuses = [DealStatus.OPEN, DealStatus.OPEN, DealStatus.WON, DealStatus.LOST, DealStatus.DELETED]
    for index in range(300):
        status = rng.choice(statuses)
        moved = now - timedelta(days=rng.randint(0, 1100))
        make.deal(
            rng.choice(stages),
            f"Deal {index}",
            value=rng.randint(0, 500) * 100,
            currency=rng.choice(["SEK", "EUR"]),
            status=status,
            is_archived=rng.random() < 0.1,
            stage_change_time=moved,
            won_time=moved if status == DealStatus.WON else None,
        )


def expected_count(won_days):
    deals = Deal.objects.filter(is_archived=False).filter(
        Q(status=DealStatus.OPEN) | Q(status=DealStatus.WON, won_time__gte=timezone.now() - timedelta(days=won_days))
        if won_days
        else Q(status__in=[DealStatus.OPEN, DealStatus.WON])
    )
    return deals.count()


@pytest.mark.parametrize("won, won_days", [(None, 365), ("30", 30), ("730", 730), ("all", None)])
def test_columns_plus_hidden_account_for_every_deal_in_the_database(client, staff, mixed_board, won, won_days):
    client.force_login(staff)

    response = client.get(reverse("dealflow:board"), {"won": won} if won else {})

    on_board = sum(column.count for column in response.context["columns"])
    hidden = response.context["hidden"].count
    assert on_board + hidden == expected_count(won_days)
    # Open deals in the Closed Won stage are all there, whatever the won period.
    open_in_won_stage = Deal.objects.filter(
        status=DealStatus.OPEN, is_archived=False, stage__mapping__target="closed_won"
    )
    assert column(response, "closed_won").verbal_count == open_in_won_stage.count() > 0


def test_a_verbal_yes_is_marked_on_its_card_and_counted_apart(client, staff, coeo):
    make.deal(coeo.stages.won, "Verbal yes", value=300000, stage_change_time=timezone.now() - timedelta(days=600))
    make.deal(coeo.stages.lead, "Won for real", value=100000, status=DealStatus.WON, won_time=timezone.now())
    client.force_login(staff)

    response = client.get(reverse("dealflow:company_board", args=[coeo.company.slug]))

    won = column(response, "closed_won")
    cards = {card.title: card for card in won.cards}
    assert (cards["Verbal yes"].is_verbal, cards["Won for real"].is_verbal) == (True, False)
    assert won.count == 2 and won.verbal_count == 1
    assert [(total.count, total.value) for total in won.verbal_totals] == [(1, Decimal(300000))]
    text = page_text(response)
    assert text.count("Verbal yes, not won in Pipedrive") == 1
    assert "incl. 1 verbal yes: SEK 300,000 (open in Pipedrive, not won)" in text


def test_hidden_summary_names_companies_and_opens_the_list_of_hidden_deals(client, staff, coeo, nordic):
    make.deal(coeo.stages.nej_tack, "Said no")
    make.many_deals(coeo.stages.inte_nu, 30)
    make.deal(coeo.stages.lead, "Open lead")
    client.force_login(staff)

    board = client.get(reverse("dealflow:board"))

    assert "Hidden: 31 deals (Coeo: Inte nu 30 · Nej tack 1)" in page_text(board)
    list_url = reverse("dealflow:column", args=["excluded"])
    assert f'hx-get="{list_url}"' in board.content.decode()

    first_page = client.get(list_url, headers={"HX-Request": "true"})
    assert first_page.status_code == 200
    titles = page_text(first_page)
    assert titles.count("Bulk deal") == 25 and "Open lead" not in titles
    assert "Load more" in titles  # 31 hidden deals: a second page
    second = page_text(client.get(list_url, {"offset": 25}))
    assert second.count("Bulk deal") == 5 and "Said no" in second


def test_unmapped_summary_at_the_top_names_the_companies(client, staff, coeo):
    make.deal(coeo.stages.no_mapping, "Waiting")
    client.force_login(staff)

    text = page_text(client.get(reverse("dealflow:company_board", args=[coeo.company.slug])))

    assert "Unmapped: 1 deal in stages staff have not mapped yet ( Coeo )" in text  # ( <a>Coeo</a> )
    assert text.index("Unmapped: 1 deal") < text.index("Waiting")  # above the columns


def test_the_unmapped_summary_names_its_companies_without_a_query_of_its_own(client, staff, coeo, nordic):
    """The companies come from the board's stage map, in name order, each linked to its integration's admin page."""
    make.deal(coeo.stages.lead, "Mapped")
    nordic_unmapped = make.stage(nordic.pipeline, "Nordic new stage", mapped=False)
    client.force_login(staff)
    url = reverse("dealflow:board")
    client.get(url)
    with CaptureQueriesContext(connection) as without_unmapped:
        client.get(url)
    make.deal(coeo.stages.no_mapping, "Waiting")
    make.deal(nordic_unmapped, "Also waiting")
    with CaptureQueriesContext(connection) as with_unmapped:
        html = client.get(url).content.decode()

    assert len(with_unmapped) == len(without_unmapped)
    coeo_admin, nordic_admin = (
        reverse("admin:integrations_integration_change", args=[i.pk]) + "#stage_mappings-group"
        for i in (coeo.integration, nordic.integration)
    )
    assert f'<a href="{coeo_admin}">Coeo</a>, <a href="{nordic_admin}">Nordic Tools</a>' in html


def test_cards_show_the_stage_and_do_not_repeat_the_organization_in_the_title(client, staff, coeo):
    make.deal(coeo.stages.lead, "Acme AB – Licens", organization=coeo.acme, owner=coeo.anna)
    make.deal(coeo.stages.lead, "Pilot", organization=coeo.acme, owner=coeo.anna)
    client.force_login(staff)

    response = client.get(reverse("dealflow:company_board", args=[coeo.company.slug]))

    cards = {card.title: card for card in column(response, "lead").cards}
    assert cards["Acme AB – Licens"].organization_name is None
    assert cards["Pilot"].organization_name == "Acme AB"
    assert cards["Pilot"].stage_name == "Lead - ännu ej kontaktade"
