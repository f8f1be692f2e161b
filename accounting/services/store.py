"""Write downloaded books into the accounting tables, in the caller's one transaction."""

from __future__ import annotations

from django.utils import timezone

from accounting.models import Account, AccountBalance, CompanyInformation, FinancialYear, Invoice
from accounting.services.download import Books
from integrations.sync.diff import Tally

INVOICE_FIELDS = (
    "customer_number",
    "customer_name",
    "invoice_date",
    "due_date",
    "total",
    "net",
    "vat",
    "currency",
    "currency_rate",
    "cancelled",
    "credit",
    "booked",
    "balance",
)


def store(company_id: int, books: Books, *, currency: str = "SEK") -> Tally:
    tally = Tally()
    now = timezone.now()
    CompanyInformation.objects.update_or_create(
        company_id=company_id,
        defaults={
            "name": books.info.name[:200],
            "organisation_number": books.info.organisation_number[:40],
            "currency": currency,
            "synced_at": now,
        },
    )
    _years(company_id, books)
    _accounts(company_id, books)
    _invoices(company_id, books, tally, now)
    _balances(company_id, books, tally)
    return tally


def _years(company_id: int, books: Books) -> None:
    FinancialYear.objects.filter(company_id=company_id).exclude(remote_id__in=[y.id for y in books.years]).delete()
    for year in books.years:
        FinancialYear.objects.update_or_create(
            company_id=company_id, remote_id=year.id, defaults={"from_date": year.from_date, "to_date": year.to_date}
        )


def _accounts(company_id: int, books: Books) -> None:
    if not books.accounts:
        return
    Account.objects.filter(company_id=company_id).delete()
    Account.objects.bulk_create(
        Account(company_id=company_id, number=number, description=name[:200]) for number, name in books.accounts.items()
    )


def _invoices(company_id: int, books: Books, tally: Tally, now) -> None:
    stored = {invoice.document_number: invoice for invoice in Invoice.objects.filter(company_id=company_id)}
    new, changed = [], []
    for record in books.invoices:
        values = {name: getattr(record, name) for name in INVOICE_FIELDS}
        existing = stored.get(record.document_number)
        if existing is None:
            new.append(
                Invoice(company_id=company_id, document_number=record.document_number, last_modified=now, **values)
            )
        elif any(getattr(existing, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(existing, name, value)
            existing.last_modified = now
            changed.append(existing)
        else:
            tally.unchanged += 1
    Invoice.objects.bulk_create(new, batch_size=500)
    Invoice.objects.bulk_update(changed, [*INVOICE_FIELDS, "last_modified"], batch_size=500)
    tally.created += len(new)
    tally.updated += len(changed)


def _balances(company_id: int, books: Books, tally: Tally) -> None:
    for year in books.balance_years:
        AccountBalance.objects.filter(company_id=company_id, month__range=(year.from_date, year.to_date)).delete()
    AccountBalance.objects.bulk_create(
        (
            AccountBalance(company_id=company_id, month=month, account=account, amount=amount)
            for (month, account), amount in books.balances.items()
        ),
        batch_size=1000,
    )
    tally.created += len(books.balances)
