"""What `migrate` sets up for the metrics: the packaged exchange rates (when migrations were applied,
not on every flush) and the beat schedules, which are created once and then belong to staff."""

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

FX_TASK_NAME = "Refresh ECB exchange rates (daily)"
SNAPSHOT_TASK_NAME = "Daily pipeline snapshot"


def ensure_schedules() -> list[str]:
    """Create the missing periodic tasks (looked up by name); returns the names created."""
    created = []
    for name, task, hour in (
        (FX_TASK_NAME, "dealflow.refresh_fx_rates", "17"),  # the ECB publishes around 16:00 CET
        (SNAPSHOT_TASK_NAME, "dealflow.take_pipeline_snapshots", "23"),
    ):
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute="5", hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
        )
        PeriodicTask.objects.create(name=name, task=task, crontab=crontab)
        created.append(name)
    return created


def on_post_migrate(sender, plan=None, **kwargs):
    from dealflow.fx import load_packaged_rates

    if plan:  # a migrate that applied migrations (a test's flush sends post_migrate without a plan)
        load_packaged_rates()
    ensure_schedules()
