"""Fortnox sandbox fixtures shared by tests/accounting and tests/integrations/providers/fortnox
(imported by their conftest.py files).

``fortnox_sandbox`` runs in-process on a fake clock; ``connected`` is a company whose Fortnox
integration holds tokens from a real authorization code exchange with that sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from integrations.models import Integration
from integrations.providers.fortnox import oauth
from integrations.providers.fortnox.pacing import Pacer
from integrations.providers.fortnox.sandbox import CLIENT_ID, CLIENT_SECRET, FortnoxSandbox
from integrations.providers.fortnox.sandbox.server import serve_in_thread
from tests import factories
from tests.sandbox_fixtures import FakeClock

REDIRECT_URI = "http://127.0.0.1:8000/accounting/fortnox/callback/"
TODAY = date(2026, 11, 25)


Clock = FakeClock  # moves only when slept on: 429 waits and pacing cost no real time


@dataclass
class Connected:
    company: object
    integration: Integration
    sandbox: FortnoxSandbox
    clock: Clock

    def options(self, **extra) -> dict:
        """Client options for the in-process sandbox on the fake clock."""
        pacer = Pacer(clock=self.clock, sleep=self.clock.sleep)
        return {"transport": self.sandbox.transport(), "sleep": self.clock.sleep, "pacer": pacer, **extra}


@pytest.fixture(autouse=True)
def fortnox_settings(settings):
    settings.FORTNOX_CLIENT_ID = CLIENT_ID
    settings.FORTNOX_CLIENT_SECRET = CLIENT_SECRET
    settings.FORTNOX_AUTH_BASE_URL = "https://apps.fortnox.se"
    settings.FORTNOX_API_BASE_URL = "https://api.fortnox.se"
    settings.FORTNOX_ALLOWED_BASE_URLS = ["http://127.0.0.1:*"]
    return settings


@pytest.fixture
def fortnox_clock() -> Clock:
    return Clock()


@pytest.fixture
def fortnox_sandbox(fortnox_clock) -> FortnoxSandbox:
    return FortnoxSandbox(today=TODAY, clock=fortnox_clock)


def connect(company, sandbox: FortnoxSandbox, *, tenant: str | None = None) -> Integration:
    """Run the authorization code exchange against `sandbox` and store the tokens as the callback does."""
    if tenant:
        sandbox.approving_tenant = tenant
    code = sandbox.issue_code(REDIRECT_URI)
    tokens = oauth.exchange_code(code, redirect_uri=REDIRECT_URI, transport=sandbox.transport())
    return Integration.objects.create(
        company=company, provider="fortnox", credentials=tokens.as_credentials(), sync_interval_minutes=360
    )


@pytest.fixture
def connected(db, fortnox_sandbox, fortnox_clock) -> Connected:
    company = factories.company("Nordljus", slug="nordljus")
    return Connected(company, connect(company, fortnox_sandbox), fortnox_sandbox, fortnox_clock)


@pytest.fixture
def live_fortnox(fortnox_settings):
    """A Fortnox sandbox over real HTTP on 127.0.0.1 (real clock), with the settings pointing at it."""
    sandbox = FortnoxSandbox(today=TODAY)
    base_url, stop = serve_in_thread(sandbox)
    fortnox_settings.FORTNOX_AUTH_BASE_URL = base_url
    fortnox_settings.FORTNOX_API_BASE_URL = base_url
    try:
        yield sandbox
    finally:
        stop()
