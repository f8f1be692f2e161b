"""Overview -> company metrics -> board in a real headless Chromium, with screenshots at 1440 and 390 px."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dealflow.models import DealStatus, FxRate
from tests import factories as make
from tests.dealflow.conftest import ARTIFACTS, CHROMIUM, PASSWORD, user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


@pytest.fixture
def metrics_data(board_data, nordic):
    coeo, now = board_data, timezone.now()
    FxRate.objects.all().delete()
    FxRate.objects.create(date=date.today() - timedelta(days=3), currency="SEK", rate=Decimal("11.2"), source="test")
    FxRate.objects.create(date=date.today() - timedelta(days=200), currency="SEK", rate=Decimal("11"), source="test")
    for days, value in ((5, 120000), (40, 80000), (70, 300000)):
        make.deal(
            coeo.stages.won,
            f"Won {days}",
            value=value,
            status=DealStatus.WON,
            add_time=now - timedelta(days=days + 30),
            won_time=now - timedelta(days=days),
        )
    make.deal(
        coeo.stages.proposal,
        "Lost on price",
        value=50000,
        status=DealStatus.LOST,
        lost_time=now - timedelta(days=10),
        lost_reason="Price",
    )
    make.deal(nordic.lead, "Nordic won", value=9000, currency="EUR", status=DealStatus.WON, won_time=now)
    return coeo


def shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # wide tables scroll inside
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_partner_goes_from_the_overview_to_a_companys_metrics_and_its_board(page, live_server, metrics_data):
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("stella")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dealflow/overview/")
    page.get_by_role("heading", level=1, name="Portfolio overview").wait_for()
    table = page.get_by_role("table", name="Pipeline by company and stage")
    assert table.get_by_role("link", name="Coeo", exact=True).is_visible()
    assert table.get_by_role("link", name="Nordic Tools", exact=True).is_visible()
    charts = page.locator("figure.chart img")
    assert charts.count() == 2
    assert all(charts.nth(index).evaluate("image => image.naturalWidth") > 0 for index in range(charts.count()))
    # At 1440 px the whole table fits, its last column (sync health) included: no sideways scroll.
    page.set_viewport_size({"width": 1440, "height": 900})
    assert page.locator(".table-scroll").evaluate("box => box.scrollWidth <= box.clientWidth")
    shoot(page, "metrics-overview")

    # Sort by win rate (a server-side sort: the header is a link).
    page.get_by_role("link", name="Win rate").click()
    page.wait_for_url("**sort=win_rate**")

    table = page.get_by_role("table", name="Pipeline by company and stage")
    table.get_by_role("link", name="Coeo", exact=True).click()
    page.wait_for_url("**/dealflow/coeo/metrics/**")
    page.get_by_role("heading", level=1, name="Coeo: metrics").wait_for()
    assert page.get_by_text("75%").first.is_visible()  # 3 won, 1 lost in the last 90 days
    page.get_by_text("How this is computed").click()
    assert page.get_by_text("Win rate = won ÷ (won + lost)").is_visible()
    page.get_by_role("link", name="180 days").click()
    page.wait_for_url("**days=180**")
    shoot(page, "metrics-company")

    page.get_by_role("navigation", name="Views").get_by_role("link", name="Board").click()
    page.wait_for_url("**/dealflow/coeo/")
    page.get_by_role("heading", level=1, name="Coeo").wait_for()
    assert page.locator("section.column--meeting .total-converted").is_visible()  # SEK and EUR deals
    assert problems == []


def test_a_viewer_lands_on_the_overview_and_sees_no_write_controls(page, live_server, metrics_data, nordic):
    partner = user("petra", first_name="Petra")
    metrics_data.company.viewers.add(partner)
    nordic.company.viewers.add(partner)

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("petra")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dealflow/overview/")
    page.get_by_role("heading", level=1, name="Portfolio overview").wait_for()
    shoot(page, "viewer-overview")

    page.goto(f"{live_server.url}/dealflow/coeo/")
    page.get_by_role("heading", level=1, name="Coeo").wait_for()
    assert page.locator(".column-add").count() == 0  # no "+" for a new deal
    page.locator(".column--proposal .card a").first.click()
    page.locator("#deal-panel h2").wait_for()
    assert page.get_by_text("Change in Pipedrive").count() == 0
    shoot(page, "viewer-board-panel")
