"""`manage.py pipedrive_webhooks register|status|unregister SLUG`: a company's Pipedrive webhooks."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations.inbound import registration
from integrations.inbound.endpoints import ensure_endpoint, webhook_url
from integrations.inbound.selectors import webhook_state
from integrations.models import Integration


class Command(BaseCommand):
    help = (
        "Register (one v2 webhook per deal, stage, pipeline, person and organization, delivering to"
        " PUBLIC_BASE_URL), check or remove the Pipedrive webhooks of the company with this slug."
        " The webhooks' basic-auth password is generated and stored encrypted; it is never shown."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["register", "status", "unregister"])
        parser.add_argument("company_slug")

    def handle(self, *args, action, company_slug, **options):
        integration = (
            Integration.objects.select_related("company")
            .filter(company__slug=company_slug, provider="pipedrive")
            .first()
        )
        if integration is None:
            raise CommandError(f"No Pipedrive integration for company {company_slug!r}.")
        report = {
            "register": registration.register,
            "status": registration.check,
            "unregister": registration.unregister,
        }[action](integration)
        if report.warning:
            self.stderr.write(self.style.WARNING(report.warning))
        self.stdout.write(report.message)
        self._state(integration)
        if not report.ok and action != "status":
            raise CommandError(report.message)

    def _state(self, integration):
        state = webhook_state(integration)
        write = self.stdout.write
        write(f"Delivering to: {webhook_url(ensure_endpoint(integration))}")
        write(f"Registered: {', '.join(state.objects) or 'none'}")
        write(f"Last event: {_when(state.last_event_at)}; events today: {state.events_today}")
        write(f"Rejected requests: {state.rejected_requests} (last {_when(state.last_rejected_at)})")


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "never"
