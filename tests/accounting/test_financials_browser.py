"""The financials pages in a real headless Chromium, at 1440 and 390 px, with books synced from the
Fortnox sandbox; screenshots in test-artifacts/."""

import pytest

from accounting import views
from accounting.services.sync import sync_financials
from tests import factories
from tests.dealflow.conftest import ARTIFACTS, CHROMIUM, PASSWORD, page, user  # noqa: F401 - the page fixture
from tests.fortnox_fixtures import TODAY, Connected, connect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


@pytest.fixture
def synced(fortnox_sandbox, fortnox_clock, monkeypatch):
    monkeypatch.setattr(views, "today", lambda: TODAY)
    for name, slug, tenant in (("Nordljus", "nordljus", "100001"), ("Fjällvind", "fjallvind", "100002")):
        company = factories.company(name, slug=slug)
        connected = Connected(company, connect(company, fortnox_sandbox, tenant=tenant), fortnox_sandbox, fortnox_clock)
        run = sync_financials(integration=connected.integration, client_options=connected.options())
        assert run.outcome == "succeeded", run.error
    user("stella", is_staff=True)


def log_in(browser_page, live_server, path):
    browser_page.goto(f"{live_server.url}{path}")
    browser_page.get_by_label("Username").fill("stella")
    browser_page.get_by_label("Password").fill(PASSWORD)
    browser_page.get_by_role("button", name="Log in").click()
    browser_page.wait_for_url(f"**{path}")


@pytest.mark.parametrize("width", [1440, 390])
def test_the_financials_page_at_desktop_and_phone_widths(page, live_server, synced, width):  # noqa: F811
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "/accounting/fjallvind/")
    page.get_by_role("heading", level=1, name="Fjällvind: financials").wait_for()
    assert page.locator("#monthly tbody tr").count() == 24
    assert page.locator("#chart-results img").is_visible()
    # Only the tables scroll sideways on a phone, never the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"financials-{width}.png"), full_page=True)


def test_the_portfolio_financials_page(page, live_server, synced):  # noqa: F811
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server, "/accounting/")
    rows = page.locator("#portfolio-financials tbody tr")
    assert rows.count() == 2
    burning = rows.filter(has_text="Fjällvind").locator("td").last.inner_text()
    assert burning != "—" and float(burning) > 0  # the loss-making company has a runway
    assert rows.filter(has_text="Nordljus").locator("td").last.inner_text() == "—"
    page.screenshot(path=str(ARTIFACTS / "financials-portfolio-1440.png"), full_page=True)
