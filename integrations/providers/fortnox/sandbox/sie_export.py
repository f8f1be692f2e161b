"""The sandbox's SIE export: a type 2 (period balances) file of one financial year, in CP437, as
Fortnox's /3/sie/2 gives it: #RAR for the year and the one before, #KONTO, #IB/#UB of the balance
accounts, #PSALDO per month (result accounts: the month's movement; balance accounts: the balance
at the month's end), for the months booked so far."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .seed import ACCOUNTS, Company


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def export(company: Company, year_id: int, *, generated: date, sie_type: int = 2) -> bytes:
    years = {year["Id"]: year for year in company.years}
    year = years[year_id]
    start, end = date.fromisoformat(year["FromDate"]), date.fromisoformat(year["ToDate"])
    lines = [
        "#FLAGGA 0",
        '#PROGRAM "Fortnox sandbox" 1.0',
        "#FORMAT PC8",
        f"#GEN {generated:%Y%m%d}",
        f"#SIETYP {sie_type}",
        f"#FNAMN {_quoted(company.name)}",
        f"#ORGNR {company.organisation_number}",
        '#KPTYP "BAS2014"',
        "#VALUTA SEK",
        f"#RAR 0 {start:%Y%m%d} {end:%Y%m%d}",
    ]
    previous = years.get(year_id - 1)
    if previous:
        lines.append(f"#RAR -1 {previous['FromDate'].replace('-', '')} {previous['ToDate'].replace('-', '')}")
    lines += [f"#KONTO {number} {_quoted(name)}" for number, name in sorted(ACCOUNTS.items())]
    months = sorted({month for month, _ in company.balances if start <= month <= end})
    balance_accounts = sorted({account for _, account in company.balances if account < 3000})
    for account in balance_accounts:
        opening = _opening(company, account, start)
        closing = company.balances.get((months[-1], account), opening) if months else opening
        lines.append(f"#IB 0 {account} {opening:.2f}")
        lines.append(f"#UB 0 {account} {closing:.2f}")
    for month in months:
        for (when, account), amount in sorted(company.balances.items()):
            if when == month:
                lines.append(f"#PSALDO 0 {month:%Y%m} {account} {{}} {amount:.2f}")
    return ("\r\n".join(lines) + "\r\n").encode("cp437")


def _opening(company: Company, account: int, start: date) -> Decimal:
    earlier = sorted(month for month, number in company.balances if number == account and month < start)
    return company.balances[(earlier[-1], account)] if earlier else Decimal("0.00")
