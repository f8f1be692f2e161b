"""The board in a real headless Chromium: log in, switch company, filter, load more, panel, export."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.dealflow.conftest import ARTIFACTS, CHROMIUM, PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


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
    expect(page.locator("section.column--lead article.card")).to_have_count(30)
    assert page.locator("section.column--lead").get_by_role("button", name="Load more").count() == 0

    # Filter (htmx swaps the board and pushes the URL).
    page.get_by_label("Search").fill("needle")
    page.get_by_label("Search").press("Enter")
    page.wait_for_url("**q=needle**")
    expect(page.locator("article.card")).to_have_count(1)
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
