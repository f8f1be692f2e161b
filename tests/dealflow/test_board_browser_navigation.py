"""The board in headless Chromium at 1440 and 390 px (issue 9, items 1, 2, 4, 5 and 6): the filter
inputs show what is applied, also after Back; the columns fit or scroll where the user is; the open
deal is in the URL; focus goes where the user is working. Screenshots go to test-artifacts/."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from playwright.sync_api import expect

from tests import factories as make
from tests.dealflow.conftest import ARTIFACTS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


def log_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def wait_for_params(page, **expected):
    """Wait until the URL's non-empty query parameters, the default period aside, are `expected`."""

    def matches(url):
        params = {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items() if values[-1]}
        if params.get("won") == "365":
            del params["won"]
        return params == expected

    page.wait_for_url(matches)


def wait_for_board(page):
    page.wait_for_load_state("networkidle")


def active_text(page) -> str:
    return page.evaluate("document.activeElement.textContent.trim()")


def focus_is_in_panel(page) -> bool:
    return page.evaluate("document.getElementById('deal-panel').contains(document.activeElement)")


def test_board_at_1440(page, live_server, board_data, staff):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server, staff)
    board_url = f"{live_server.url}/dealflow/coeo/"

    # 1. The Won-in select shows the applied period (the default) and a change elsewhere keeps it.
    page.goto(f"{board_url}?owner={board_data.bertil.pk}")
    assert page.get_by_label("Closed Won: won in").input_value() == "365"
    page.goto(f"{board_url}?won=foo")
    assert page.get_by_label("Closed Won: won in").input_value() == "365"
    page.get_by_label("Owner").select_option(str(board_data.anna.pk))
    page.wait_for_url(f"**owner={board_data.anna.pk}**")
    assert "won=30" not in page.url and page.get_by_label("Closed Won: won in").input_value() == "365"

    # 4. Seven columns fit 1440 px; the board scrolls inside the window, so its horizontal
    # scrollbar is in view without scrolling the page, and column headers stick to its top.
    page.goto(board_url)
    wait_for_board(page)
    assert page.locator(".board > .column").count() == 7
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    last_right = page.evaluate("document.querySelector('.board > .column:last-child').getBoundingClientRect().right")
    assert last_right <= 1440
    assert page.evaluate("document.querySelector('.board').getBoundingClientRect().bottom") <= 900
    # Denser cards: eight whole Lead cards above the fold (five before the card redesign; ten
    # until cards gained the next-activity line that issue 12 asks for, as Pipedrive shows it).
    lead_cards_in_view = page.evaluate(
        "[...document.querySelectorAll('.column--lead .card')]"
        ".filter(card => card.getBoundingClientRect().bottom <= innerHeight).length"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board-1440.png"))
    assert lead_cards_in_view >= 8, lead_cards_in_view
    page.evaluate("document.querySelector('.board').scrollTop = 600")
    header_top = page.evaluate("document.querySelector('.column--lead .column-header').getBoundingClientRect().top")
    board_top = page.evaluate("document.querySelector('.board').getBoundingClientRect().top")
    assert abs(header_top - board_top) <= 1  # sticky
    page.screenshot(path=str(ARTIFACTS / "board-1440-scrolled.png"))
    page.evaluate("document.querySelector('.board').scrollTop = 0")

    # 4. "Hidden: 5 deals" opens the list of those deals.
    page.get_by_text("Hidden: 5 deals").click()
    expect(page.get_by_role("list", name="Hidden deals").locator("article.card")).to_have_count(5)
    page.get_by_text("Hidden: 5 deals").click()

    # 4. The keyboard moves between columns: right from a Lead card lands in the next column with cards.
    page.locator(".column--lead .card-link").first.focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('.column').dataset.column") == "lead"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.closest('.column').dataset.column") == "qualified"
    assert active_text(page) == "Acme pilot"
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.closest('.column').dataset.column") == "lead"

    # 6. After Load more the first new card has the focus.
    page.locator(".column--lead").get_by_role("button", name="Load more").click()
    expect(page.locator(".column--lead article.card")).to_have_count(30)
    # htmx moves the focus when the swap has settled, a moment after the cards are in the page.
    page.wait_for_function("document.activeElement === document.querySelectorAll('.column--lead .card-link')[25]")

    # 5. The open deal is in the URL; Back closes the panel; Forward opens it again.
    needle = page.get_by_role("link", name="Needle: Acme platform")
    needle.click()
    panel = page.locator("#deal-panel")
    panel.get_by_role("link", name="Open in Pipedrive").wait_for()
    deal_url = page.url
    assert "/dealflow/coeo/deals/" in deal_url
    page.screenshot(path=str(ARTIFACTS / "board-1440-panel.png"))
    # 6. The panel traps focus while open.
    for _ in range(12):
        page.keyboard.press("Tab")
        assert focus_is_in_panel(page)
    page.keyboard.press("Shift+Tab")
    assert focus_is_in_panel(page)
    page.go_back()
    panel.wait_for(state="hidden")
    assert page.url == board_url
    assert active_text(page) == "Needle: Acme platform"  # focus back on the card
    page.go_forward()
    panel.get_by_role("link", name="Open in Pipedrive").wait_for()
    assert page.url == deal_url

    # 6. Closing returns focus to the card, and the URL to the board.
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    page.wait_for_url(board_url)
    assert active_text(page) == "Needle: Acme platform"

    # 5. A pasted deal URL opens the board with the panel open; closing it stays on the board.
    page.goto(deal_url)
    assert panel.is_visible() and panel.get_by_role("heading", name="Needle: Acme platform").is_visible()
    assert page.locator(".board .column").count() == 7
    panel.get_by_role("button", name="Close deal details").click()
    panel.wait_for(state="hidden")
    assert page.url == board_url


