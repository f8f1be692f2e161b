"""The Content-Security-Policy in a real headless Chromium: the board, the panel, the login pages and
the admin raise no CSP violation, and htmx still works under the policy."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from dealflow.stages import MappingTarget
from tests import factories as make

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

# Collected in the page: each violation the browser reports (blocked scripts, styles, eval, frames).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(
    `${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture
def browser_page(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(10_000)
        console = []
        page.on("console", lambda message: console.append(message.text))
        page.console_messages = console
        yield page
        context.close()
        browser.close()


def violations(page) -> list[str]:
    recorded = page.evaluate("window.__csp")
    logged = [text for text in page.console_messages if "Content Security Policy" in text]
    return recorded + logged


@pytest.fixture
def deal_on_the_board(db):
    company = make.company("Coeo")
    integration = make.integration(company)
    stage = make.stage(make.pipeline(integration), "Offert", MappingTarget.PROPOSAL, probability=80)
    make.deal(stage, "Needle: Acme platform", value=2773065, owner=make.owner(integration))
    make.company("Nordic Tools", slug="nordic")
    User.objects.create_user("stella", password=PASSWORD, is_staff=True, is_superuser=True)
    return integration


def log_in(page, url):
    page.get_by_label("Username").fill("stella")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url)


def test_board_and_panel_raise_no_csp_violation_and_htmx_works(browser_page, live_server, deal_on_the_board):
    page = browser_page
    page.goto(f"{live_server.url}/dealflow/coeo/")
    assert violations(page) == []  # the login page
    log_in(page, "**/dealflow/coeo/")
    page.get_by_text("Needle: Acme platform").first.wait_for()

    # htmx: the panel comes over XHR and is swapped in.
    page.get_by_role("link", name="Needle: Acme platform").first.click()
    page.locator("#deal-panel").get_by_role("link", name="Open in Pipedrive").wait_for()
    # htmx is loaded and configured not to inject its own <style> (the policy would block it).
    assert page.evaluate("[htmx.config.includeIndicatorStyles, htmx.config.allowEval]") == [False, False]
    assert page.locator("style").count() == 0

    assert violations(page) == []


def test_admin_raises_no_csp_violation(browser_page, live_server, deal_on_the_board):
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    log_in(page, "**/admin/")
    page.goto(f"{live_server.url}/admin/integrations/integration/{deal_on_the_board.pk}/change/")
    page.locator("#content").wait_for()
    page.goto(f"{live_server.url}/admin/integrations/integration/")
    page.locator("#changelist").wait_for()

    assert violations(page) == []
