import sys
import types
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from dealflow.stages import MappingTarget
from tests import factories as make

PASSWORD = "correct horse battery staple"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def coeo(db):
    """A Swedish company with one stage per target, two owners and a contact."""
    company = make.company("Coeo")
    integration = make.integration(company)
    pipeline = make.pipeline(integration, "Sales")
    stages = SimpleNamespace(
        lead=make.stage(pipeline, "Lead - ännu ej kontaktade", MappingTarget.LEAD, probability=10),
        qualified=make.stage(pipeline, "Prospekt - kontaktade", MappingTarget.QUALIFIED, probability=25),
        meeting=make.stage(pipeline, "Bokat möte", MappingTarget.MEETING, probability=40),
        due_diligence=make.stage(pipeline, "Dialog/demo", MappingTarget.DUE_DILIGENCE, probability=60),
        proposal=make.stage(
            pipeline, "Offert", MappingTarget.PROPOSAL, probability=80, is_deal_rot_enabled=True, days_to_rotten=7
        ),
        won=make.stage(pipeline, "OK verbal acceptans", MappingTarget.CLOSED_WON, probability=100),
        nej_tack=make.stage(pipeline, "Nej tack", MappingTarget.EXCLUDED),
        inte_nu=make.stage(pipeline, "Inte nu", MappingTarget.EXCLUDED),
        unmapped=make.stage(pipeline, "Avvakta?", MappingTarget.UNMAPPED),
        no_mapping=make.stage(pipeline, "Brand new stage", mapped=False),
    )
    acme = make.organization(integration, "Acme AB", address="Storgatan 1, Stockholm")
    return SimpleNamespace(
        company=company,
        integration=integration,
        pipeline=pipeline,
        stages=stages,
        anna=make.owner(integration, "Anna Andersson"),
        bertil=make.owner(integration, "Bertil Berg"),
        acme=acme,
        erik=make.person(integration, "Erik Eriksson", organization=acme),
    )


@pytest.fixture
def nordic(db):
    """A second company selling in EUR."""
    company = make.company("Nordic Tools", slug="nordic")
    integration = make.integration(company, company_domain="nordic")
    pipeline = make.pipeline(integration, "Enterprise")
    return SimpleNamespace(
        company=company,
        integration=integration,
        pipeline=pipeline,
        lead=make.stage(pipeline, "Lead", MappingTarget.LEAD, probability=20),
    )


def user(username, **fields):
    return User.objects.create_user(username=username, password=PASSWORD, **fields)


@pytest.fixture
def staff(db):
    return user("stella", is_staff=True, first_name="Stella")


@pytest.fixture
def viewer(coeo):
    partner = user("petra", first_name="Petra")
    coeo.company.viewers.add(partner)
    return partner


@pytest.fixture
def outsider(db):
    return user("olle")


@pytest.fixture
def view_all_user(db):
    partner = user("vera")
    partner.user_permissions.add(Permission.objects.get(codename="view_all_companies"))
    return partner


@pytest.fixture
def enqueued(monkeypatch):
    """Stands in for integrations.services.scheduling (the view imports it lazily): the calls made."""
    calls = []
    module = types.ModuleType("integrations.services.scheduling")
    module.enqueue_sync = lambda **kwargs: calls.append(kwargs)
    module.SyncQueueUnavailable = type("SyncQueueUnavailable", (Exception,), {})
    monkeypatch.setitem(sys.modules, "integrations.services.scheduling", module)
    return calls


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Templates use {% static %}; without DEBUG the manifest storage would need collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# --- Browser tests (headless Chromium against the live server) ---------------------------------


@pytest.fixture
def page(live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def board_data(coeo, nordic, staff):
    now = timezone.now()
    make.sync_state(coeo.integration, last_successful_sync_at=now - timedelta(minutes=3), last_sync_outcome="succeeded")
    stages = coeo.stages
    make.many_deals(stages.lead, 30, value=25000, owner=coeo.bertil)
    make.deal(
        stages.proposal,
        "Needle: Acme platform",
        value=2773065,
        organization=coeo.acme,
        person=coeo.erik,
        owner=coeo.anna,
        custom_fields={"Lead source": "Referral"},
    )
    make.deal(stages.qualified, "Acme pilot", value=180000, organization=coeo.acme, owner=coeo.anna)
    make.deal(stages.meeting, "Demo for Bolaget", value=95000, owner=coeo.anna)
    make.deal(stages.meeting, "Expansion Helsinki", value=40000, currency="EUR", owner=coeo.bertil)
    make.deal(
        stages.proposal,
        "Stalled offer: Hamnbolaget",
        value=320000,
        owner=coeo.bertil,
        stage_change_time=now - timedelta(days=12),
    )
    make.deal(stages.due_diligence, "Security review", value=410000, owner=coeo.bertil)
    make.deal(stages.won, "Signed: Stadsbyggnad", value=640000, owner=coeo.anna)
    make.many_deals(stages.nej_tack, 3)
    make.many_deals(stages.inte_nu, 2)
    make.deal(stages.no_mapping, "Waiting for mapping", value=15000, owner=coeo.anna)
    make.deal(nordic.lead, "Nordic lead", value=12000, currency="EUR")
    return coeo
