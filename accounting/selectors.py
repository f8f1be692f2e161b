"""The financial figures shown on the financials pages, read from the accounting tables.

Signs: account balances are stored as in the books (debit positive), so revenue (BAS 3000–3999)
and the result (3000–8999) are negated; costs are 4000–7999; cash is the month-end balance of
1900–1999 (cash and bank). A month means the calendar month; "the last full month" is the one
before today's. Amounts are in the books' currency (CompanyInformation.currency, SEK).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum

from accounting.models import AccountBalance, CompanyInformation, FinancialYear, Invoice
from dealflow.fx import Total, load_rates
from dealflow.models import Deal, DealStatus

REVENUE = (3000, 3999)
COSTS = (4000, 7999)
RESULT = (3000, 8999)
CASH = (1900, 1999)
ZERO = Decimal(0)


def add_months(month: date, count: int) -> date:
    year, index = divmod(month.year * 12 + month.month - 1 + count, 12)
    return date(year, index + 1, 1)


def last_full_month(today: date) -> date:
    return add_months(today.replace(day=1), -1)


def months_ending(last: date, count: int) -> list[date]:
    return [add_months(last, offset) for offset in range(1 - count, 1)]


@dataclass(frozen=True)
class MonthFigures:
    month: date
    revenue: Decimal
    costs: Decimal
    result: Decimal
    cash: Decimal | None  # None: no balance for the month


def monthly_figures(company, months: list[date]) -> list[MonthFigures]:
    """Revenue, costs, result and cash of each month (months without books: zero, cash None)."""
    rows = (
        AccountBalance.objects.filter(company=company, month__in=months)
        .values("month")
        .annotate(
            revenue=Sum("amount", filter=Q(account__range=REVENUE)),
            costs=Sum("amount", filter=Q(account__range=COSTS)),
            result=Sum("amount", filter=Q(account__range=RESULT)),
            cash=Sum("amount", filter=Q(account__range=CASH)),
        )
    )
    by_month = {row["month"]: row for row in rows}
    figures = []
    for month in months:
        row = by_month.get(month, {})
        figures.append(
            MonthFigures(
                month=month,
                revenue=-(row.get("revenue") or ZERO),
                costs=row.get("costs") or ZERO,
                result=-(row.get("result") or ZERO),
                cash=row.get("cash"),
            )
        )
    return figures


@dataclass(frozen=True)
class PeriodTotals:
    first: date
    last: date
    revenue: Decimal
    costs: Decimal
    result: Decimal


def _totals(company, first: date, last: date) -> PeriodTotals:
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    figures = monthly_figures(company, months)
    return PeriodTotals(
        first,
        last,
        sum((f.revenue for f in figures), ZERO),
        sum((f.costs for f in figures), ZERO),
        sum((f.result for f in figures), ZERO),
    )


def year_to_date(company, today: date) -> tuple[PeriodTotals, PeriodTotals]:
    """From the start of the financial year holding the last full month through that month, and the
    same months a year earlier."""
    last = last_full_month(today)
    year = FinancialYear.objects.filter(company=company, from_date__lte=last, to_date__gte=last).first()
    first = year.from_date.replace(day=1) if year else last.replace(month=1)
    return _totals(company, first, last), _totals(company, add_months(first, -12), add_months(last, -12))


@dataclass(frozen=True)
class InvoicedAndWon:
    month: date
    invoiced: Decimal
    won: Decimal


@dataclass
class Pipeline:
    rows: list[InvoicedAndWon]
    currency: str
    unconverted: dict[str, Decimal] = field(default_factory=dict)  # won value with no rate, by currency


def invoiced_and_won(company, months: list[date], currency: str) -> Pipeline:
    """Net invoiced per month in `currency` (cancelled invoices left out, credit notes subtracted)
    beside the value of deals won that month, converted at the day's rate where both currencies
    have one; won value without a rate is kept apart by currency."""
    first, end = months[0], add_months(months[-1], 1)
    invoiced: defaultdict[date, Decimal] = defaultdict(Decimal)
    invoices = Invoice.objects.filter(company=company, cancelled=False, invoice_date__gte=first, invoice_date__lt=end)
    for day, net, rate, invoice_currency in invoices.values_list("invoice_date", "net", "currency_rate", "currency"):
        invoiced[day.replace(day=1)] += net if invoice_currency == currency else net * rate
    won = Deal.objects.filter(
        integration__company=company, status=DealStatus.WON, won_time__date__gte=first, won_time__date__lt=end
    ).values_list("won_time", "value", "currency")
    won = list(won)
    rates = load_rates(currency, {deal_currency for _, _, deal_currency in won}, since=first)
    totals: defaultdict[date, Total] = defaultdict(Total)
    unconverted: defaultdict[str, Decimal] = defaultdict(Decimal)
    for moment, value, deal_currency in won:
        day = moment.date()
        totals[day.replace(day=1)].add(rates, value, deal_currency or currency, day)
    for total in totals.values():
        for code, amount in total.unconverted.items():
            unconverted[code] += amount
    rows = [
        InvoicedAndWon(month, invoiced[month], totals[month].value if month in totals else ZERO) for month in months
    ]
    return Pipeline(rows=rows, currency=currency, unconverted=dict(unconverted))


@dataclass(frozen=True)
class Receivables:
    unpaid: list[Invoice]
    unpaid_total: Decimal
    overdue: list[Invoice]
    overdue_total: Decimal


def receivables(company, today: date) -> Receivables:
    """Invoices with money still owed (balance above zero, not cancelled), in the books' currency;
    overdue: past their due date."""
    unpaid = list(Invoice.objects.filter(company=company, cancelled=False, balance__gt=0).order_by("due_date"))
    overdue = [invoice for invoice in unpaid if invoice.due_date and invoice.due_date < today]

    def total(invoices):
        return sum((invoice.balance * invoice.currency_rate for invoice in invoices), ZERO)

    return Receivables(unpaid, total(unpaid), overdue, total(overdue))


@dataclass(frozen=True)
class PortfolioRow:
    company: object
    currency: str
    last_month_revenue: Decimal
    rolling_revenue: Decimal
    previous_rolling_revenue: Decimal
    growth: Decimal | None  # a fraction; None without revenue in the previous 12 months
    cash: Decimal | None
    runway_months: Decimal | None  # None: not burning cash (profitable)


def portfolio_row(company, information: CompanyInformation, today: date) -> PortfolioRow:
    last = last_full_month(today)
    figures = monthly_figures(company, months_ending(last, 24))
    rolling = sum((f.revenue for f in figures[12:]), ZERO)
    previous = sum((f.revenue for f in figures[:12]), ZERO)
    cash = figures[-1].cash
    burn = -sum((f.result for f in figures[-3:]), ZERO) / 3
    return PortfolioRow(
        company=company,
        currency=information.currency,
        last_month_revenue=figures[-1].revenue,
        rolling_revenue=rolling,
        previous_rolling_revenue=previous,
        growth=(rolling - previous) / previous if previous > 0 else None,
        cash=cash,
        runway_months=cash / burn if burn > 0 and cash is not None else None,
    )


def portfolio(companies, today: date) -> list[PortfolioRow]:
    """A row per company with books (those without a Fortnox sync yet are left out)."""
    information = {info.company_id: info for info in CompanyInformation.objects.filter(company__in=companies)}
    return [
        portfolio_row(company, information[company.pk], today) for company in companies if company.pk in information
    ]
