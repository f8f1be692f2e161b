"""Connect a company to Fortnox with a service account: `manage.py fortnox_connect SLUG --tenant-id ID`."""

from django.core.management.base import BaseCommand, CommandError

from accounting.services.connect import InvalidTenantId, connect_service_account
from integrations.providers.fortnox.errors import FortnoxError
from portfolio.models import PortfolioCompany


class Command(BaseCommand):
    help = "Connect a company to Fortnox with a service account (client credentials and the customer's TenantId)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The company's slug.")
        parser.add_argument("--tenant-id", required=True, help="The TenantId of the customer's Fortnox account.")

    def handle(self, *args, slug, tenant_id, **options):
        company = PortfolioCompany.objects.filter(slug=slug).first()
        if company is None:
            raise CommandError(f"No company with the slug {slug!r}.")
        try:
            integration = connect_service_account(company, tenant_id)
        except (InvalidTenantId, FortnoxError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(f"{company.name} is connected to Fortnox (integration {integration.pk}).")
            + f" Sync it with: manage.py sync_financials {company.slug}"
        )