def test_filter_inputs_follow_back_and_forward(page, live_server, board_data, staff):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server, staff)
    page.goto(f"{live_server.url}/dealflow/coeo/")
    search, owner = page.get_by_label("Search"), page.get_by_label("Owner")

    search.fill("acme")
    wait_for_params(page, q="acme")
    owner.select_option(str(board_data.anna.pk))
    wait_for_params(page, q="acme", owner=str(board_data.anna.pk))
    page.wait_for_load_state("networkidle")

    page.go_back()
    wait_for_params(page, q="acme")
    assert (search.input_value(), owner.input_value()) == ("acme", "")
    page.go_back()
    wait_for_params(page)
    assert (search.input_value(), owner.input_value()) == ("", "")
    page.go_forward()
    wait_for_params(page, q="acme")
    assert search.input_value() == "acme"
    assert page.locator("article.card").count() == 2  # the board shows the search too

    # The next change keeps the search the board shows.
    page.get_by_label("Pipeline").select_option(str(board_data.pipeline.pk))
    wait_for_params(page, q="acme", pipeline=str(board_data.pipeline.pk))


def test_board_on_a_phone(page, live_server, board_data, staff):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, staff)
    page.goto(f"{live_server.url}/dealflow/coeo/")
    wait_for_board(page)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board-390.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    switcher = page.get_by_role("navigation", name="Columns")
    assert switcher.is_visible()
    board_width = page.evaluate("document.querySelector('.board').clientWidth")
    lead_width = page.evaluate("document.querySelector('.column--lead').getBoundingClientRect().width")
    assert lead_width == pytest.approx(board_width, abs=2)  # one column at a time

    switcher.get_by_role("button", name="Proposal").click()
    expect(switcher.get_by_role("button", name="Proposal")).to_have_attribute("aria-pressed", "true")
    proposal_left = page.evaluate("document.querySelector('.column--proposal').getBoundingClientRect().left")
    board_left = page.evaluate("document.querySelector('.board').getBoundingClientRect().left")
    assert proposal_left == pytest.approx(board_left, abs=2)
    assert switcher.get_by_role("button", name="Proposal").get_attribute("aria-pressed") == "true"
    assert page.get_by_role("link", name="Needle: Acme platform").is_visible()
    page.screenshot(path=str(ARTIFACTS / "board-390-proposal.png"))

    page.get_by_role("link", name="Needle: Acme platform").click()
    page.locator("#deal-panel").get_by_role("link", name="Open in Pipedrive").wait_for()
    page.screenshot(path=str(ARTIFACTS / "board-390-panel.png"))
    page.go_back()
    page.locator("#deal-panel").wait_for(state="hidden")


def test_after_a_sync_the_board_refreshes_in_place(page, live_server, board_data, staff, settings, tmp_path):
    """Item 7: the new deal appears; the open panel and the board's scroll stay (no page reload)."""
    settings.MEDIA_ROOT = tmp_path
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 2"><circle cx="1" cy="1" r="1" fill="#25d"/></svg>'
    board_data.company.logo.save("coeo.svg", ContentFile(svg))
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server, staff)
    page.goto(f"{live_server.url}/dealflow/")
    expect(page.get_by_role("navigation", name="Companies").locator("img.logo")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "board-1440-all-companies.png"))

    page.goto(f"{live_server.url}/dealflow/coeo/")
    page.get_by_role("link", name="Acme pilot").click()
    page.locator("#deal-panel").get_by_role("link", name="Open in Pipedrive").wait_for()
    page.evaluate("document.querySelector('.board').scrollTop = 300")
    page.evaluate("window.notReloaded = true")
    make.deal(board_data.stages.qualified, "Fresh from Pipedrive", value=5000)

    # What the sync status poll triggers (HX-Trigger: dealflow:synced) when the run has finished.
    page.evaluate("document.body.dispatchEvent(new CustomEvent('dealflow:synced', {bubbles: true}))")

    page.get_by_role("link", name="Fresh from Pipedrive").wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#deal-panel").is_visible()
    assert page.evaluate("document.querySelector('.board').scrollTop") == 300
