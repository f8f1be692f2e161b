"""Cards' HTML comes from a cache keyed by what they show (dealflow/card_fragments.py): the board
is the same with a cold or a warm cache, a write shows at once, and a card is rendered from its
own values only, never from the user who first saw it."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test.utils import override_script_prefix
from django.urls import reverse
from django.utils import timezone

from dealflow import card_fragments
from dealflow.formatting import format_money
from dealflow.models import Deal
from tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    caches["board_cards"].clear()
    yield
    caches["board_cards"].clear()


def cards_html(client, url, params=None) -> str:
    response = client.get(url, params or {})
    assert response.status_code == 200
    return "".join(re.findall(r'<ol class="cards".*?</ol>', response.content.decode(), flags=re.S))


def spy_on_rendering(monkeypatch) -> list:
    rendered, render = [], card_fragments.render_to_string
    monkeypatch.setattr(card_fragments, "render_to_string", lambda *args: rendered.append(args) or render(*args))
    return rendered


def test_a_warm_cache_gives_the_same_board_as_a_cold_one(client, staff, coeo, nordic, monkeypatch):
    deal = make.deal(coeo.stages.lead, "Warm & cold", organization=coeo.acme, person=coeo.erik, owner=coeo.anna)
    make.activity(deal, "Ring Åsa")
    make.deal(coeo.stages.won, "Verbal", update_time=timezone.now() - timedelta(days=90))
    make.deal(nordic.lead, "Nordic one", currency="EUR")
    client.force_login(staff)
    for url in (reverse("dealflow:board"), reverse("dealflow:company_board", args=[coeo.company.slug])):
        for params in ({}, {"q": "o"}):
            cold = cards_html(client, url, params)
            assert "Warm &amp; cold" in cold and "Ring Åsa" in cold
            rendered = spy_on_rendering(monkeypatch)
            assert cards_html(client, url, params) == cold
            assert rendered == []  # every card came from the cache
            monkeypatch.undo()


def test_a_write_shows_at_once(client, staff, coeo):
    deal = make.deal(coeo.stages.lead, "Before the write", owner=coeo.anna)
    url = reverse("dealflow:company_board", args=[coeo.company.slug])
    client.force_login(staff)
    assert "Before the write" in cards_html(client, url)

    Deal.objects.filter(pk=deal.pk).update(title="After the write", value=4242)
    after = cards_html(client, url)
    assert "After the write" in after
    assert "Before the write" not in after
    assert format_money(Decimal(4242), "SEK") in after

    make.activity(deal, "Boka demo")
    assert "Boka demo" in cards_html(client, url)
    coeo.anna.name = "Anna Renamed"
    coeo.anna.save()
    assert "Anna Renamed" in cards_html(client, url)


def test_a_card_is_rendered_from_its_own_values_only(client, staff, viewer, coeo):
    make.deal(coeo.stages.lead, "Shared card")
    url = reverse("dealflow:company_board", args=[coeo.company.slug])
    client.force_login(staff)
    for_staff = cards_html(client, url)
    client.force_login(viewer)
    assert cards_html(client, url) == for_staff
    # What the cached template may read: nothing about the user, the request or permissions.
    card = Deal.objects.get(title="Shared card")
    assert set(card_fragments.card_context(card, all_companies=False, query="")) == {"card", "all_companies", "query"}
    for template in ("card.html", "card_activity.html"):
        source = (Path(settings.BASE_DIR) / "templates/dealflow/partials" / template).read_text()
        assert not re.search(r"\b(user|perms|request|scope|can_\w+|csrf_token)\b", source), template


def test_card_links_carry_the_script_prefix_of_their_request(client, viewer, coeo):
    """The deal paths read the script prefix once per page (DealPaths): a board served under a
    prefix links its cards under it, and the same board without one does not."""
    deal = make.deal(coeo.stages.lead, "Prefixed")
    client.force_login(viewer)
    url = reverse("dealflow:company_board", args=[coeo.company.slug])
    path = reverse("dealflow:deal", args=[coeo.company.slug, deal.remote_id])

    with override_script_prefix("/studio/"):
        prefixed = client.get(url).content.decode()
    plain = client.get(url).content.decode()

    assert f'href="/studio{path}"' in prefixed
    assert f'href="{path}"' in plain and f'href="/studio{path}"' not in plain
