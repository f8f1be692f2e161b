"""Print the pipeline metrics per company and for the portfolio (the numbers the pages show).

    python manage.py pipeline_metrics [SLUG …] [--since DATE] [--until DATE] [--currency CODE] --json

Dates are inclusive calendar days in the studio's time zone; without them, the last 90 days.
Without slugs, every active company. Money is in --currency (default REPORTING_CURRENCY).
"""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dealflow.metrics.export import report_json
from dealflow.metrics.period import PeriodError, period_from
from dealflow.metrics.report import build
from portfolio.models import PortfolioCompany, currency_code_validator


class Command(BaseCommand):
    help = "Pipeline metrics per company and for the portfolio, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", metavar="SLUG")
        parser.add_argument("--since", help="first day, YYYY-MM-DD (inclusive)")
        parser.add_argument("--until", help="last day, YYYY-MM-DD (inclusive; default today)")
        parser.add_argument("--currency", help="ISO code of the currency to report in (default REPORTING_CURRENCY)")
        parser.add_argument("--json", action="store_true", help="print JSON (the only format)")

    def handle(self, *args, slugs, since, until, currency, **options):
        try:
            period = period_from(since=since, until=until)
        except PeriodError as error:
            raise CommandError(str(error)) from None
        currency = (currency or settings.REPORTING_CURRENCY).upper()
        try:
            currency_code_validator(currency)
        except Exception:
            raise CommandError(f"--currency must be a three-letter code such as SEK (got {currency[:10]!r}).") from None
        companies = PortfolioCompany.objects.active().order_by("name")
        if slugs:
            companies = companies.filter(slug__in=slugs)
            unknown = sorted(set(slugs) - {company.slug for company in companies})
            if unknown:
                raise CommandError(f"No active company with the slug {', '.join(unknown)}.")
        report = build(companies, period, currency)
        self.stdout.write(json.dumps(report_json(report), indent=2, ensure_ascii=False))
