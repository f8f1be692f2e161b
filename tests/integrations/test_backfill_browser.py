"""The integration page's stage history backfill section in a real headless Chromium at 1440 and
390 px: the settings, the estimate, the progress with a skipped deal, and the start button
(screenshots saved for a human to look at)."""

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from integrations.models import StageHistoryBackfill
from tests import factories as make
from tests.dealflow.conftest import ARTIFACTS, CHROMIUM, page  # noqa: F401 (the browser page fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


def test_the_backfill_section_reads_well_at_1440_and_390_px(live_server, page):  # noqa: F811
    User.objects.create_superuser("root", password="pw-for-the-browser")
    integration = make.integration(make.company("Coeo"), token="tok-browser-0000", backfill_stage_history=True)
    lead = make.stage(make.pipeline(integration), "Lead")
    for number in range(3):
        make.deal(lead, f"Deal {number}")
    StageHistoryBackfill.objects.create(
        integration=integration,
        state=StageHistoryBackfill.State.PAUSED,
        deals_done=40,
        deals_skipped=1,
        deals_to_do=3,
        changes_recorded=97,
        last_run_at=timezone.now(),
        skipped=[{"deal": 4711, "reason": "Not found in Pipedrive (HTTP 404, GET /v1/deals/4711/changelog)."}],
    )
    url = f"{live_server.url}/admin/integrations/integration/{integration.pk}/change/"
    page.goto(f"{live_server.url}/admin/login/?next={url.removeprefix(live_server.url)}")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pw-for-the-browser")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url)
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        section = page.locator("fieldset", has_text="Stage history backfill")
        section.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"admin-backfill-{width}.png"), full_page=True)
        assert section.get_by_label("Backfill stage history").is_checked()
        assert section.get_by_label("Backfill share of the daily budget (%)").input_value() == "20"
        text = section.inner_text()
        assert "3 deals without history × 20 tokens = 60 tokens, about 1 day at" in text
        assert "Paused: today's share spent. 40 deals read (1 skipped), 3 to do" in text
        assert "Deal 4711: Not found in Pipedrive (HTTP 404" in text
        assert page.get_by_role("button", name="Start stage history backfill").is_visible()
