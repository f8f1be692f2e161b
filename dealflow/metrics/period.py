"""The period a metrics page or `pipeline_metrics` covers: the last 30/90/180/365 days or a custom
since/until, both days inclusive, as calendar days in the studio's time zone (settings.TIME_ZONE)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, CharField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

PRESETS = (30, 90, 180, 365)
DEFAULT_DAYS = 90
# Far enough for any real question, near enough that no date arithmetic overflows.
EARLIEST = date(1990, 1, 1)


class PeriodError(ValueError):
    """A period that cannot be read; its message says why (shown to the user)."""


@dataclass(frozen=True)
class Period:
    since: date
    until: date
    preset: int | None = None  # the preset's days, None for a custom period

    @property
    def start(self) -> datetime:
        """The first moment of `since` in the studio's time zone."""
        return local_midnight(self.since)

    @property
    def end(self) -> datetime:
        """The first moment after `until` (periods are half-open in SQL: start <= t < end)."""
        return local_midnight(self.until + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def query(self) -> str:
        """The period as URL parameters."""
        if self.preset:
            return f"days={self.preset}"
        return f"since={self.since.isoformat()}&until={self.until.isoformat()}"


def last_days(days: int, today: date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(since=today - timedelta(days=days - 1), until=today, preset=days)


def parse_date(text: str, name: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(_("%(name)s must be a date such as 2026-01-31.") % {"name": name}) from None
    if day < EARLIEST or day.year > 9000:
        raise PeriodError(_("%(name)s is out of range.") % {"name": name})
    return day


def period_from(*, days=None, since=None, until=None, today: date | None = None) -> Period:
    """The period of a request's or a command's parameters (strings or None); PeriodError when unreadable.
    since/until win over days; a missing since or until is the preset's."""
    today = today or timezone.localdate()
    if since or until:
        end = parse_date(until, "until") if until else today
        start = parse_date(since, "since") if since else end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise PeriodError(_("since must not be after until."))
        return Period(since=start, until=end)
    if days in (None, ""):
        return last_days(DEFAULT_DAYS, today)
    try:
        number = int(days)
    except (TypeError, ValueError):
        number = None
    if number not in PRESETS:
        raise PeriodError(_("days must be one of 30, 90, 180 or 365."))
    return last_days(number, today)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def month_case(field: str, months: list[date], *, moments: bool, overdue_before: date | None = None) -> Case:
    """Which month ("YYYY-MM") of `months` (first days) `field` falls in, as a CASE of plain range
    comparisons ("overdue" before `overdue_before`; NULL outside): SQLite runs Django's month
    truncation as Python, once per row, which cost more than the rest of a metrics page.
    `moments`: the field is a DateTimeField (months begin at midnight in the studio's time zone)."""
    whens = []
    if overdue_before is not None:
        whens.append(When(**{f"{field}__lt": overdue_before}, then=Value("overdue")))
    for first in months:
        start, end = first, add_months(first, 1)
        if moments:
            start, end = local_midnight(start), local_midnight(end)
        whens.append(When(**{f"{field}__gte": start, f"{field}__lt": end}, then=Value(f"{first:%Y-%m}")))
    return Case(*whens, default=Value(None), output_field=CharField())
