from django.apps import AppConfig


class DealflowConfig(AppConfig):
    name = "dealflow"
    verbose_name = "Dealflow"
