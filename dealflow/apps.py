from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DealflowConfig(AppConfig):
    name = "dealflow"
    verbose_name = _("Dealflow")

    def ready(self):
        from dealflow.metrics.setup import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="dealflow.metrics_setup")
