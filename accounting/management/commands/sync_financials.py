"""Sync a company's books from Fortnox in the foreground, printing progress:
`manage.py sync_financials SLUG [--full]`."""

from django.core.management.base import BaseCommand, CommandError

from accounting.services.sync import sync_financials
from integrations.models import Integration, SyncOutcome
from integrations.providers.base import Category


class Command(BaseCommand):
    help = "Sync a company's financials from its accounting integration (Fortnox) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The company's slug.")
        parser.add_argument("--full", action="store_true", help="Read every invoice, not only those changed.")

    def handle(self, *args, slug, full, **options):
        integration = Integration.objects.filter(company__slug=slug, category=Category.ACCOUNTING).first()
        if integration is None:
            raise CommandError(
                f"No accounting integration for {slug!r}: connect Fortnox in the admin or with fortnox_connect."
            )
        run = sync_financials(
            integration=integration, full=full, on_progress=lambda line: self.stdout.write(f"  {line}")
        )
        line = f"{run.get_outcome_display()}: {run.progress} ({run.api_calls} API calls)"
        if run.outcome != SyncOutcome.SUCCEEDED:
            raise CommandError(line)
        self.stdout.write(self.style.SUCCESS(line))
