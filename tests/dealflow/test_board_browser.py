"""The board in a real headless Chromium: log in, switch company, filter, load more, panel, export."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.dealflow import factories as make
from tests.dealflow.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


@pytest.fixture
def page(live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def board_data(coeo, nordic, staff):
    now = timezone.now()
    coeo.integration.last_successful_sync_at = now - timedelta(minutes=3)
    coeo.integration.last_sync_outcome = "succeeded"
    coeo.integration.save()
    stages = coeo.stages
    make.many_deals(stages.lead, 30, value=25000, owner=coeo.bertil)
    make.deal(
        stages.proposal,
        "Needle: Acme platform",
        value=2773065,
        organization=coeo.acme,
        person=coeo.erik,
        owner=coeo.anna,
        custom_fields={"Lead source": "Referral"},
    )
    make.deal(stages.qualified, "Acme pilot", value=180000, organization=coeo.acme, owner=coeo.anna)
    make.deal(stages.meeting, "Demo for Bolaget", value=95000, owner=coeo.anna)
    make.deal(stages.meeting, "Expansion Helsinki", value=40000, currency="EUR", owner=coeo.bertil)
    make.deal(
        stages.proposal, "Stalled offer: Hamnbolaget", value=320000, owner=coeo.bertil,
        stage_change_time=now - timedelta(days=12),
    )
    make.deal(stages.due_diligence, "Security review", value=410000, owner=coeo.bertil)
    make.deal(stages.won, "Signed: Stadsbyggnad", value=640000, owner=coeo.anna)
    make.many_deals(stages.nej_tack, 3)
    make.many_deals(stages.inte_nu, 2)
    make.deal(stages.no_mapping, "Waiting for mapping", value=15000, owner=coeo.anna)
    make.deal(nordic.lead, "Nordic lead", value=12000, currency="EUR")
    return coeo


def test_partner_uses_the_board(page, live_server, board_data):
    page.goto(f"{live_server.url}/dealflow/")

    # Log in.
    assert "/login/" in page.url
    page.get_by_label("Username").fill("stella")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dealflow/")
    page.get_by_role("heading", level=1, name="All companies").wait_for()
    assert page.get_by_text("Nordic lead").is_visible()

    # Switch company.
    page.get_by_role("navigation", name="Companies").get_by_role("link", name="Coeo").click()
    page.wait_for_url("**/dealflow/coeo/")
    page.get_by_role("heading", level=1, name="Coeo").wait_for()
    assert page.get_by_text("Nordic lead").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1600  # only the board scrolls sideways
    page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)

    # Load more in the Lead column.
    lead_cards = page.locator("section.column--lead ol.cards article.card")
    assert lead_cards.count() == 25
    page.locator("section.column--lead").get_by_role("button", name="Load more").click()
    page.wait_for_function("document.querySelectorAll('section.column--lead article.card').length === 30")
    assert page.locator("section.column--lead").get_by_role("button", name="Load more").count() == 0

    # Filter (htmx swaps the board and pushes the URL).
    page.get_by_label("Search").fill("needle")
    page.get_by_label("Search").press("Enter")
    page.wait_for_url("**q=needle**")
    page.wait_for_function("document.querySelectorAll('article.card').length === 1")
    assert page.locator("section.column--unmapped").count() == 0  # empty: not shown
    assert page.locator("section.column--proposal").get_by_text("Needle: Acme platform").is_visible()

    # Open the panel from the keyboard, then close it with Esc.
    page.get_by_role("link", name="Needle: Acme platform").focus()
    page.keyboard.press("Enter")
    panel = page.locator("#deal-panel")
    panel.get_by_role("link", name="Open in Pipedrive").wait_for()
    assert panel.is_visible()
    assert panel.get_by_text("erik@acme.example").is_visible()
    assert panel.get_by_text("Referral").is_visible()
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Needle: Acme platform"

    # Export the filtered board.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("dealflow-coeo-")
    lines = Path(download.path()).read_text().splitlines()
    assert len(lines) == 2 and "Needle: Acme platform" in lines[1]
