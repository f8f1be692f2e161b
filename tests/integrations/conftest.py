"""Fixtures for sync tests: a company connected to an in-process sandbox."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from integrations.models import Integration
from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN, Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread
from integrations.sync.runner import sync_integration
from portfolio.models import PortfolioCompany
from tests import factories as make

SANDBOX_URL = "https://coeo.pipedrive.com"


@dataclass
class Connected:
    """An integration wired to a sandbox; `sync()` runs the real sync service against it."""

    integration: Integration
    sandbox: Sandbox
    sleeps: list
    page_size: int = 50

    def sync(self, *, full: bool = False, **options):
        client_options = {
            "transport": self.sandbox.transport(),
            "page_size": self.page_size,
            "sleep": self.sleeps.append,
            **options,
        }
        return sync_integration(integration=self.integration, full=full, client_options=client_options)


def connect(sandbox: Sandbox, *, slug: str = "coeo", token: str = DEFAULT_TOKEN) -> Connected:
    company = PortfolioCompany.objects.filter(slug=slug).first() or make.company(slug.title(), slug=slug)
    integration = make.integration(company, company_domain=slug, api_base_url=SANDBOX_URL, token=token)
    return Connected(integration=integration, sandbox=sandbox, sleeps=[])


@pytest.fixture
def coeo_sandbox() -> Sandbox:
    # A generous burst limit: these tests are about syncing, not about the client's backoff.
    return Sandbox("coeo", burst_limit=100_000)


@pytest.fixture
def connected(db, coeo_sandbox) -> Connected:
    return connect(coeo_sandbox)


@pytest.fixture
def served(connected) -> Connected:
    """`connected`, with the integration pointed at its sandbox served over loopback HTTP."""
    base_url, stop = serve_in_thread(connected.sandbox)
    connected.integration.settings["api_base_url"] = base_url
    connected.integration.save()
    yield connected
    stop()
