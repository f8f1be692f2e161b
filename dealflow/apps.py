from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


class DealflowConfig(AppConfig):
    name = "dealflow"
    verbose_name = _("Dealflow")

    def ready(self):
        from dealflow import triggers
        from dealflow.metrics.setup import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="dealflow.metrics_setup")
        # The triggers that keep stored figures: dropped before migrations run on SQLite, made again after.
        pre_migrate.connect(triggers.on_pre_migrate, sender=self, dispatch_uid="dealflow.triggers")
        post_migrate.connect(triggers.on_post_migrate, sender=self, dispatch_uid="dealflow.triggers")
