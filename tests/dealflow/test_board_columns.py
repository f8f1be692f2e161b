"""Which deals land in which column, the hidden summary and the won period."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dealflow.models import DealStatus
from tests import factories as make
from tests.dealflow.helpers import board_titles, page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def board_url(coeo):
    return reverse("dealflow:company_board", args=[coeo.company.slug])


def test_column_assignment(client, staff, coeo, board_url):
    stages = coeo.stages
    make.deal(stages.lead, "Open lead")
    make.deal(stages.proposal, "Open proposal")
    make.deal(stages.lead, "Won from lead", status=DealStatus.WON, won_time=timezone.now())
    make.deal(stages.won, "Verbal yes")
    make.deal(stages.nej_tack, "Said no")
    make.deal(stages.unmapped, "In unmapped stage")
    make.deal(stages.no_mapping, "In stage without mapping")
    make.deal(stages.lead, "Lost one", status=DealStatus.LOST)
    make.deal(stages.lead, "Deleted one", status=DealStatus.DELETED)
    make.deal(stages.lead, "Archived one", is_archived=True)
    make.deal(stages.won, "Archived winner", status=DealStatus.WON, is_archived=True)
    client.force_login(staff)

    response = client.get(board_url)

    assert response.status_code == 200
    assert board_titles(response) == {
        "lead": ["Open lead"],
        "qualified": [],
        "meeting": [],
        "due_diligence": [],
        "proposal": ["Open proposal"],
        "closed_won": ["Won from lead", "Verbal yes"],
        "unmapped": ["In stage without mapping", "In unmapped stage"],  # most recently updated first
    }
    html = response.content.decode()
    for hidden in ("Said no", "Lost one", "Deleted one", "Archived one", "Archived winner"):
        assert hidden not in html
    assert "Hidden: 1 deal (Nej tack 1)" in page_text(response)
    # Staff get a link to the integration's mapping.
    assert reverse("admin:integrations_integration_change", args=[coeo.integration.pk]) in html


def test_unmapped_column_only_when_it_has_deals(client, staff, coeo, board_url):
    make.deal(coeo.stages.lead, "Open lead")
    client.force_login(staff)

    response = client.get(board_url)

    assert list(board_titles(response)) == ["lead", "qualified", "meeting", "due_diligence", "proposal", "closed_won"]
    assert [c.label for c in response.context["columns"]] == [
        "Lead",
        "Qualified",
        "Meeting",
        "Due Diligence",
        "Proposal",
        "Closed Won",
    ]


def test_mapping_link_is_for_staff_only(client, viewer, coeo, board_url):
    make.deal(coeo.stages.no_mapping, "In stage without mapping")
    client.force_login(viewer)

    html = client.get(board_url).content.decode()

    assert "In stage without mapping" in html
    assert reverse("admin:integrations_integration_change", args=[coeo.integration.pk]) not in html


def test_hidden_summary_counts_per_excluded_stage(client, staff, coeo, board_url):
    make.many_deals(coeo.stages.nej_tack, 21)
    make.many_deals(coeo.stages.inte_nu, 12)
    client.force_login(staff)

    text = page_text(client.get(board_url))

    assert "Hidden: 33 deals (Nej tack 21 · Inte nu 12)" in text


def test_rotting_and_days_in_stage(client, staff, coeo, board_url):
    now = timezone.now()
    make.deal(
        coeo.stages.proposal,
        "Stale offer",
        stage_change_time=now - timedelta(days=9),
        update_time=now - timedelta(days=9),
    )
    make.deal(coeo.stages.proposal, "Fresh offer", stage_change_time=now - timedelta(days=2))
    client.force_login(staff)

    response = client.get(board_url)

    cards = {card.title: card for card in response.context["columns"][4].cards}
    assert (cards["Stale offer"].days_in_stage, cards["Stale offer"].is_rotting) == (9, True)
    assert (cards["Fresh offer"].days_in_stage, cards["Fresh offer"].is_rotting) == (2, False)
    # The rot rule is on the card as text, not only in a hover tooltip.
    assert page_text(response).count("Rotting: no update for over 7 days") == 1


class TestWonPeriod:
    @pytest.fixture
    def winners(self, coeo):
        now = timezone.now()
        make.deal(coeo.stages.lead, "Won last week", status=DealStatus.WON, won_time=now - timedelta(days=7))
        make.deal(coeo.stages.lead, "Won 60 days ago", status=DealStatus.WON, won_time=now - timedelta(days=60))
        make.deal(coeo.stages.lead, "Won 400 days ago", status=DealStatus.WON, won_time=now - timedelta(days=400))
        make.deal(coeo.stages.won, "Verbal yes long ago", stage_change_time=now - timedelta(days=500))

    def test_default_is_the_last_12_months(self, client, staff, winners, board_url):
        client.force_login(staff)

        response = client.get(board_url)

        # The period is about won deals: an open deal in a Closed Won stage never vanishes.
        assert board_titles(response)["closed_won"] == ["Won last week", "Won 60 days ago", "Verbal yes long ago"]
        assert response.context["columns"][5].count == 3

    def test_the_user_can_change_it(self, client, staff, winners, board_url):
        client.force_login(staff)

        assert board_titles(client.get(board_url, {"won": "30"}))["closed_won"] == [
            "Won last week",
            "Verbal yes long ago",
        ]
        assert board_titles(client.get(board_url, {"won": "all"}))["closed_won"] == [
            "Won last week",
            "Won 60 days ago",
            "Won 400 days ago",
            "Verbal yes long ago",
        ]

    def test_the_period_leaves_open_columns_alone(self, client, staff, coeo, board_url):
        make.deal(coeo.stages.lead, "Old open lead", update_time=timezone.now() - timedelta(days=900))
        client.force_login(staff)

        assert board_titles(client.get(board_url, {"won": "30"}))["lead"] == ["Old open lead"]


def test_cards_link_to_their_deal_pages(client, staff, coeo, nordic):
    ours = make.deal(coeo.stages.lead, "Coeo lead", organization=coeo.acme, person=coeo.erik, owner=coeo.anna)
    theirs = make.deal(nordic.lead, "Nordic lead", value=1234, currency="EUR")
    client.force_login(staff)

    lead = client.get(reverse("dealflow:board")).context["columns"][0]

    cards = {card.title: card for card in lead.cards}
    assert cards["Coeo lead"].url == reverse("dealflow:deal", args=[coeo.company.slug, ours.remote_id])
    assert cards["Nordic lead"].url == reverse("dealflow:deal", args=[nordic.company.slug, theirs.remote_id])
    assert (cards["Coeo lead"].organization_name, cards["Coeo lead"].person_name) == ("Acme AB", "Erik Eriksson")
    assert (cards["Coeo lead"].owner_name, cards["Nordic lead"].owner_name) == ("Anna Andersson", None)
    assert (cards["Coeo lead"].company_name, cards["Nordic lead"].value_text) == ("Coeo", "€1,234")
