from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_schedule(sender, **kwargs):
    from accounting.services.beat_schedule import ensure_schedule

    ensure_schedule()


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = _("Accounting")

    def ready(self):
        post_migrate.connect(_ensure_schedule, sender=self, dispatch_uid="accounting.ensure_schedule")
