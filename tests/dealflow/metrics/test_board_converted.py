"""The board's column headers: the converted total above the per-currency lines."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from dealflow.models import FxRate
from tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates():
    FxRate.objects.all().delete()
    FxRate.objects.create(date=date(2026, 11, 2), currency="SEK", rate=Decimal("11"), source="test")


def lead_header(client, slug=None) -> str:
    url = reverse("dealflow:company_board", args=[slug]) if slug else reverse("dealflow:board")
    html = client.get(url).content.decode()
    start = html.index('id="column-lead"')
    return html[start : html.index("</header>", start)]


def test_a_column_in_several_currencies_shows_their_converted_total_first(client, staff, coeo, rates):
    make.deal(coeo.stages.lead, "SEK deal", value=1000)
    make.deal(coeo.stages.lead, "EUR deal", value=100, currency="EUR")
    make.deal(coeo.stages.lead, "XYZ deal", value=5, currency="XYZ")
    client.force_login(staff)
    header = lead_header(client, "coeo")
    converted = header.index("total-converted")
    assert "≈ SEK\u00a02,100" in header  # 1000 kr + 100 € × 11
    assert "SEK\u00a0210" in header  # weighted: 10 %
    assert "Converted at ECB rates of 2 Nov 2026" in header
    assert "XYZ without a rate, not included" in header
    assert converted < header.index('data-currency="EUR"')  # above the per-currency lines


def test_a_column_in_the_reporting_currency_alone_has_no_converted_line(client, staff, coeo, rates):
    make.deal(coeo.stages.lead, "SEK deal", value=1000)
    client.force_login(staff)
    assert "total-converted" not in lead_header(client, "coeo")
