"""`manage.py pipedrive_check SLUG`: check a company's Pipedrive connection and summarise it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.models import Integration
from integrations.providers.pipedrive.connection import check_connection


class Command(BaseCommand):
    help = (
        "Check the Pipedrive integration of the company with this slug: who the token belongs to,"
        " every pipeline with its stages and open-deal counts, deals by status, open value per"
        " currency, and organization and person counts (reads all pages; costs API tokens)."
    )

    def add_arguments(self, parser):
        parser.add_argument("company_slug")

    def handle(self, *args, company_slug, **options):
        try:
            integration = Integration.objects.select_related("company").get(
                company__slug=company_slug, provider="pipedrive"
            )
        except Integration.DoesNotExist:
            raise CommandError(f"No Pipedrive integration for company {company_slug!r}.") from None
        report = check_connection(integration=integration, detailed=True)
        if not report.ok:
            raise CommandError(f"Pipedrive check failed: {report.message}")
        write = self.stdout.write
        write(f"Connected as {report.user_name} <{report.user_email}>")
        write(f"Company: {report.company_name} ({report.company_domain}.pipedrive.com)")
        for pipeline in report.pipelines:
            write(f"Pipeline {pipeline.name} (id {pipeline.id})")
            for stage in pipeline.stages:
                write(f"  {stage.order_nr:>2}. {stage.name} (id {stage.id}): {stage.deal_count} open deals")
        write("Deals by status: " + ", ".join(f"{k} {v}" for k, v in report.deals_by_status.items()))
        write("Open value: " + ", ".join(f"{v:,.0f} {k}" for k, v in report.open_value_by_currency.items()))
        write(f"Organizations: {report.organization_count}  Persons: {report.person_count}")
        write(f"API calls: {report.calls}, token cost: {report.token_cost}")
