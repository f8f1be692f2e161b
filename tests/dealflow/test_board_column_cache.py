"""Board columns' sections (header, first page of cards, load more) come from a cache keyed by
their header's and cards' keys and what the section's markup reads (dealflow/card_fragments.py):
the same HTML as the column template included in the page, cold or warm, and a write, a user who
may not add deals, another language or another filter never gets another page's column."""

import re
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from dealflow import views
from dealflow.access import BoardScope
from dealflow.models import Deal
from tests import factories as make

pytestmark = pytest.mark.django_db

COLUMN_TEMPLATE = "dealflow/partials/column.html"


@pytest.fixture(autouse=True)
def empty_cache():
    caches["board_cards"].clear()
    yield
    caches["board_cards"].clear()


@pytest.fixture
def deals(coeo, nordic):
    deal = make.deal(coeo.stages.lead, "Warm & cold", organization=coeo.acme, person=coeo.erik, owner=coeo.anna)
    make.activity(deal, "Ring Åsa")
    make.deal(coeo.stages.won, "Verbal", update_time=timezone.now() - timedelta(days=90))
    make.deal(coeo.stages.lead, "Won one", status="won", won_time=timezone.now() - timedelta(days=3))
    make.many_deals(coeo.stages.meeting, 30)  # more than a page: load more
    make.deal(nordic.lead, "Nordic one", currency="EUR")
    return deal


def columns_html(client, url, params=None) -> str:
    response = client.get(url, params or {})
    assert response.status_code == 200
    return "".join(re.findall(r'<section id="column-.*?</section>', response.content.decode(), flags=re.S))


def column_renders(response) -> int:
    return sum(template.name == COLUMN_TEMPLATE for template in response.templates)


def region(user, path, slug, source: str) -> str:
    """The board's columns rendered by `source` in the board view's own context."""
    request = RequestFactory().get(path)
    request.user, request.htmx = user, HtmxDetails(request)
    context = views.board_context(request, BoardScope.for_request(request, slug))
    return Template("{% load board_cards %}" + source).render(Context({**context, "request": request}))


@pytest.mark.parametrize("slug", [None, "coeo"])
def test_the_cached_columns_are_the_included_template(staff, coeo, deals, slug):
    path = reverse("dealflow:company_board", args=[slug]) if slug else reverse("dealflow:board")
    included = region(
        staff, path, slug, f'{{% for column in columns %}}{{% include "{COLUMN_TEMPLATE}" %}}{{% endfor %}}'
    )
    cached = "{% for column in columns %}{% board_column column %}{% endfor %}"

    cold = region(staff, path, slug, cached)
    warm = region(staff, path, slug, cached)

    assert "Warm &amp; cold" in included and "Load more" in included
    assert cold == included
    assert warm == included


def test_a_warm_board_renders_no_column_template(client, staff, coeo, deals):
    client.force_login(staff)
    for url in (reverse("dealflow:board"), reverse("dealflow:company_board", args=[coeo.company.slug])):
        for params in ({}, {"q": "o"}, {"owner": coeo.anna.pk}):
            cold = client.get(url, params)
            assert column_renders(cold) > 0
            warm = client.get(url, params)
            assert column_renders(warm) == 0, (url, params)
            assert warm.content.decode().count("</section>") == cold.content.decode().count("</section>")
            assert columns_html(client, url, params) == "".join(
                re.findall(r'<section id="column-.*?</section>', cold.content.decode(), flags=re.S)
            )


def test_every_kind_of_change_shows_at_once(client, staff, coeo, deals):
    url = reverse("dealflow:company_board", args=[coeo.company.slug])
    client.force_login(staff)
    assert "Warm &amp; cold" in columns_html(client, url)

    Deal.objects.filter(pk=deals.pk).update(title="Renamed deal")  # a sync, webhook or write-back
    assert "Renamed deal" in columns_html(client, url)

    make.deal(coeo.stages.lead, "Brand new")  # the header's count and totals change too
    html = columns_html(client, url)
    assert "Brand new" in html
    assert re.search(
        r'id="column-lead-title">\s*Lead\s*<span class="count"><span class="visually-hidden">:</span> 2<', html
    )

    Deal.objects.filter(pk=deals.pk).update(stage_change_time=timezone.now() - timedelta(days=40))
    assert "40 d in stage" in columns_html(client, url)

    make.activity(deals, "Skicka offert", due_date=timezone.localdate() - timedelta(days=2))
    assert "Skicka offert" in columns_html(client, url)


def test_columns_are_not_shared_across_users_languages_or_filters(client, staff, viewer, coeo, deals):
    url = reverse("dealflow:company_board", args=[coeo.company.slug])
    client.force_login(staff)
    for_staff = columns_html(client, url)
    assert 'class="column-add"' in for_staff  # staff may add deals: the "+"

    client.force_login(viewer)
    for_viewer = columns_html(client, url)
    assert 'class="column-add"' not in for_viewer

    english = columns_html(client, url)
    swedish = client.get(url, headers={"Accept-Language": "sv"}).content.decode()
    assert "Load more" in english
    assert "Visa fler" in swedish and "Load more" not in swedish

    filtered = columns_html(client, url, {"won": "all", "q": "a"})
    assert "won=all" in filtered  # the load-more and card links carry the page's filters
    assert "won=all" not in columns_html(client, url)
