"""Column totals (per currency, whole column), filters and load more."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dealflow.models import DealStatus
from dealflow.selectors import BoardFilters, CurrencyTotal, board_columns, column_cards, stage_map
from tests import factories as make
from tests.dealflow.helpers import board_titles, column

pytestmark = pytest.mark.django_db


def test_totals_are_per_currency_over_the_whole_column(client, staff, coeo):
    make.many_deals(coeo.stages.lead, 30, value=1000, currency="SEK")  # probability 10 %
    make.many_deals(coeo.stages.lead, 2, value=500, currency="EUR")
    make.deal(coeo.stages.won, "Verbal yes", value=2773065, currency="SEK")
    make.deal(coeo.stages.lead, "Won outright", value=1000, currency="SEK", status=DealStatus.WON)
    client.force_login(staff)

    response = client.get(reverse("dealflow:company_board", args=[coeo.company.slug]))

    lead = column(response, "lead")
    assert lead.count == 32
    assert len(lead.cards) == 25 and lead.has_more
    assert lead.totals == [
        CurrencyTotal("EUR", 2, Decimal("1000"), Decimal("100")),
        CurrencyTotal("SEK", 30, Decimal("30000"), Decimal("3000")),
    ]
    won = column(response, "closed_won")
    assert won.totals == [CurrencyTotal("SEK", 2, Decimal("2774065"), Decimal("2774065"))]
    html = response.content.decode()
    assert "SEK\u00a030,000" in html and "SEK\u00a03,000" in html  # English (see test_formatting for Swedish)
    assert "€1,000" in html and "€100" in html
    assert "SEK\u00a02,774,065" in html


def test_weighted_value_keeps_fractions(client, staff, coeo):
    make.deal(coeo.stages.qualified, "Small", value=15, currency="SEK")  # 25 % of 15 = 3.75
    make.deal(coeo.stages.qualified, "Smaller", value=1, currency="SEK")  # 0.25
    client.force_login(staff)

    response = client.get(reverse("dealflow:company_board", args=[coeo.company.slug]))

    assert column(response, "qualified").totals[0].weighted_value == Decimal("4")


def test_load_more_continues_the_column(client, staff, coeo):
    make.many_deals(coeo.stages.meeting, 30)
    client.force_login(staff)
    url = reverse("dealflow:company_column", args=[coeo.company.slug, "meeting"])

    first_page = board_titles(client.get(reverse("dealflow:company_board", args=[coeo.company.slug])))["meeting"]
    response = client.get(url, {"offset": 25}, headers={"HX-Request": "true"})

    more = [card.title for card in response.context["column"]["cards"]]
    assert len(more) == 5 and not set(more) & set(first_page)
    assert "Load more" not in response.content.decode()
    assert "Load more" in client.get(url, {"offset": 0}).content.decode()


def test_load_more_keeps_the_filters(client, staff, coeo):
    make.many_deals(coeo.stages.meeting, 30)
    make.deal(coeo.stages.meeting, "Needle")
    client.force_login(staff)
    url = reverse("dealflow:company_column", args=[coeo.company.slug, "meeting"])

    response = client.get(url, {"offset": 0, "q": "needle"})

    assert [card.title for card in response.context["column"]["cards"]] == ["Needle"]


def test_unknown_column_is_404(client, staff, coeo):
    client.force_login(staff)

    assert client.get(reverse("dealflow:company_column", args=[coeo.company.slug, "nonsense"])).status_code == 404


class TestFilters:
    @pytest.fixture
    def deals(self, coeo):
        other_pipeline = make.pipeline(coeo.integration, "Partners")
        partner_lead = make.stage(other_pipeline, "Partner lead", "lead")
        make.deal(coeo.stages.lead, "Website rebuild", owner=coeo.anna)
        make.deal(coeo.stages.lead, "Cloud migration", organization=coeo.acme, owner=coeo.bertil)
        make.deal(coeo.stages.lead, "Support deal", person=coeo.erik, owner=coeo.anna)
        make.deal(partner_lead, "Reseller agreement", owner=coeo.bertil)
        return other_pipeline

    @pytest.fixture
    def get_lead(self, client, staff, coeo):
        client.force_login(staff)
        url = reverse("dealflow:company_board", args=[coeo.company.slug])
        return lambda **params: sorted(board_titles(client.get(url, params))["lead"])

    def test_search_matches_title_organization_and_person(self, deals, get_lead):
        assert get_lead(q="rebuild") == ["Website rebuild"]
        assert get_lead(q="acme") == ["Cloud migration"]
        assert get_lead(q="ERIKSSON") == ["Support deal"]
        assert get_lead(q="nothing like it") == []

    def test_owner(self, deals, get_lead, coeo):
        assert get_lead(owner=coeo.anna.pk) == ["Support deal", "Website rebuild"]

    def test_pipeline(self, deals, get_lead, coeo):
        assert get_lead(pipeline=deals.pk) == ["Reseller agreement"]
        assert get_lead(pipeline=coeo.pipeline.pk) == ["Cloud migration", "Support deal", "Website rebuild"]

    def test_owner_of_a_company_out_of_scope_is_ignored(self, deals, get_lead, nordic):
        stranger = make.owner(nordic.integration, "Stranger")
        assert len(get_lead(owner=stranger.pk)) == 4

    def test_totals_follow_the_filters(self, client, staff, coeo, deals):
        client.force_login(staff)

        response = client.get(reverse("dealflow:company_board", args=[coeo.company.slug]), {"q": "acme"})

        assert column(response, "lead").count == 1

    def test_htmx_filter_request_renders_only_the_board(self, client, staff, coeo, deals):
        client.force_login(staff)

        response = client.get(
            reverse("dealflow:company_board", args=[coeo.company.slug]),
            {"q": "acme"},
            headers={"HX-Request": "true", "HX-Target": "board-region"},
        )

        html = response.content.decode()
        assert 'id="board-region"' in html and "Cloud migration" in html
        assert "<html" not in html


def test_all_companies_board_spans_companies_and_keeps_currencies_apart(client, staff, coeo, nordic):
    make.deal(coeo.stages.lead, "Swedish lead", value=100, currency="SEK")
    make.deal(nordic.lead, "Finnish lead", value=100, currency="EUR")
    client.force_login(staff)

    response = client.get(reverse("dealflow:board"))

    lead = column(response, "lead")
    assert sorted(card.title for card in lead.cards) == ["Finnish lead", "Swedish lead"]
    assert [(total.currency, total.value) for total in lead.totals] == [("EUR", 100), ("SEK", 100)]
    html = response.content.decode()
    assert "Coeo" in html and "Nordic Tools" in html


def test_a_searched_board_shows_the_same_first_pages_as_each_column_would(coeo, nordic):
    """With a text search the first pages come from one windowed query: same cards, same order."""
    now = timezone.now()
    stages = coeo.stages
    for index in range(30):
        make.deal(stages.lead, f"Match lead {index}", update_time=now - timedelta(hours=index % 7, minutes=index))
    for index in range(27):
        won_time = now - timedelta(days=index % 5) if index % 3 else None
        make.deal(stages.qualified, f"Match won {index}", status=DealStatus.WON, won_time=won_time)
    make.deal(stages.won, "Match verbal yes", stage_change_time=now - timedelta(days=2))
    make.deal(stages.won, "Match verbal yes, long ago", stage_change_time=now - timedelta(days=900))
    make.deal(stages.nej_tack, "Match said no")
    make.deal(stages.no_mapping, "Match unmapped", organization=coeo.acme)
    make.deal(stages.meeting, "Acme meeting", organization=coeo.acme)
    make.deal(stages.meeting, "Erik's meeting", person=coeo.erik)
    make.deal(nordic.lead, "Match in Finland", currency="EUR")
    make.deal(stages.proposal, "Not this one")
    companies = [coeo.company, nordic.company]

    for q in ("match", "acme", "erik"):
        filters = BoardFilters(q=q, won_since=now - timedelta(days=365))
        board = board_columns(companies=companies, filters=filters, now=now)
        stage_map_ = stage_map(companies)
        for shown in board.columns:
            expected = column_cards(stages=stage_map_, filters=filters, column=shown.key, now=now)
            assert (shown.cards, shown.has_more) == expected, (q, shown.key)
    lead = next(shown for shown in board_columns(companies=companies, filters=BoardFilters(q="match")).columns)
    assert len(lead.cards) == 25 and lead.has_more


@pytest.mark.parametrize("offset", ["99999999999999999999", "-5", "not-a-number"])
def test_load_more_survives_absurd_offsets(client, staff, coeo, offset):
    make.deal(coeo.stages.lead, "Only lead")
    client.force_login(staff)
    url = reverse("dealflow:company_column", args=[coeo.company.slug, "lead"])

    response = client.get(url, {"offset": offset}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    titles = [card.title for card in response.context["column"]["cards"]]
    assert titles == ([] if offset.isdigit() else ["Only lead"])


def test_filters_and_load_more_show_that_they_are_loading(client, staff, coeo):
    make.many_deals(coeo.stages.lead, 30)
    client.force_login(staff)

    html = client.get(reverse("dealflow:company_board", args=[coeo.company.slug])).content.decode()

    assert 'hx-indicator="#filters-loading"' in html and 'id="filters-loading"' in html and "Loading…" in html
    load_more = html[html.index('<li class="load-more">') :]
    assert 'hx-indicator="closest li"' in load_more and 'class="spinner htmx-indicator"' in load_more
    assert html.count('data-busy-target="') == 2  # the filter form and Lead's Load more
