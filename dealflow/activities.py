"""A deal's activities as the board shows them: the next one on its card (one query per page of
cards), the upcoming and the last done ones in its panel, and when an activity is overdue."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.db.models import F, Prefetch, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from dealflow.formatting import format_date, format_datetime
from dealflow.models import Activity

# A deal's undone activities, the next first: by due day, on a day those without a time first
# (as Pipedrive lists them).
NEXT_FIRST = (F("due_date").asc(nulls_last=True), F("due_time").asc(nulls_first=True), F("remote_id").asc())
DONE_SHOWN = 5  # the panel's last done activities


@dataclass(frozen=True)
class NextActivity:
    subject: str
    due_text: str  # "" when it has no due date
    is_overdue: bool


def due_at(due_date: date | None, due_time: time | None) -> datetime | None:
    """The moment an activity with a due time is due (Pipedrive keeps the time in UTC)."""
    if due_date is None or due_time is None:
        return None
    return datetime.combine(due_date, due_time, tzinfo=UTC)


def is_overdue(due_date: date | None, due_time: time | None, now: datetime) -> bool:
    """Undone past its due time, or, without a time, past its due day (in the studio's time zone)."""
    moment = due_at(due_date, due_time)
    if moment is not None:
        return moment < now
    return due_date is not None and due_date < timezone.localdate(now)


def due_text(due_date: date | None, due_time: time | None) -> str:
    moment = due_at(due_date, due_time)
    return format_datetime(moment) if moment else format_date(due_date)


def next_activities(deal_ids: list[int], now: datetime) -> dict[int, NextActivity]:
    """Each deal's next undone activity, by deal id: one query for a page of cards."""
    if not deal_ids:
        return {}
    rows = (
        Activity.objects.filter(deal_id__in=deal_ids, done=False)
        .annotate(rank=Window(RowNumber(), partition_by=F("deal_id"), order_by=NEXT_FIRST))
        .filter(rank=1)
        .values_list("deal_id", "subject", "due_date", "due_time")
    )
    return {
        deal_id: NextActivity(subject, due_text(due_date, due_time), is_overdue(due_date, due_time, now))
        for deal_id, subject, due_date, due_time in rows
    }


def panel_prefetches() -> list[Prefetch]:
    """A deal's undone activities (`upcoming_activities`, the overdue ones included, next first)
    and its last done ones (`done_activities`, latest first): two queries for the panel."""
    shown = Activity.objects.only("deal_id", "subject", "type", "due_date", "due_time", "done", "marked_as_done_time")
    latest = (F("marked_as_done_time").desc(nulls_last=True), F("due_date").desc(nulls_last=True), "-remote_id")
    return [
        Prefetch("activities", queryset=shown.filter(done=False).order_by(*NEXT_FIRST), to_attr="upcoming_activities"),
        Prefetch(
            "activities", queryset=shown.filter(done=True).order_by(*latest)[:DONE_SHOWN], to_attr="done_activities"
        ),
    ]
