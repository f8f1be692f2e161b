"""Column headers' HTML comes from a cache keyed by what they show (dealflow/card_fragments.py),
like the cards: the same board cold or warm, every kind of write shows at once, and the "+" for a
new deal (staff and editors only) is never served to someone who may not add deals."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from dealflow import card_fragments
from dealflow.formatting import format_money
from dealflow.fx import SOURCE_DAILY, store_rates
from dealflow.models import Deal, StageMapping
from dealflow.stages import MappingTarget
from tests import factories as make
from tests.dealflow.test_board_card_cache import spy_on_rendering

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    caches["board_cards"].clear()
    yield
    caches["board_cards"].clear()


def headers(client, url) -> dict[str, str]:
    """{column key: its header's HTML}"""
    response = client.get(url)
    assert response.status_code == 200
    found = re.findall(
        r'<section id="column-([\w-]+)".*?(<header class="column-header">.*?</header>)',
        response.content.decode(),
        flags=re.S,
    )
    return dict(found)


def test_a_warm_cache_gives_the_same_headers_as_a_cold_one(client, staff, coeo, nordic, monkeypatch):
    make.deal(coeo.stages.lead, "Lead one", value=1500)
    make.deal(coeo.stages.won, "Verbal", value=700)
    make.deal(nordic.lead, "Nordic one", currency="EUR", value=900)
    client.force_login(staff)
    for url in (reverse("dealflow:board"), reverse("dealflow:company_board", args=[coeo.company.slug])):
        cold = headers(client, url)
        assert format_money(Decimal(1500), "SEK") in cold["lead"]
        rendered = spy_on_rendering(monkeypatch)
        assert headers(client, url) == cold
        assert [args[0] for args in rendered if args[0] == card_fragments.HEADER_TEMPLATE] == []
        monkeypatch.undo()


def test_a_deal_write_shows_in_the_header_at_once(client, staff, coeo):
    deal = make.deal(coeo.stages.lead, "Lead one", value=1500)
    url = reverse("dealflow:company_board", args=[coeo.company.slug])
    client.force_login(staff)
    assert format_money(Decimal(1500), "SEK") in headers(client, url)["lead"]

    deal.value = 4242  # a save, as the admin and the sync's writes do: the totals' triggers run
    deal.save()
    assert format_money(Decimal(4242), "SEK") in headers(client, url)["lead"]

    Deal.objects.filter(pk=deal.pk).update(stage=coeo.stages.meeting)  # a set-based write
    after = headers(client, url)
    assert "No deals" in after["lead"] or "totals--empty" in after["lead"]
    assert format_money(Decimal(4242), "SEK") in after["meeting"]


def test_a_stage_mapping_change_shows_in_the_header_at_once(client, staff, coeo):
    make.deal(coeo.stages.unmapped, "Waiting", value=3100)
    url = reverse("dealflow:company_board", args=[coeo.company.slug])
    client.force_login(staff)
    assert format_money(Decimal(3100), "SEK") not in headers(client, url)["proposal"]

    StageMapping.objects.filter(stage=coeo.stages.unmapped).update(target=MappingTarget.PROPOSAL)
    assert format_money(Decimal(3100), "SEK") in headers(client, url)["proposal"]


def test_new_fx_rates_show_in_the_header_at_once(client, staff, coeo, nordic, settings):
    settings.REPORTING_CURRENCY = "SEK"
    make.deal(coeo.stages.lead, "Swedish", value=1000)
    make.deal(nordic.lead, "Euro", currency="EUR", value=1000)
    url = reverse("dealflow:board")
    client.force_login(staff)
    before = headers(client, url)["lead"]
    assert "total-converted" in before

    tomorrow = timezone.localdate() + timedelta(days=1)
    store_rates([(tomorrow, "SEK", Decimal("1.5"))], source=SOURCE_DAILY)  # 1 EUR = 1.5 SEK
    after = headers(client, url)["lead"]
    assert after != before
    assert format_money(Decimal(2500), "SEK") in after  # 1000 SEK + 1000 EUR at 1.5


def test_the_new_deal_button_is_never_served_to_a_viewer(client, staff, viewer, coeo):
    make.deal(coeo.stages.lead, "Lead one")
    url = reverse("dealflow:company_board", args=[coeo.company.slug])
    client.force_login(staff)
    assert "column-add" in headers(client, url)["lead"]  # staff may add deals: cached with the "+"
    client.force_login(viewer)
    for_viewer = headers(client, url)
    assert for_viewer  # the same column, with the cache warm
    assert all("column-add" not in html for html in for_viewer.values())
    client.force_login(staff)
    assert "column-add" in headers(client, url)["lead"]
