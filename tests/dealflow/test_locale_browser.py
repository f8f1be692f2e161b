"""A Swedish browser (locale sv-SE) in headless Chromium: the board is Swedish at 1440 and 390 px."""

import pytest

from tests.dealflow.conftest import ARTIFACTS, CHROMIUM, PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


@pytest.fixture
def swedish_browser(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def open_board(browser, url, width, height):
    # Chromium sends Accept-Language from the context's locale: sv-SE,sv;q=0.9.
    context = browser.new_context(locale="sv-SE", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(url)
    page.get_by_label("Användarnamn").fill("stella")
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("heading", level=1, name="Coeo").wait_for()
    return context, page


def overflowing(page) -> list[str]:
    """Text of elements whose content is wider than their box (clipped or spilling over), leaving out
    screen-reader-only text and text cut off on purpose with an ellipsis."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                '.site-header *, .board-header *, .column-header *, .card *, .column-tab, .summary')]
            .filter(el => el.offsetParent && !el.closest('.visually-hidden') && el.scrollWidth > el.clientWidth + 1
                      && getComputedStyle(el).textOverflow !== 'ellipsis'
                      && getComputedStyle(el).overflowX !== 'auto' && getComputedStyle(el).overflowX !== 'scroll')
            .map(el => el.className + ': ' + el.textContent.trim().slice(0, 40))"""
    )


def test_a_swedish_browser_gets_a_swedish_board(swedish_browser, live_server, board_data):
    url = f"{live_server.url}/dealflow/coeo/"
    ARTIFACTS.mkdir(exist_ok=True)

    context, page = open_board(swedish_browser, url, 1440, 900)
    assert page.locator("html").get_attribute("lang") == "sv"
    board = page.locator(".board")
    assert board.get_by_role("heading", name="Vunnen").is_visible()
    assert page.get_by_label("Ägare").is_visible() and page.get_by_role("button", name="Synkronisera nu").is_visible()
    assert "2\u00a0773\u00a0065\u00a0kr" in page.locator("section.column--proposal").inner_text()
    assert "40\u00a0000\u00a0€" in page.locator("section.column--meeting").inner_text()
    assert overflowing(page) == []
    page.screenshot(path=str(ARTIFACTS / "board-sv-1440.png"))

    # The panel: Swedish labels and dates.
    page.get_by_role("link", name="Needle: Acme platform").click()
    panel = page.locator("#deal-panel")
    panel.get_by_role("link", name="Öppna i Pipedrive").wait_for()
    assert panel.get_by_text("Steghistorik").is_visible()
    assert panel.locator("dt", has_text="Förväntat avslut").is_visible()
    page.screenshot(path=str(ARTIFACTS / "panel-sv-1440.png"))
    context.close()

    context, page = open_board(swedish_browser, url, 390, 844)
    switcher = page.get_by_role("navigation", name="Kolumner")
    assert switcher.get_by_role("button", name="Vunnen").is_visible()
    assert overflowing(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing spills off the phone
    assert page.get_by_role("button", name="Logga ut").is_visible()
    page.screenshot(path=str(ARTIFACTS / "board-sv-390.png"))
    context.close()
