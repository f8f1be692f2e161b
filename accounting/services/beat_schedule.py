"""The periodic financial sync in django-celery-beat's database scheduler: created once, then
staff's (an edited or disabled schedule is never changed). Runs after every `migrate` (apps.py)."""

from django_celery_beat.models import IntervalSchedule, PeriodicTask

TASK_NAME = "Dispatch due financial (Fortnox) syncs (every 15 minutes)"


def ensure_schedule() -> bool:
    """Create the periodic task if it is missing; True when it was created."""
    if PeriodicTask.objects.filter(name=TASK_NAME).exists():
        return False
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.create(name=TASK_NAME, task="accounting.dispatch_due_financial_syncs", interval=every)
    return True
