"""The financial sync against the Fortnox sandbox: what lands in the accounting tables, incremental
invoices, and failures that leave the stored books exactly as they were."""

from datetime import UTC, date, datetime

import pytest

from accounting.models import Account, AccountBalance, CompanyInformation, FinancialYear, Invoice
from accounting.services.sync import sync_financials
from integrations.models import Integration


def sync(connected, **kwargs):
    return sync_financials(integration=connected.integration, client_options=connected.options(page_size=50), **kwargs)


def snapshot(company):
    return (
        list(Invoice.objects.filter(company=company).order_by("document_number").values()),
        list(AccountBalance.objects.filter(company=company).order_by("month", "account").values()),
        list(FinancialYear.objects.filter(company=company).values()),
    )


@pytest.mark.django_db
def test_a_first_sync_stores_the_companys_books(connected):
    run = sync(connected)
    assert run.outcome == "succeeded", run.error
    seeded = connected.sandbox.companies["100001"]
    company = connected.company
    assert CompanyInformation.objects.get(company=company).name == "Nordljus AB"
    assert FinancialYear.objects.filter(company=company).count() == 3
    assert Account.objects.get(company=company, number=1930).description == "Företagskonto / affärskonto"
    assert Invoice.objects.filter(company=company).count() == len(seeded.invoices)
    euro = Invoice.objects.filter(company=company, currency="EUR").first()
    assert euro is not None and euro.currency_rate > 10 and euro.vat == 0
    assert Invoice.objects.filter(company=company, credit=True, total__lt=0).exists()
    assert Invoice.objects.filter(company=company, cancelled=True, booked=False).exists()
    stored = {(b.month, b.account): b.amount for b in AccountBalance.objects.filter(company=company)}
    expected = {key: amount for key, amount in seeded.balances.items() if key[0] >= date(2024, 11, 1)}
    assert stored == expected
    assert run.api_calls > 0 and "reconnect" not in run.progress


@pytest.mark.django_db
def test_the_next_sync_reads_only_invoices_modified_since(connected):
    sync(connected)
    seeded = connected.sandbox.companies["100001"].invoices
    unpaid = next(row for row in seeded if row["Balance"] and not row["Cancelled"])
    unpaid.update(Balance=0.0, _modified=datetime.now(UTC))
    run = sync(connected)
    assert run.outcome == "succeeded", run.error
    last_listing = [r for r in connected.sandbox.requests if r.startswith("GET /3/invoices")][-1]
    assert "lastmodified=" in last_listing
    assert run.updated == 1 and run.unchanged == 0  # only the modified invoice came back
    assert Invoice.objects.get(company=connected.company, document_number=int(unpaid["DocumentNumber"])).balance == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fault",
    [("/3/invoices", 500, 2), ("/3/sie/2", 503, None), ("/3/accounts", 404, None)],
    ids=["invoice page 2", "SIE file", "accounts"],
)
def test_a_failed_page_leaves_the_books_as_they_were(connected, fault):
    sync(connected)
    company = connected.company
    before = snapshot(company)
    marks_before = Integration.objects.get(pk=connected.integration.pk).sync_state.sync_marks
    for row in connected.sandbox.companies["100001"].invoices:  # changes the failed run must not half-apply
        row.update(Balance=0.0, _modified=datetime.now(UTC))
    path, status, page = fault
    connected.sandbox.fail(path, status, page=page)
    run = sync(connected, full=True)
    assert run.outcome == "failed"
    assert run.error and str(status) in run.error
    assert snapshot(company) == before
    assert Integration.objects.get(pk=connected.integration.pk).sync_state.sync_marks == marks_before


@pytest.mark.django_db
def test_an_unreadable_sie_file_fails_the_run_and_changes_nothing(connected, monkeypatch):
    sync(connected)
    before = snapshot(connected.company)
    from integrations.providers.fortnox.sandbox import sie_export

    monkeypatch.setattr(sie_export, "export", lambda *args, **kwargs: b"#PSALDO 0 2026 3001 {} x\r\n")
    run = sync(connected)
    assert run.outcome == "failed" and run.error_kind == "bad_response" and "SIE" in run.error
    assert snapshot(connected.company) == before


@pytest.mark.django_db
def test_a_pipedrive_integration_is_not_synced_as_accounting(db):
    from tests import factories

    company = factories.company("Coeo")
    run = sync_financials(integration=factories.integration(company))
    assert run.outcome == "skipped"
