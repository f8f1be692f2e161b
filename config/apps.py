from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project itself as an app: its deploy checks, and what must exist before anything runs."""

    name = "config"
    verbose_name = "Project"

    def ready(self):
        from config import checks  # noqa: F401  (registers the checks)
        from config.celery import ensure_broker_folders

        # Here, not at settings import: the web server, the worker and beat all pass through here.
        ensure_broker_folders()
