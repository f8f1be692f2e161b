"""Read what the financials need from Fortnox into memory (a few thousand rows at most): nothing
is written until everything has arrived, so a failure part-way leaves the stored books as they were."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from integrations.providers.base import PageInfo
from integrations.providers.fortnox import sie
from integrations.providers.fortnox.client import FortnoxClient
from integrations.providers.fortnox.records import CompanyInfo, FinancialYear, Invoice

# Balances are read for every financial year overlapping this many months before the current one.
MONTHS_OF_BALANCES = 24


@dataclass
class Books:
    info: CompanyInfo
    years: list[FinancialYear]
    accounts: dict[int, str]
    invoices: list[Invoice]
    # Only the years read: their stored balances are replaced by these.
    balance_years: list[FinancialYear] = field(default_factory=list)
    balances: dict[tuple[date, int], Decimal] = field(default_factory=dict)


def first_balance_month(today: date) -> date:
    year, month = divmod(today.year * 12 + today.month - 1 - MONTHS_OF_BALANCES, 12)
    return date(year, month + 1, 1)


def download(
    client: FortnoxClient,
    *,
    modified_since: datetime | None,
    today: date,
    on_page: Callable[[PageInfo], None],
) -> Books:
    info = client.company_information()
    years = client.financial_years(on_page=on_page)
    current = max((year for year in years if year.from_date <= today), key=lambda year: year.from_date, default=None)
    accounts = {}
    if current is not None:
        accounts = {
            account.number: account.description for account in client.iter_accounts(current.id, on_page=on_page)
        }
    invoices = list(client.iter_invoices(modified_since=modified_since, on_page=on_page))
    books = Books(info=info, years=years, accounts=accounts, invoices=invoices)
    start = first_balance_month(today)
    for year in sorted(years, key=lambda year: year.from_date):
        if year.to_date < start or year.from_date > today:
            continue
        parsed = sie.parse(client.sie(2, year.id))
        for balance in parsed.periods:
            if balance.year_index == 0:
                books.balances[(balance.period, balance.account)] = balance.amount
        for number, name in parsed.accounts.items():
            books.accounts.setdefault(number, name)
        books.balance_years.append(year)
        on_page(PageInfo(f"SIE {year.from_date:%Y}", 1, len(parsed.periods), len(books.balances)))
    return books
