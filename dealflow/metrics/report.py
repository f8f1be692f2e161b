"""The metrics of some companies, each and together, for a period, in one currency: what the pages,
the CSV exports and `pipeline_metrics` show. `metrics_of` assembles one company's (or the
portfolio's) figures; every group of formulas runs its queries once for all companies.

The overview (`overview=True`) reads only what it shows: the open pipeline by stage, the period's
new, won and lost figures and the portfolio's won and new trends; no funnel, time in stage,
hygiene, forecast, sales cycle, lost reasons or pipeline snapshots (those keys are then absent)."""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from dealflow.fx import load_rates
from dealflow.metrics import closed, funnel, hygiene, pipeline, stage_time, trends
from dealflow.metrics.period import Period
from dealflow.metrics.scope import Scope


@dataclass
class Report:
    period: Period
    currency: str
    rates_date: date | None
    companies: list  # PortfolioCompany, by name
    by_company: dict[str, dict]  # slug -> metrics
    portfolio: dict


@dataclass
class Fetched:
    scope: Scope
    closed: closed.ClosedRows
    pipeline: pipeline.PipelineRows
    trends: trends.TrendRows
    # None: not fetched (the overview)
    funnel: list[dict] | None = None
    stage_time: list[dict] | None = None
    hygiene: list[dict] | None = None


def build(
    companies,
    period: Period,
    currency: str,
    *,
    today: date | None = None,
    overview: bool = False,
    company_trends: bool = True,
    scope: Scope | None = None,
) -> Report:
    """The report of `companies`. `overview`: only what the overview shows (see above).
    `company_trends` False: each company's own trends are left out when there are several
    companies (the portfolio pages show the portfolio's; `pipeline_metrics` wants every one).
    `scope`: Scope.of(companies) when the caller read it already (the overview's cache key)."""
    today = today or timezone.localdate()
    scope = scope or Scope.of(companies)
    per_integration = company_trends and not overview or len(scope.companies) == 1
    data = Fetched(
        scope=scope,
        closed=closed.fetch(scope, period, currency, details=not overview),
        pipeline=pipeline.fetch(scope, today, forecast=not overview),
        trends=trends.fetch(scope, period, today, currency, per_integration=per_integration, snapshots=not overview),
    )
    if not overview:
        data.funnel = funnel.fetch(scope, period)
        data.stage_time = stage_time.fetch(scope, period)
        data.hygiene = hygiene.fetch(scope, timezone.now(), today)
    currencies = data.closed.currencies() | data.pipeline.currencies() | data.trends.currencies()
    since = min(period.since, trends.first_month(today))
    rates = load_rates(currency, currencies, since=since)
    by_company = {
        company.slug: metrics_of(data, rates, scope.integrations_of(company), {company.pk})
        for company in scope.companies
    }
    portfolio = metrics_of(data, rates, scope.integration_ids, {company.pk for company in scope.companies})
    return Report(
        period=period,
        currency=currency,
        rates_date=rates.latest_day,
        companies=scope.companies,
        by_company=by_company,
        portfolio=portfolio,
    )


def metrics_of(data: Fetched, rates, ids: set[int], company_ids: set[int]) -> dict:
    """Every figure of some integrations (one company's, or all of the scope's for the portfolio).
    A new group of formulas adds its keys here (hygiene: dealflow/metrics/hygiene.py); the pages
    show a group only when its key is present."""
    metrics = closed.compute(data.closed, ids, rates)
    metrics.update(pipeline.compute(data.pipeline, ids, rates, data.scope))
    if "sales_cycle_days" in metrics:
        metrics["sales_velocity_per_month"] = closed.sales_velocity(metrics["open_deals"], metrics)
    if data.funnel is not None:
        metrics["funnel"] = funnel.compute(data.funnel, ids)
        metrics["time_in_stage_days"] = stage_time.compute(data.stage_time, ids, data.scope)
        metrics["hygiene"] = hygiene.compute(data.hygiene, ids)
    if data.trends.per_integration or ids == data.scope.integration_ids:
        metrics["trends"] = trends.compute(data.trends, ids, company_ids, rates)
    metrics["unconverted"] = unconverted(metrics)
    return metrics


def unconverted(metrics: dict) -> dict:
    """Amounts in currencies without a rate, by figure, then currency: listed apart on the pages."""
    found = {key: metrics[key]["unconverted"] for key in ("new", "won", "lost") if "unconverted" in metrics[key]}
    for key in ("pipeline", "forecast"):  # forecast_unconverted is absent when the forecast is
        if metrics.get(f"{key}_unconverted"):
            found[key] = metrics[f"{key}_unconverted"]
    return found
