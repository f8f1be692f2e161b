"""Write-back in a real headless Chromium: an editor moves a deal to another stage and marks it
won from the panel (htmx), against the sandbox over loopback; screenshots at 1440 and 390 px."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from dealflow.models import Deal
from tests.dealflow.conftest import ARTIFACTS, CHROMIUM
from tests.integrations.outbound import conftest as write_back
from tests.integrations.outbound.conftest import other_stage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

# The write-back fixtures (a sandbox over loopback, Coeo synced from it, a user of each kind).
small_sandbox, world = write_back.small_sandbox, write_back.world


def test_an_editor_moves_a_deal_and_marks_it_won_from_the_panel(page, live_server, world):
    client = Client()
    client.force_login(world.editor)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    deal, target = world.deal, other_stage(world, world.deal)
    page.set_viewport_size({"width": 1440, "height": 1000})

    page.goto(f"{live_server.url}/dealflow/{world.company.slug}/deals/{deal.remote_id}/")
    panel = page.locator("#deal-panel")
    expect(panel.get_by_role("heading", name="Change in Pipedrive")).to_be_visible()
    panel.get_by_label("Stage", exact=True).select_option(str(target["id"]))
    panel.get_by_role("button", name="Move").click()

    expect(panel.get_by_role("status")).to_have_text("Stage changed.")
    expect(panel.locator("dd").filter(has_text=target["name"])).to_have_count(1)
    assert world.sandbox.deal(deal.remote_id)["stage_id"] == target["id"]
    assert Deal.objects.get(pk=deal.pk).stage_remote_id == target["id"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "write-back-stage-1440.png"))

    panel.get_by_role("button", name="Mark won").click()

    expect(panel.get_by_role("status")).to_have_text("Marked won.")
    expect(panel.locator(".badge--won")).to_be_visible()
    assert world.sandbox.deal(deal.remote_id)["status"] == "won" == Deal.objects.get(pk=deal.pk).status
    expect(panel.get_by_role("button", name="Reopen")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "write-back-won-1440.png"))

    page.set_viewport_size({"width": 390, "height": 844})
    expect(panel.get_by_role("button", name="Reopen")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing pokes out sideways
    page.screenshot(path=str(ARTIFACTS / "write-back-won-390.png"), full_page=True)
