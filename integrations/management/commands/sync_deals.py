"""`manage.py sync_deals [SLUG ...] [--full]`: sync in the foreground, a line per page."""

from django.core.management.base import BaseCommand, CommandError

from integrations.models import Integration, SyncOutcome
from integrations.sync.runner import sync_integration


class Command(BaseCommand):
    help = "Sync Pipedrive into the cache now, for the given company slugs (default: every enabled one)."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="Portfolio company slugs.")
        parser.add_argument("--full", action="store_true", help="Full reconciliation instead of incremental.")

    def handle(self, *args, slugs, full, **options):
        integrations = Integration.objects.select_related("company")
        if slugs:
            integrations = integrations.filter(company__slug__in=slugs)
            missing = set(slugs) - {integration.company.slug for integration in integrations}
            if missing:
                raise CommandError(f"No integration for: {', '.join(sorted(missing))}")
        else:
            integrations = integrations.filter(is_enabled=True)
        failures = 0
        for integration in integrations:
            slug = integration.company.slug
            run = sync_integration(integration=integration, full=full, on_progress=self._printer(slug))
            failures += run.outcome != SyncOutcome.SUCCEEDED
            style = self.style.SUCCESS if run.outcome == SyncOutcome.SUCCEEDED else self.style.ERROR
            self.stdout.write(style(summary(slug, run)))
        if failures:
            raise CommandError(f"{failures} sync(s) did not succeed.")

    def _printer(self, slug):
        return lambda line: self.stdout.write(f"  {slug}: {line}")


def summary(slug, run) -> str:
    seconds = run.duration.total_seconds() if run.duration else 0.0
    line = (
        f"{slug}: {run.kind} sync {run.get_outcome_display().lower()} in {seconds:.1f} s — "
        f"{run.created} created, {run.updated} updated, {run.deleted} deleted, {run.unchanged} unchanged; "
        f"{run.api_calls} API calls, {run.token_cost} tokens"
    )
    return f"{line}. {run.error}" if run.error else line
