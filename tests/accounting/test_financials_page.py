"""Every figure on the financials pages against amounts worked out by hand, and who may see them.

The books (SIE signs: credit negative), with today 25 November 2026, so the last full month is
October 2026 and the 24 months run November 2024 – October 2026:

  Acme     Oct 2026: 3001 −100 000, 3305 −20 000, 5010 30 000, 7210 50 000, 8410 1 000, 1930 400 000
           Sep 2026: 3001 −80 000, 7210 50 000, 1930 300 000
           Aug 2026: 3001 −60 000, 7210 70 000, 1930 350 000
           Jan 2026: 3001 −10 000;  Oct 2025: 3001 −50 000, 7210 40 000;  Jan 2025: 3001 −5 000
  Burn AB  Aug–Oct 2026: 3001 −40 000, 7210 100 000 each; 1930 600 000 at the end of October
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from accounting import views
from accounting.models import AccountBalance, CompanyInformation, FinancialYear, Invoice
from dealflow.models import DealStatus, FxRate
from tests import factories
from tests.dealflow.conftest import user

TODAY = date(2026, 11, 25)

pytestmark = pytest.mark.django_db


def sek(amount: str) -> str:
    """As shown, whitespace collapsed (the page puts a non-breaking space after "SEK")."""
    return f"SEK {amount}"


def books(company, balances: dict[tuple[int, int], dict[int, int]]):
    CompanyInformation.objects.create(company=company, name=company.name, currency="SEK", synced_at=timezone.now())
    for remote_id, year in enumerate((2025, 2026), start=1):
        FinancialYear.objects.create(
            company=company, remote_id=remote_id, from_date=date(year, 1, 1), to_date=date(year, 12, 31)
        )
    for (year, month), accounts in balances.items():
        for account, amount in accounts.items():
            AccountBalance.objects.create(
                company=company, month=date(year, month, 1), account=account, amount=Decimal(amount)
            )


def invoice(company, number, **fields):
    values = {
        "invoice_date": date(2026, 10, 5),
        "due_date": date(2026, 11, 30),
        "total": Decimal(0),
        "net": Decimal(0),
        "vat": Decimal(0),
        "currency": "SEK",
        "currency_rate": Decimal(1),
        "balance": Decimal(0),
        "booked": True,
        **fields,
    }
    return Invoice.objects.create(company=company, document_number=number, **values)


@pytest.fixture
def acme(monkeypatch):
    monkeypatch.setattr(views, "today", lambda: TODAY)
    company = factories.company("Acme")
    books(
        company,
        {
            (2026, 10): {3001: -100000, 3305: -20000, 5010: 30000, 7210: 50000, 8410: 1000, 1930: 400000},
            (2026, 9): {3001: -80000, 7210: 50000, 1930: 300000},
            (2026, 8): {3001: -60000, 7210: 70000, 1930: 350000},
            (2026, 1): {3001: -10000},
            (2025, 10): {3001: -50000, 7210: 40000},
            (2025, 1): {3001: -5000},
        },
    )
    invoice(company, 1, net=Decimal(1000), vat=Decimal(250), total=Decimal(1250), balance=Decimal(1250))
    invoice(
        company,
        2,
        net=Decimal(100),
        total=Decimal(100),
        currency="EUR",
        currency_rate=Decimal("11.5"),
        balance=Decimal(110),
        due_date=date(2026, 11, 1),
    )
    invoice(company, 3, net=Decimal(5000), total=Decimal(6250), balance=Decimal(6250), cancelled=True, booked=False)
    invoice(company, 4, net=Decimal(-200), total=Decimal(-250), balance=Decimal(-250), credit=True)
    won = factories.stage(factories.pipeline(factories.integration(company)), "Won")
    won_at = datetime(2026, 10, 10, 12, tzinfo=UTC)
    factories.deal(won, status=DealStatus.WON, value=Decimal(3000), currency="SEK", won_time=won_at)
    factories.deal(won, status=DealStatus.WON, value=Decimal(100), currency="EUR", won_time=won_at)
    FxRate.objects.update_or_create(
        date=date(2026, 10, 10), currency="SEK", defaults={"rate": Decimal(11), "source": "test"}
    )
    return company


@pytest.fixture
def burn(monkeypatch):
    monkeypatch.setattr(views, "today", lambda: TODAY)
    company = factories.company("Burn AB", slug="burn")
    monthly = {3001: -40000, 7210: 100000}
    books(company, {(2026, 8): monthly, (2026, 9): monthly, (2026, 10): {**monthly, 1930: 600000}})
    return company


class Tables(HTMLParser):
    """Each table's rows (by the table's id) as lists of cell texts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page(client, url, who):
    client.force_login(who)
    response = client.get(url, headers={"accept-language": "en"})
    assert response.status_code == 200
    return response


def row(table, label):
    return next(cells for cells in table if cells and cells[0] == label)


