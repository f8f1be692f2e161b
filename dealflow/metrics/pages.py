"""What the metrics pages and their CSV exports show, from a Report: the comparison and overview
tables (columns defined once, for the page, the sort and the CSV) and the charts."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dealflow.metrics.charts import Chart
from dealflow.metrics.pipeline import STAGES
from dealflow.stages import StandardStage
from dealflow.templatetags.dealflow_metrics import figure

STAGE_LABELS = {stage.value: stage.label for stage in StandardStage}


@dataclass(frozen=True)
class Measure:
    """One column of a table: its key (the sort parameter), label, kind (how it is written:
    count, money, rate, days, stage, health) and how to read it from a row."""

    key: str
    label: str
    kind: str
    get: Callable[[dict], object]

    def sort_value(self, row: dict):
        value = self.get(row)
        if self.kind == "stage":
            return value["weighted"]
        if self.kind == "health":
            return value.health if value else ""
        return value


def pipeline_total(metrics: dict, key: str) -> Decimal:
    return sum((metrics["pipeline"][stage][key] for stage in STAGES), Decimal(0))


COMPANY = Measure("company", _("Company"), "text", lambda row: row["company"].name)
COMPARISON = [
    COMPANY,
    Measure("new", _("New deals"), "count", lambda row: row["metrics"]["new"]["count"]),
    Measure("new_value", _("New deals' value"), "money", lambda row: row["metrics"]["new"]["value"]),
    Measure("won", _("Won"), "count", lambda row: row["metrics"]["won"]["count"]),
    Measure("won_value", _("Won value"), "money", lambda row: row["metrics"]["won"]["value"]),
    Measure("lost", _("Lost"), "count", lambda row: row["metrics"]["lost"]["count"]),
    Measure("win_rate", _("Win rate"), "rate", lambda row: row["metrics"]["win_rate"]),
    Measure("average_won_deal", _("Average won deal"), "money", lambda row: row["metrics"]["average_won_deal"]),
    Measure("cycle", _("Sales cycle (median days)"), "days", lambda row: row["metrics"]["sales_cycle_days"]["median"]),
    Measure("velocity", _("Sales velocity per month"), "money", lambda row: row["metrics"]["sales_velocity_per_month"]),
    Measure("open", _("Open deals"), "count", lambda row: row["metrics"]["open_deals"]),
    Measure("weighted", _("Weighted pipeline"), "money", lambda row: pipeline_total(row["metrics"], "weighted")),
]
OVERVIEW = [
    COMPANY,
    *[
        Measure(stage, STAGE_LABELS[stage], "stage", lambda row, key=stage: row["metrics"]["pipeline"][key])
        for stage in STAGES
    ],
    Measure("open", _("Open pipeline"), "money", lambda row: pipeline_total(row["metrics"], "value")),
    Measure("weighted", _("Weighted pipeline"), "money", lambda row: pipeline_total(row["metrics"], "weighted")),
    Measure("won_value", _("Won in the period"), "money", lambda row: row["metrics"]["won"]["value"]),
    Measure("win_rate", _("Win rate"), "rate", lambda row: row["metrics"]["win_rate"]),
    Measure("health", _("Sync"), "health", lambda row: row.get("health")),
]


def company_rows(report, health: dict | None = None) -> list[dict]:
    return [
        {"company": company, "metrics": report.by_company[company.slug], "health": (health or {}).get(company.pk)}
        for company in report.companies
    ]


def sorted_rows(rows: list[dict], measures: list[Measure], sort: str | None, descending: bool):
    """Rows sorted by a measure's key (unknown keys: as given); empty values last either way."""
    measure = next((measure for measure in measures if measure.key == sort), None)
    if measure is None:
        return rows
    present = [row for row in rows if measure.sort_value(row) is not None]
    empty = [row for row in rows if measure.sort_value(row) is None]
    return sorted(present, key=measure.sort_value, reverse=descending) + empty


def overview_table(rows: list[dict], measures: list[Measure], currency: str, period_query: str) -> list[list]:
    """The overview table's rows (the companies', then the total) as the text each cell shows, written
    here once so the template only places it: the template tags and includes per cell were about
    40 % of an overview request. Each row: a list of (kind, cell) pairs in `measures`' order."""
    weighted = gettext("weighted")
    table = []
    for row in rows:
        company = row["company"]
        links = company_links(company.slug, period_query) if company.slug else None
        cells = []
        for measure in measures:
            value = measure.get(row)
            if measure.kind == "text":
                cell = {"name": company.name, "url": links and links["metrics"]}
            elif measure.kind == "stage":
                cell = {
                    "url": links and f"{links['board']}#column-{measure.key}",
                    "label": gettext("%(company)s, %(stage)s: board column")
                    % {"company": company.name, "stage": measure.label},
                    "count": figure(value["count"], "count"),
                    "value": figure(value["value"], "money", currency),
                    "weighted": f"{figure(value['weighted'], 'money', currency)} {weighted}",
                }
            else:
                cell = figure(value, measure.kind, currency)
            cells.append((measure.kind, cell))
        table.append(cells)
    return table


