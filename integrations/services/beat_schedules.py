"""The periodic tasks in django-celery-beat's database scheduler, created once, then staff's.

`ensure_schedules()` only creates what is missing (looked up by name): a schedule staff edited
or disabled in the admin is never changed. It runs after every `migrate` (see apps.py).
"""

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

DISPATCH_TASK_NAME = "Dispatch due Pipedrive syncs (every minute)"
NIGHTLY_TASK_NAME = "Nightly full Pipedrive reconciliation"
WEBHOOK_CHECK_TASK_NAME = "Daily webhook check (re-registers deleted webhooks)"
# After the nightly reconciliation; each opted-in integration spends its share of the new day.
BACKFILL_TASK_NAME = "Daily stage history backfill (integrations that opted in)"


def ensure_schedules() -> list[str]:
    """Create the missing periodic tasks; returns the names created."""
    created = []
    if not PeriodicTask.objects.filter(name=DISPATCH_TASK_NAME).exists():
        every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.MINUTES)
        PeriodicTask.objects.create(
            name=DISPATCH_TASK_NAME, task="integrations.dispatch_due_syncs", interval=every_minute
        )
        created.append(DISPATCH_TASK_NAME)
    if not PeriodicTask.objects.filter(name=NIGHTLY_TASK_NAME).exists():
        nightly, _ = CrontabSchedule.objects.get_or_create(
            minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
        )
        PeriodicTask.objects.create(name=NIGHTLY_TASK_NAME, task="integrations.full_sync_all", crontab=nightly)
        created.append(NIGHTLY_TASK_NAME)
    if not PeriodicTask.objects.filter(name=WEBHOOK_CHECK_TASK_NAME).exists():
        daily, _ = CrontabSchedule.objects.get_or_create(
            minute="15", hour="6", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
        )
        PeriodicTask.objects.create(name=WEBHOOK_CHECK_TASK_NAME, task="integrations.check_webhooks", crontab=daily)
        created.append(WEBHOOK_CHECK_TASK_NAME)
    if not PeriodicTask.objects.filter(name=BACKFILL_TASK_NAME).exists():
        early, _ = CrontabSchedule.objects.get_or_create(
            minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
        )
        task = "integrations.backfill_stage_history_all"
        PeriodicTask.objects.create(name=BACKFILL_TASK_NAME, task=task, crontab=early)
        created.append(BACKFILL_TASK_NAME)
    return created
