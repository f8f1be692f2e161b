"""`manage.py release_sync_lease SLUG|ID`: free an integration's sync lease by hand."""

from django.core.management.base import BaseCommand, CommandError

from integrations.models import Integration
from integrations.providers.base import Category
from integrations.services.lease import holder_is_dead, lease_is_held
from integrations.sync.run_log import release_by_hand


class Command(BaseCommand):
    help = (
        "Release a company's sync lease (after a worker was killed) and end its running sync runs as "
        "interrupted. Refuses while the holder is alive on this host unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("integration", metavar="SLUG|ID", help="Portfolio company slug or integration id.")
        parser.add_argument("--force", action="store_true", help="Release even if the holder looks alive.")

    def handle(self, *args, integration, force, **options):
        found = self._find(integration)
        state = found.sync_state
        alive_here = lease_is_held(integration=found) and state.sync_lease_pid and not holder_is_dead(found)
        if alive_here and not force:
            raise CommandError(
                f"The lease is held until {state.sync_lease_expires_at:%Y-%m-%d %H:%M:%S %Z} by process "
                f"{state.sync_lease_pid} on {state.sync_lease_host or 'an unknown host'}, which may still be "
                "syncing. Stop it first, or pass --force."
            )
        released, ended = release_by_hand(integration=found)
        self.stdout.write(
            f"{found.company}: lease {'released' if released else 'was already free'}; "
            f"{ended} running sync run(s) ended as interrupted."
        )

    def _find(self, key: str) -> Integration:
        integrations = Integration.objects.select_related("company", "sync_state")
        found = integrations.filter(pk=int(key)).first() if key.isdigit() else None
        # A company slug names its CRM integration (the one its board syncs), never the first by name.
        found = found or integrations.filter(company__slug=key, category=Category.CRM).first()
        if found is None:
            raise CommandError(f"No integration for {key!r} (a company slug or an integration id).")
        return found
