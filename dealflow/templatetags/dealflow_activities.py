"""Template filters for a deal's activities in its panel (the rules are dealflow/activities.py)."""

from django import template
from django.utils import timezone

from dealflow.activities import due_text, is_overdue, recently_done, upcoming

register = template.Library()


@register.filter
def activity_overdue(activity) -> bool:
    return not activity.done and is_overdue(activity.due_date, activity.due_time, timezone.now())


@register.filter
def activity_due(activity) -> str:
    return due_text(activity.due_date, activity.due_time)


register.filter("upcoming", upcoming)
register.filter("recently_done", recently_done)
