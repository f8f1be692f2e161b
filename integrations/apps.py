from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_schedules(sender, **kwargs):
    from integrations.services.beat_schedules import ensure_schedules

    ensure_schedules()


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="integrations.ensure_schedules")
