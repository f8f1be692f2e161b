"""The integrations list in a real headless Chromium at 1440 px: every column fits, including
the outcome and the unmapped count (a screenshot is saved for a human to look at)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from integrations.models import SyncOutcome
from tests import factories as make
from tests.dealflow.conftest import ARTIFACTS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


def test_the_integrations_list_fits_1440_px(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    User.objects.create_superuser("root", password="pw-for-the-browser")
    now = timezone.now()
    for name in ("Coeo", "Acme Industrial Holdings International", "Vinterdata"):
        company = make.company(name, slug=name.split()[0].lower())
        integration = make.integration(company, company_domain=company.slug, token="tok-browser-0000")
        make.sync_state(
            integration,
            last_successful_sync_at=now - timedelta(hours=5),
            last_synced_at=now - timedelta(minutes=3),
            last_sync_outcome=SyncOutcome.RATE_LIMITED,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{live_server.url}/admin/login/?next=/admin/integrations/integration/")
        page.get_by_label("Username").fill("root")
        page.get_by_label("Password").fill("pw-for-the-browser")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/integrations/integration/")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "admin-integrations-1440.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1440
        # The result table does not scroll sideways inside its box, and every header is in view.
        assert page.evaluate("(r => r.scrollWidth <= r.clientWidth)(document.querySelector('#changelist .results'))")
        visible_right = page.locator("#changelist .results").bounding_box()
        for header in ("Outcome", "Unmapped"):
            box = page.locator("#result_list thead th", has_text=header).bounding_box()
            assert box["x"] + box["width"] <= visible_right["x"] + visible_right["width"], header
        browser.close()