def test_revenue_costs_result_and_cash_per_month(client, acme):
    response = page(client, reverse("accounting:financials", args=["acme"]), user("stella", is_staff=True))
    monthly = Tables(response.content.decode()).tables["monthly"]
    assert len(monthly) == 1 + 24 and monthly[1][0] == "Nov 2024" and monthly[-1][0] == "Oct 2026"
    assert row(monthly, "Oct 2026")[1:] == [sek("120,000"), sek("80,000"), sek("39,000"), sek("400,000")]
    assert row(monthly, "Sep 2026")[1:] == [sek("80,000"), sek("50,000"), sek("30,000"), sek("300,000")]
    assert row(monthly, "Aug 2026")[1:] == [sek("60,000"), sek("70,000"), f"−{sek('10,000')}", sek("350,000")]
    assert row(monthly, "Dec 2025")[1:] == [sek("0"), sek("0"), sek("0"), "—"]


def test_year_to_date_against_the_same_months_last_year(client, acme):
    text = " ".join(
        page(client, reverse("accounting:financials", args=["acme"]), user("stella", is_staff=True))
        .content.decode()
        .split()
    )
    # Jan–Oct 2026: revenue 10 000 + 60 000 + 80 000 + 120 000; costs 70 000 + 50 000 + 80 000;
    # result 270 000 − 200 000 − 1 000 (interest). Jan–Oct 2025: revenue 55 000, costs 40 000.
    assert (
        f'Revenue, year to date</dt><dd>{sek("270,000")}</dd><dd class="muted">Same period last year: {sek("55,000")}'
        in text
    )
    assert (
        f'Costs, year to date</dt><dd>{sek("200,000")}</dd><dd class="muted">Same period last year: {sek("40,000")}'
        in text
    )
    assert (
        f'Result, year to date</dt><dd>{sek("69,000")}</dd><dd class="muted">Same period last year: {sek("15,000")}'
        in text
    )


def test_invoiced_beside_won_pipeline_per_month(client, acme):
    tables = Tables(
        page(client, reverse("accounting:financials", args=["acme"]), user("stella", is_staff=True)).content.decode()
    ).tables
    # Invoiced: 1 000 SEK + 100 EUR × 11.5 − 200 (credit note); the cancelled 5 000 left out.
    # Won: 3 000 SEK + 100 EUR at 11 SEK per euro.
    assert row(tables["invoiced"], "Oct 2026")[1:] == [sek("1,950"), sek("4,100")]
    assert row(tables["invoiced"], "Sep 2026")[1:] == [sek("0"), sek("0")]


def test_unpaid_and_overdue_invoices(client, acme):
    response = page(client, reverse("accounting:financials", args=["acme"]), user("stella", is_staff=True))
    text = " ".join(response.content.decode().split())
    # Unpaid: 1 250 SEK and 110 EUR × 11.5 = 1 265 SEK; overdue (due 1 Nov): the euro one.
    assert f'Unpaid invoices</dt><dd>{sek("2,515")}</dd><dd class="muted">Invoices: 2' in text
    assert f'Overdue invoices</dt><dd>{sek("1,265")}</dd><dd class="muted">Invoices: 1' in text
    unpaid = Tables(response.content.decode()).tables["unpaid"]
    assert [cells[0] for cells in unpaid[1:]] == ["2", "1"]
    assert "overdue" in row(unpaid, "2")[2] and "overdue" not in row(unpaid, "1")[2]


def test_portfolio_figures_growth_cash_and_runway(client, acme, burn):
    response = page(client, reverse("accounting:portfolio"), user("stella", is_staff=True))
    table = Tables(response.content.decode()).tables["portfolio-financials"]
    # Acme: last 12 months 270 000 against 55 000 before: +391 %; profitable, so no runway.
    assert row(table, "Acme")[1:] == [sek("120,000"), sek("270,000"), "391%", sek("400,000"), "—"]
    # Burn AB: a loss of 60 000 a month for three months, 600 000 in cash: 10 months.
    assert row(table, "Burn AB")[1:] == [sek("40,000"), sek("120,000"), "—", sek("600,000"), "10.0"]


def test_a_partner_sees_only_companies_they_may_see(client, acme, burn):
    partner = user("pia")
    acme.viewers.add(partner)
    client.force_login(partner)
    assert client.get(reverse("accounting:financials", args=["acme"])).status_code == 200
    assert client.get(reverse("accounting:financials", args=["burn"])).status_code == 404
    table = Tables(client.get(reverse("accounting:portfolio")).content.decode()).tables["portfolio-financials"]
    assert [cells[0] for cells in table[1:]] == ["Acme"]


def test_anonymous_visitors_are_sent_to_log_in(client, acme):
    response = client.get(reverse("accounting:financials", args=["acme"]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_company_without_books_says_so(client, monkeypatch):
    monkeypatch.setattr(views, "today", lambda: TODAY)
    factories.company("Empty")
    response = page(client, reverse("accounting:financials", args=["empty"]), user("stella", is_staff=True))
    assert "not connected" in response.content.decode()


def test_the_board_links_to_the_financials(client, acme):
    response = page(client, reverse("dealflow:company_board", args=["acme"]), user("stella", is_staff=True))
    assert reverse("accounting:financials", args=["acme"]) in response.content.decode()
