"""Activities and rotting on the board in headless Chromium at 1440 and 390 px: the next activity,
overdue and "no next activity" lines fit their cards, and the panel lists the activities."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories as make
from tests.dealflow.conftest import ARTIFACTS, CHROMIUM
from tests.dealflow.test_board_browser_navigation import log_in, wait_for_board

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


@pytest.fixture
def planned(coeo):
    now, today = timezone.now(), timezone.localdate()
    stages = coeo.stages
    planned = make.deal(stages.proposal, "Planned: Hamnbolaget renewal", value=320000, owner=coeo.anna)
    make.activity(planned, "Contract review with the board of directors", due_date=today + timedelta(days=3))
    for days in range(1, 7):
        make.activity(planned, f"Call {days}", done=True, marked_as_done_time=now - timedelta(days=days))
    late = make.deal(stages.meeting, "Overdue: Stadsbyggnad demo", value=95000, owner=coeo.bertil)
    make.activity(late, "Demo meeting", due_date=today - timedelta(days=4))
    make.deal(stages.qualified, "Idle: Acme pilot", value=180000, owner=coeo.anna)
    make.deal(stages.proposal, "Stale: Kustlogistik", value=50000, update_time=now - timedelta(days=12))
    return coeo


def lines_fit_their_cards(page) -> bool:
    return page.evaluate(
        """[...document.querySelectorAll('.card-activity')].every(line => {
             const card = line.closest('.card').getBoundingClientRect(), box = line.getBoundingClientRect();
             return box.left >= card.left - 1 && box.right <= card.right + 1;
           })"""
    )


@pytest.mark.parametrize("width", [1440, 390])
def test_activities_on_the_board_and_in_the_panel(page, live_server, planned, staff, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, staff)
    page.goto(f"{live_server.url}/dealflow/coeo/")
    wait_for_board(page)

    late = page.locator("article.card", has_text="Overdue: Stadsbyggnad demo")
    assert "Overdue: Demo meeting" in " ".join(late.locator(".card-activity").inner_text().split())
    assert page.locator("article.card", has_text="Idle: Acme pilot").get_by_text("No next activity").count() == 1
    stale = page.locator("article.card", has_text="Stale: Kustlogistik")
    assert stale.get_by_text("Rotting: no update for over 7 days").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert lines_fit_their_cards(page)
    ARTIFACTS.mkdir(exist_ok=True)
    if width == 390:  # one column at a time: show the overdue card's
        page.get_by_role("navigation", name="Columns").get_by_role("button", name="Meeting").click()
    page.screenshot(path=str(ARTIFACTS / f"board-activities-{width}.png"))

    if width == 390:
        page.get_by_role("navigation", name="Columns").get_by_role("button", name="Proposal").click()
    page.get_by_role("link", name="Planned: Hamnbolaget renewal").click()
    panel = page.locator("#deal-panel")
    panel.get_by_role("heading", name="Upcoming activities").wait_for()
    assert panel.get_by_text("Contract review with the board of directors").is_visible()
    assert panel.locator(".activity--done").count() == 5
    panel.get_by_role("heading", name="Last done activities").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"board-activities-panel-{width}.png"))
