"""Two Swedish companies for the sandbox, generated from a fixed seed relative to `today`: the BAS
accounts, 24 months of customer invoices (SEK, some EUR, credit notes, cancelled ones) and the
monthly balances the invoices and costs give, including cash.

Nordljus AB is profitable and growing; Fjällvind Robotics AB loses money and burns its cash.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
EUR_RATE = Decimal("11.4500")
VAT = Decimal("0.25")

ACCOUNTS = {
    1510: "Kundfordringar",
    1930: "Företagskonto / affärskonto",
    2081: "Aktiekapital",
    2440: "Leverantörsskulder",
    2611: "Utgående moms på försäljning inom Sverige, 25 %",
    3001: "Försäljning inom Sverige, 25 % moms",
    3305: "Försäljning tjänster till land utanför EU",
    4010: "Inköp material och varor",
    5010: "Lokalhyra",
    6540: "IT-tjänster",
    7210: "Löner till tjänstemän",
    7510: "Arbetsgivaravgifter 31,42 %",
    8310: "Ränteintäkter från omsättningstillgångar",
    8410: "Räntekostnader för skulder till kreditinstitut",
}
CASH_ACCOUNT = 1930


@dataclass(frozen=True)
class Profile:
    tenant_id: str
    name: str
    organisation_number: str
    first_month_revenue: Decimal  # net SEK invoiced in the first of the 24 months
    monthly_growth: Decimal
    salaries: Decimal
    rent: Decimal
    it: Decimal
    opening_cash: Decimal
    customers: tuple[str, ...]


PROFILES = (
    Profile(
        "100001",
        "Nordljus AB",
        "556677-8899",
        Decimal("900000"),
        Decimal("0.02"),
        Decimal("380000"),
        Decimal("65000"),
        Decimal("18000"),
        Decimal("2500000"),
        ("Åkesson Bygg AB", "Göteborgs Energi AB", "Malmö Stad", "Örebro Läns Landsting", "Nordic Wind Oy"),
    ),
    Profile(
        "100002",
        "Fjällvind Robotics AB",
        "559012-3456",
        Decimal("120000"),
        Decimal("0.04"),
        Decimal("420000"),
        Decimal("55000"),
        Decimal("30000"),
        Decimal("16000000"),
        ("Skärgårdens Logistik AB", "Lindö Hamn AB", "Deutsche Robotik GmbH", "Umeå Universitet"),
    ),
)


@dataclass
class Company:
    tenant_id: str
    name: str
    organisation_number: str
    years: list[dict] = field(default_factory=list)  # {"Id", "FromDate", "ToDate"}
    invoices: list[dict] = field(default_factory=list)  # Fortnox shape plus "_modified" (aware datetime)
    # SIE-signed monthly figures: result accounts the month's movement, balance accounts month-end balance.
    balances: dict[tuple[date, int], Decimal] = field(default_factory=dict)


def months_back(today: date, count: int) -> list[date]:
    """The first days of the `count` months before today's month, oldest first, then today's."""
    first = today.replace(day=1)
    months = []
    for back in range(count, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        months.append(date(year, month + 1, 1))
    return months


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def build(profile: Profile, today: date) -> Company:
    rng = random.Random(profile.tenant_id)
    company = Company(profile.tenant_id, profile.name, profile.organisation_number)
    months = months_back(today, 24)
    for index, year in enumerate(range(months[0].year, today.year + 1), start=1):
        company.years.append({"Id": index, "FromDate": f"{year}-01-01", "ToDate": f"{year}-12-31"})
    number = 1000
    cash = profile.opening_cash
    for position, month in enumerate(months):
        target = profile.first_month_revenue * (1 + profile.monthly_growth) ** position
        revenue_sek, export_sek, number = _invoices(company, profile, rng, month, today, target, number)
        salaries = _money(profile.salaries * (1 + Decimal("0.005") * position))
        costs = {
            4010: _money((revenue_sek + export_sek) * Decimal("0.12")),
            5010: profile.rent,
            6540: profile.it,
            7210: salaries,
            7510: _money(salaries * Decimal("0.3142")),
            8410: Decimal("4200.00"),
        }
        figures = {3001: -revenue_sek, 3305: -export_sek, 8310: Decimal("-350.00"), **costs}
        for account, amount in figures.items():
            company.balances[(month, account)] = amount
        cash += -sum(figures.values())  # what came in less what went out (VAT and timing aside)
        company.balances[(month, CASH_ACCOUNT)] = cash
    return company


def _invoices(company, profile, rng, month, today, target, number):
    """Invoices of one month adding up (net, SEK, booked) to about `target`; returns the booked net
    SEK of domestic and export sales, and the next document number."""
    domestic = export = Decimal(0)
    count = rng.randint(6, 10)
    for _ in range(count):
        number += 1
        day = min(month + timedelta(days=rng.randint(0, 27)), today)
        euro = rng.random() < 0.2
        net_sek = _money(target / count * Decimal(str(rng.uniform(0.7, 1.3))))
        credit = rng.random() < 0.05
        cancelled = not credit and rng.random() < 0.05
        if credit:
            net_sek = -net_sek
        rate = EUR_RATE if euro else Decimal(1)
        net = _money(net_sek / rate)
        vat = Decimal(0) if euro else _money(net * VAT)
        total = net + vat
        due = day + timedelta(days=30)
        paid = not cancelled and (due < today - timedelta(days=20) or rng.random() < 0.4)
        company.invoices.append(
            {
                "DocumentNumber": str(number),
                "CustomerNumber": str(rng.randint(1, len(profile.customers))),
                "CustomerName": rng.choice(profile.customers),
                "InvoiceDate": day.isoformat(),
                "DueDate": due.isoformat(),
                "Total": float(total),
                "Net": float(net),
                "TotalVat": float(vat),
                "Currency": "EUR" if euro else "SEK",
                "CurrencyRate": float(rate),
                "CurrencyUnit": 1,
                "Cancelled": cancelled,
                "Credit": credit,
                "Booked": not cancelled,
                "Balance": 0.0 if paid or cancelled else float(total),
                "Sent": True,
                "_modified": datetime.combine(day, time(12), tzinfo=UTC),
            }
        )
        if cancelled:
            continue
        if euro:
            export += _money(net * rate)
        else:
            domestic += net_sek
    return domestic, export, number


def companies(today: date) -> dict[str, Company]:
    return {profile.tenant_id: build(profile, today) for profile in PROFILES}
