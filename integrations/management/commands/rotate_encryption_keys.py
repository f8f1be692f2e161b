from django.core.management.base import BaseCommand, CommandError

from integrations.services.encryption import rotate_encryption_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored API token with the first key in FERNET_KEYS. Steps: put a "
        "new key first in FERNET_KEYS (keep the old ones after it), run this command, then "
        "remove the old keys."
    )

    def handle(self, *args, **options):
        report = rotate_encryption_keys()
        self.stdout.write(f"Re-encrypted {len(report.rotated)} token(s) with the first key.")
        if report.undecryptable:
            names = ", ".join(f"{integration} (id {integration.pk})" for integration in report.undecryptable)
            raise CommandError(
                f"No key in FERNET_KEYS decrypts the token of: {names}. Add the key they were "
                "written with to FERNET_KEYS and run again, or enter those tokens again in the admin."
            )