def overview_shown(report, *, total, period, chart_csv_url) -> dict:
    """What the overview shows of `report`, written once per report and language (the overview cache
    keeps it with the report): each row's cells as HTML, by company slug ("" for the total row),
    all but the last column, sync health, which the page adds per request; and the charts' HTML.
    `total`: the total row's company (a name, no slug)."""
    assert OVERVIEW[-1].kind == "health"
    rows = [*company_rows(report), {"company": total, "metrics": report.portfolio}]
    table = overview_table(rows, OVERVIEW[:-1], report.currency, period.query())
    context = {"charts": charts(report.portfolio, report.currency), "chart_csv_url": chart_csv_url, "period": period}
    return {
        "cells": {
            row["company"].slug: render_to_string("dealflow/metrics/overview_cells.html", {"cells": cells})
            for row, cells in zip(rows, table, strict=True)
        },
        "charts": render_to_string("dealflow/metrics/charts.html", context),
    }


def company_links(slug: str, period_query: str) -> dict:
    return {
        "metrics": f"{reverse('dealflow:company_metrics', args=[slug])}?{period_query}",
        "board": reverse("dealflow:company_board", args=[slug]),
    }


def csv_table(rows: list[dict], measures: list[Measure], currency: str, rates_date) -> list[list]:
    """The table as CSV rows: money columns name the currency and the rates' day."""
    converted = _("converted to %(currency)s, ECB rates of %(day)s") % {"currency": currency, "day": rates_date}
    header = []
    for measure in measures:
        if measure.kind == "stage":
            header += [f"{measure.label}: {part}" for part in (_("count"), _("value"), _("weighted"))]
        elif measure.kind == "money":
            header.append(f"{measure.label} ({converted})")
        else:
            header.append(str(measure.label))
    lines = [header]
    for row in rows:
        line = []
        for measure in measures:
            value = measure.get(row)
            if measure.kind == "stage":
                line += [value["count"], plain_money(value["value"]), plain_money(value["weighted"])]
            elif measure.kind == "health":
                line.append(value.label if value else "")
            elif measure.kind == "money":
                line.append(plain_money(value))
            elif measure.kind in ("rate", "days"):
                line.append("" if value is None else round(value, 4))
            else:
                line.append(value)
        lines.append(line)
    return lines


def plain_money(value):
    return "" if value is None else Decimal(value).quantize(Decimal("0.01"))


def charts(metrics: dict, currency: str) -> list[Chart]:
    """The charts of one company's (or the portfolio's) metrics, money in `currency`: each chart
    whose figures the metrics hold (the overview's hold the trends only)."""
    trends = metrics["trends"]
    months = list(trends["won_value_by_month"])
    result = [
        Chart(
            "won_by_month",
            _("Won value per month (%(currency)s, converted)") % {"currency": currency},
            months,
            {str(_("Won value")): list(trends["won_value_by_month"].values())},
        ),
        Chart(
            "new_by_month",
            _("New deals per month"),
            months,
            {str(_("New deals")): list(trends["new_deals_by_month"].values())},
        ),
    ]
    if "forecast" in metrics:
        result.append(
            Chart(
                "forecast",
                _("Forecast: weighted value by expected close month (%(currency)s, converted)")
                % {"currency": currency},
                [key if key != "overdue" else str(_("Overdue")) for key in metrics["forecast"]],
                {str(_("Weighted value")): list(metrics["forecast"].values())},
            )
        )
    if "funnel" in metrics:
        result.append(
            Chart(
                "funnel",
                _("Funnel: share of the period's new deals that reached each stage (%)"),
                [str(STAGE_LABELS[stage]) for stage in STAGES],
                {
                    str(_("Reached")): [
                        None if entry["share"] is None else round(entry["share"] * 100, 1)
                        for entry in metrics["funnel"].values()
                    ]
                },
            )
        )
    days = list(trends["pipeline_by_day"])
    if days:
        result.append(
            Chart(
                "pipeline_by_day",
                _("Open pipeline per stage, daily snapshots (%(currency)s, converted)") % {"currency": currency},
                days,
                {str(STAGE_LABELS[stage]): [trends["pipeline_by_day"][day][stage] for day in days] for stage in STAGES},
                kind="stacked",
            )
        )
    return result
