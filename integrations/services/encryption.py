"""Re-encrypt stored credentials with the first key in FERNET_KEYS."""

from dataclasses import dataclass, field

from django.db import transaction

from integrations.fields import is_undecryptable
from integrations.models import Integration


@dataclass
class RotationReport:
    rotated: list[Integration] = field(default_factory=list)
    undecryptable: list[Integration] = field(default_factory=list)


def rotate_encryption_keys() -> RotationReport:
    """Decrypt every integration's credentials with any key and write them back under the first key.

    Credentials no key decrypts are left untouched and reported, so staff can re-enter them.
    """
    report = RotationReport()
    with transaction.atomic():
        for integration in Integration.objects.select_related("company").select_for_update():
            if is_undecryptable(integration.credentials):
                report.undecryptable.append(integration)
                continue
            Integration.objects.filter(pk=integration.pk).update(credentials=integration.credentials)
            report.rotated.append(integration)
    return report
