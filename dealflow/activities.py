"""A deal's activities as the board shows them: the next one on its card (one query per page of
cards), the upcoming and the last done ones in its panel, and when an activity is overdue."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.db.models import Case, F, Prefetch, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from dealflow import statements
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
    """Each deal's next undone activity, by deal id, in one query. It runs for no deals too (no
    deal has id 0), so that a page's query count never depends on what it holds."""
    deal_ids = tuple(deal_ids) or (0,)
    rows = statements.rows(
        ("next_activities", deal_ids),
        lambda: (
            Activity.objects.filter(statements.among("deal_id", deal_ids), done=False)
            .annotate(rank=Window(RowNumber(), partition_by=F("deal_id"), order_by=NEXT_FIRST))
            .filter(rank=1)
            .values_list("deal_id", "subject", "due_date", "due_time")
        ),
    )
    return {
        deal_id: NextActivity(subject, due_text(due_date, due_time), is_overdue(due_date, due_time, now))
        for deal_id, subject, due_date, due_time in rows
    }


class Pending:
    """The deals of some pages of cards, whose next activities are read together by `load`."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.deal_ids: list[int] = []
        self.found: dict[int, NextActivity] = {}

    def add(self, deal_id: int) -> "Pending":
        self.deal_ids.append(deal_id)
        return self

    def load(self) -> None:
        self.found = next_activities(self.deal_ids, self.now)

    def of(self, deal_id: int) -> NextActivity | None:
        return self.found.get(deal_id)


# Set while the board gathers its columns' first pages: they share one query (board_columns).
_gathering: ContextVar[Pending | None] = ContextVar("next_activities_gathering", default=None)


@contextmanager
def one_query_for_all_pages(now: datetime) -> Iterator[Pending]:
    """Pages of cards built inside leave their next activities to the caller, who loads them once
    for every page together."""
    pending = Pending(now)
    token = _gathering.set(pending)
    try:
        yield pending
    finally:
        _gathering.reset(token)


def pending_for_page(now: datetime) -> tuple[Pending, bool]:
    """The Pending a page of cards adds its deals to, and whether the page loads it itself (it is
    not one of several pages gathered by `one_query_for_all_pages`)."""
    gathering = _gathering.get()
    return (gathering, False) if gathering is not None else (Pending(now), True)


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
