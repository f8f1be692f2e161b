from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealflowConfig(AppConfig):
    name = "dealflow"
    verbose_name = _("Dealflow")
