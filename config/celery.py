import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dealflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The filesystem broker's folders (see CELERY_BROKER_TRANSPORT_OPTIONS): kombu does not create them,
# and without them queueing a task fails with FileNotFoundError.
FILESYSTEM_FOLDER_OPTIONS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def ensure_broker_folders() -> None:
    """Create the filesystem broker's folders when that broker is configured (no-op for Redis)."""
    from django.conf import settings

    if not settings.CELERY_BROKER_URL.startswith("filesystem"):
        return
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for option in FILESYSTEM_FOLDER_OPTIONS:
        if options.get(option):
            Path(options[option]).mkdir(mode=0o750, parents=True, exist_ok=True)
