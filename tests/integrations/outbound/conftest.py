"""Write-back tests: a company connected to a sandbox served over loopback HTTP, synced once."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User

from dealflow.models import Deal
from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN, Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread
from integrations.sync.runner import sync_integration
from tests import factories as make
from tests.sandbox_fixtures import LiveSandbox


@pytest.fixture
def small_sandbox():
    """A coeo sandbox with few deals (a full sync in a blink), served over loopback HTTP."""
    sandbox = Sandbox("coeo", deals=40)
    base_url, stop = serve_in_thread(sandbox)
    try:
        yield LiveSandbox(base_url=base_url, token=DEFAULT_TOKEN, sandbox=sandbox)
    finally:
        stop()


def synced_company(live_sandbox, *, slug="coeo"):
    company = make.company(slug.title(), slug=slug, reporting_currency="SEK")
    integration = make.integration(
        company, company_domain=slug, api_base_url=live_sandbox.base_url, token=live_sandbox.token
    )
    run = sync_integration(integration=integration, full=True)
    assert run.outcome == "succeeded", run.error
    return company, integration


@pytest.fixture
def world(db, small_sandbox):
    """Coeo synced from the sandbox, an open deal on it, and a user of each kind."""
    live_sandbox = small_sandbox
    company, integration = synced_company(live_sandbox)
    deal = (
        Deal.objects.filter(integration=integration, status="open", is_archived=False, stage__isnull=False)
        .select_related("stage", "integration")
        .order_by("remote_id")
        .first()
    )
    editor = User.objects.create_user("edith")
    viewer = User.objects.create_user("vic")
    company.editors.add(editor)
    company.viewers.add(viewer)
    return SimpleNamespace(
        sandbox=live_sandbox.sandbox,
        company=company,
        integration=integration,
        deal=deal,
        editor=editor,
        viewer=viewer,
        staff=User.objects.create_user("stan", is_staff=True),
        outsider=User.objects.create_user("otto"),
    )


def other_stage(world, deal):
    """A stage of the deal's pipeline other than its own (from the sandbox)."""
    stages = [s for s in world.sandbox.stages() if s["pipeline_id"] == deal.pipeline_remote_id and not s["is_deleted"]]
    return next(s for s in stages if s["id"] != deal.stage_remote_id)
