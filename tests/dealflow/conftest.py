from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission, User

from dealflow.stages import MappingTarget
from tests.dealflow import factories as make

PASSWORD = "correct horse battery staple"


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


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Templates use {% static %}; without DEBUG the manifest storage would need collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
