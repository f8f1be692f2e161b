"""The metrics pages: the portfolio overview (the landing page after login), a company's metrics and
the portfolio's, each with a CSV export. Thin views over dealflow.metrics; access as on the board
(dealflow.access)."""

import csv
from functools import partial
from types import SimpleNamespace

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from dealflow.access import BoardScope, board_login_required
from dealflow.freshness import companies_health
from dealflow.metrics import pages
from dealflow.metrics.overview_cache import cached_overview
from dealflow.metrics.period import DEFAULT_DAYS, PRESETS, PeriodError, last_days, period_from
from dealflow.metrics.report import build

TOTAL = SimpleNamespace(name=_("Portfolio total"), slug="")
CHART_CSV_URL = reverse_lazy("dealflow:portfolio_metrics_csv")


def request_period(request):
    """The URL's period and an error message when it could not be read (then the default period)."""
    try:
        return period_from(
            days=request.GET.get("days"), since=request.GET.get("since"), until=request.GET.get("until")
        ), ""
    except PeriodError as error:
        return last_days(DEFAULT_DAYS), str(error)


def sorting(request, measures) -> tuple[str | None, bool]:
    sort = request.GET.get("sort")
    if sort not in {measure.key for measure in measures}:
        return None, False
    return sort, request.GET.get("dir") != "asc"


def headers(request, measures, period, sort, descending) -> list[dict]:
    """Each column's label, its sort link (the other direction when it is the sorted one) and aria-sort."""
    result = []
    for measure in measures:
        current = measure.key == sort
        direction = "asc" if current and descending else "desc"
        aria = ("descending" if descending else "ascending") if current else None
        query = f"{period.query()}&sort={measure.key}&dir={direction}"
        result.append({"measure": measure, "url": f"?{query}", "aria_sort": aria})
    return result


def page_context(request, scope, period, error, report) -> dict:
    return {
        "scope": scope,
        "period": period,
        "period_error": error,
        "presets": PRESETS,
        "report": report,
        "stages": pages.STAGE_LABELS,
    }


def render_page(request, template, context, error):
    return render(request, template, context, status=400 if error else 200)


@board_login_required
@require_safe
def overview(request):
    scope = BoardScope.for_request(request, None)
    if len(scope.companies) == 1:
        # One company: its board is the overview.
        return redirect("dealflow:company_board", scope.companies[0].slug)
    period, error = request_period(request)
    shown = partial(pages.overview_shown, total=TOTAL, period=period, chart_csv_url=CHART_CSV_URL)
    report, parts = cached_overview(scope.companies, period, settings.REPORTING_CURRENCY, shown)
    # Sync health depends on the clock: read per request, never cached.
    rows = pages.company_rows(report, companies_health(scope.companies, now=timezone.now()))
    sort, descending = sorting(request, pages.OVERVIEW)
    rows = pages.sorted_rows(rows, pages.OVERVIEW, sort, descending)
    total = {"company": TOTAL, "metrics": report.portfolio}
    context = page_context(request, scope, period, error, report)
    context.update(
        rows=rows,
        table=[{"cells": parts["cells"][row["company"].slug], "health": row.get("health")} for row in [*rows, total]],
        headers=headers(request, pages.OVERVIEW, period, sort, descending),
        metrics=report.portfolio,
        charts_html=parts["charts"],
        csv_url=reverse("dealflow:overview_csv"),
    )
    return render_page(request, "dealflow/metrics/overview.html", context, error)


@board_login_required
@require_safe
def portfolio_metrics(request):
    scope = BoardScope.for_request(request, None)
    period, error = request_period(request)
    report = build(scope.companies, period, settings.REPORTING_CURRENCY, company_trends=False)
    sort, descending = sorting(request, pages.COMPARISON)
    context = page_context(request, scope, period, error, report)
    context.update(
        rows=pages.sorted_rows(pages.company_rows(report), pages.COMPARISON, sort, descending),
        headers=headers(request, pages.COMPARISON, period, sort, descending),
        total={"company": TOTAL, "metrics": report.portfolio},
        metrics=report.portfolio,
        charts=pages.charts(report.portfolio, report.currency),
        csv_url=reverse("dealflow:portfolio_metrics_csv"),
        chart_csv_url=reverse("dealflow:portfolio_metrics_csv"),
    )
    return render_page(request, "dealflow/metrics/metrics.html", context, error)


@board_login_required
@require_safe
def company_metrics(request, slug):
    scope = BoardScope.for_request(request, slug)
    period, error = request_period(request)
    report = build([scope.company], period, scope.company.reporting_currency)
    metrics = report.by_company[slug]
    context = page_context(request, scope, period, error, report)
    csv_url = reverse("dealflow:company_metrics_csv", args=[slug])
    context.update(
        metrics=metrics, charts=pages.charts(metrics, report.currency), csv_url=csv_url, chart_csv_url=csv_url
    )
    return render_page(request, "dealflow/metrics/metrics.html", context, error)


# --- CSV ---------------------------------------------------------------------------------------


def csv_response(lines, name: str, period) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{period.since}-{period.until}.csv"'
    writer = csv.writer(response)
    writer.writerows([[str(cell) if cell is not None else "" for cell in line] for line in lines])
    return response


def chart_lines(metrics, currency, table):
    """A chart's data table, or None when `table` names no chart."""
    chart = next((chart for chart in pages.charts(metrics, currency) if chart.key == table), None)
    if chart is None:
        return None
    rows = [[label, *(pages.plain_money(value) for value in values)] for label, *values in chart.rows]
    return [[str(chart.title)], ["", *chart.series], *rows]


def csv_or_400(request, lines, name, period, error):
    if error or lines is None:
        return HttpResponse(error or _("No such table."), status=400, content_type="text/plain; charset=utf-8")
    return csv_response(lines, name, period)


@board_login_required
@require_safe
def overview_csv(request):
    scope = BoardScope.for_request(request, None)
    period, error = request_period(request)
    report = build(scope.companies, period, settings.REPORTING_CURRENCY, overview=True)
    rows = pages.company_rows(report, companies_health(scope.companies, now=timezone.now()))
    rows.append({"company": TOTAL, "metrics": report.portfolio})
    lines = pages.csv_table(rows, pages.OVERVIEW, report.currency, report.rates_date)
    return csv_or_400(request, lines, "dealflow-overview", period, error)


@board_login_required
@require_safe
def portfolio_metrics_csv(request):
    scope = BoardScope.for_request(request, None)
    period, error = request_period(request)
    report = build(scope.companies, period, settings.REPORTING_CURRENCY, company_trends=False)
    if request.GET.get("table"):
        lines = chart_lines(report.portfolio, report.currency, request.GET["table"])
    else:
        rows = [*pages.company_rows(report), {"company": TOTAL, "metrics": report.portfolio}]
        lines = pages.csv_table(rows, pages.COMPARISON, report.currency, report.rates_date)
    return csv_or_400(request, lines, "dealflow-metrics-portfolio", period, error)


@board_login_required
@require_safe
def company_metrics_csv(request, slug):
    scope = BoardScope.for_request(request, slug)
    period, error = request_period(request)
    report = build([scope.company], period, scope.company.reporting_currency)
    if request.GET.get("table"):
        lines = chart_lines(report.by_company[slug], report.currency, request.GET["table"])
    else:
        lines = pages.csv_table(pages.company_rows(report), pages.COMPARISON, report.currency, report.rates_date)
    return csv_or_400(request, lines, f"dealflow-metrics-{slug}", period, error)
