"""What the financials pages show, assembled from the selectors (the views stay thin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounting import selectors
from accounting.models import CompanyInformation
from dealflow.metrics.charts import Chart
from integrations.models import Integration
from integrations.providers.base import Category

MONTHS = 24


@dataclass
class Financials:
    company: object
    integration: Integration | None
    information: CompanyInformation | None
    months: list[selectors.MonthFigures]
    ytd: selectors.PeriodTotals | None
    ytd_last_year: selectors.PeriodTotals | None
    pipeline: selectors.Pipeline | None
    receivables: selectors.Receivables | None
    charts: list[Chart]

    @property
    def currency(self) -> str:
        return self.information.currency if self.information else self.company.reporting_currency

    @property
    def largest(self) -> Decimal:
        """The largest monthly amount, for the table's bars."""
        values = [abs(value) for m in self.months for value in (m.revenue, m.costs, m.result)]
        return max(values, default=Decimal(0)) or Decimal(1)


def accounting_integration(company) -> Integration | None:
    return (
        Integration.objects.filter(company=company, category=Category.ACCOUNTING)
        .select_related("sync_state")
        .only("pk", "provider", "category", "company_id", "is_enabled", "sync_state")
        .first()
    )


def financials(company, today: date) -> Financials:
    information = CompanyInformation.objects.filter(company=company).first()
    page = Financials(company, accounting_integration(company), information, [], None, None, None, None, [])
    if information is None:
        return page
    months = selectors.months_ending(selectors.last_full_month(today), MONTHS)
    page.months = selectors.monthly_figures(company, months)
    page.ytd, page.ytd_last_year = selectors.year_to_date(company, today)
    page.pipeline = selectors.invoiced_and_won(company, months, information.currency)
    page.receivables = selectors.receivables(company, today)
    labels = [date_format(month, "M Y") for month in months]
    page.charts = [
        Chart(
            "results",
            _("Revenue, costs and result per month"),
            labels,
            {
                _("Revenue"): [m.revenue for m in page.months],
                _("Costs"): [m.costs for m in page.months],
                _("Result"): [m.result for m in page.months],
            },
        ),
        Chart("cash", _("Cash at month end"), labels, {_("Cash"): [m.cash for m in page.months]}, kind="line"),
        Chart(
            "invoiced",
            _("Invoiced and won pipeline per month"),
            labels,
            {_("Invoiced"): [r.invoiced for r in page.pipeline.rows], _("Won"): [r.won for r in page.pipeline.rows]},
        ),
    ]
    return page
