"""The deal panel (the exports: test_export.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from dealflow.models import StageChange
from tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_deal(coeo):
    found = make.deal(
        coeo.stages.proposal,
        "Offer to Acme",
        value=120000,
        organization=coeo.acme,
        person=coeo.erik,
        owner=coeo.anna,
        custom_fields={"Lead source": "Referral", "Budget": {"value": 5000, "currency": "SEK"}},
    )
    StageChange.objects.create(
        deal=found, from_stage=coeo.stages.lead, to_stage=coeo.stages.proposal, changed_at=timezone.now()
    )
    return found


def test_panel_shows_every_detail(client, viewer, coeo, full_deal):
    client.force_login(viewer)

    response = client.get(
        reverse("dealflow:deal", args=[coeo.company.slug, full_deal.remote_id]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html  # a partial for the side panel
    for expected in (
        "Offer to Acme",
        "SEK\u00a0120,000",
        "Acme AB",
        "Storgatan 1, Stockholm",
        "Erik Eriksson",
        "erik@acme.example",
        "+46 70 123 45 67",
        "Anna Andersson",
        "anna@example.com",
        "Lead source",
        "Referral",
        "SEK\u00a05,000",
        "Lead - ännu ej kontaktade → Offert",
        f'href="https://coeo.pipedrive.com/deal/{full_deal.remote_id}"',
        "Open in Pipedrive",
    ):
        assert expected in html, expected


def test_panel_has_a_page_of_its_own(client, viewer, coeo, full_deal):
    client.force_login(viewer)

    response = client.get(reverse("dealflow:deal", args=[coeo.company.slug, full_deal.remote_id]))

    html = response.content.decode()
    assert "<html" in html and "Offer to Acme" in html and "Open in Pipedrive" in html
