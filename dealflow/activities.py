"""A deal's activities as the board shows them: the next one on its card (joined to the cards'
statement), the upcoming and the last done ones in its panel, and when an activity is overdue."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.db.models import Case, F, FilteredRelation, OuterRef, Prefetch, Q, Subquery, Value, When, Window
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


# What a card reads of its deal's next activity, joined to the cards' statement as `next_activity`
# (`with_next_activity`).
NEXT_VALUES = ("next_activity__subject", "next_activity__due_date", "next_activity__due_time")


def with_next_activity(deals):
    """`deals` with each one's next undone activity joined as `next_activity` (NEXT_VALUES read it, NULL
    for a deal without one): a page of cards and their next activities in one statement, where a
    statement of their own cost a round trip on every board and load more."""
    next_first = Activity.objects.filter(deal_id=OuterRef("id"), done=False).order_by(*NEXT_FIRST).values("id")[:1]
    return deals.annotate(
        next_activity=FilteredRelation("activities", condition=Q(activities__id=Subquery(next_first)))
    )


def next_activity(subject: str | None, due_date: date | None, due_time: time | None, now: datetime):
    """The NextActivity of a card's NEXT_VALUES; None when its deal has no undone activity (a subject is
    never NULL)."""
    if subject is None:
        return None
    return NextActivity(subject, due_text(due_date, due_time), is_overdue(due_date, due_time, now))


def panel_prefetch() -> Prefetch:
    """A deal's activities the panel lists, as `panel_activities`, in one query: every undone one
    and the last DONE_SHOWN done ones (see `upcoming` and `recently_done`)."""
    latest_done = (F("marked_as_done_time").desc(nulls_last=True), F("due_date").desc(nulls_last=True), "-remote_id")
    # Each undone activity is a partition of its own (so ranks 1); the done ones rank by recency.
    own_partition = Case(When(done=False, then=F("id")), default=Value(0))
    shown = (
        Activity.objects.only("deal_id", "subject", "type", "due_date", "due_time", "done", "marked_as_done_time")
        .annotate(rank=Window(RowNumber(), partition_by=[F("deal_id"), own_partition], order_by=latest_done))
        .filter(rank__lte=DONE_SHOWN)
    )
    return Prefetch("activities", queryset=shown, to_attr="panel_activities")


def upcoming(activities: list[Activity]) -> list[Activity]:
    """The undone ones, the next first (overdue ones included)."""
    undone = [activity for activity in activities if not activity.done]
    return sorted(
        undone,
        key=lambda a: (
            a.due_date is None,
            a.due_date or date.min,
            a.due_time is not None,
            a.due_time or time.min,
            a.remote_id,
        ),
    )


def recently_done(activities: list[Activity]) -> list[Activity]:
    """The done ones, the latest first (the query kept the last DONE_SHOWN)."""
    return sorted((activity for activity in activities if activity.done), key=lambda activity: activity.rank)
