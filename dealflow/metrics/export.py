"""The metrics as plain data: JSON for `pipeline_metrics`, rows for the pages' CSV exports."""

from datetime import date
from decimal import Decimal

from dealflow.metrics.report import Report

MONEY_PLACES = Decimal("0.01")


def plain(value):
    """JSON-ready: Decimals as numbers rounded to cents, floats to 4 places, dates as ISO strings."""
    if isinstance(value, Decimal):
        return float(value.quantize(MONEY_PLACES))
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def report_json(report: Report) -> dict:
    return {
        "period": {"since": report.period.since.isoformat(), "until": report.period.until.isoformat()},
        "currency": report.currency,
        "rates_date": plain(report.rates_date),
        "companies": {slug: plain(metrics) for slug, metrics in report.by_company.items()},
        "portfolio": plain(report.portfolio),
    }
