"""The period a metrics page or `pipeline_metrics` covers: the last 30/90/180/365 days or a custom
since/until, both days inclusive, as calendar days in the studio's time zone (settings.TIME_ZONE)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import BigIntegerField, Case, CharField, Func, Value, When
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


class MonthOf(Func):
    """A date column's month as "YYYY-MM" text, in plain SQL on both databases (SQLite runs Django's
    month truncation as Python, once per row)."""

    output_field = CharField()
    template = "to_char(%(expressions)s, 'YYYY-MM')"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 7)", **extra)


def month_or_overdue(field: str, overdue_before: date) -> Case:
    """Which month ("YYYY-MM") a date column falls in, or "overdue" before `overdue_before`: one
    comparison and a substring per row, not a range comparison per month."""
    return Case(When(**{f"{field}__lt": overdue_before}, then=Value("overdue")), default=MonthOf(field))


def sqlite_epoch_microseconds(moment: str) -> str:
    """SQL for a datetime column's microseconds since 1970 on SQLite, from the text Django stores
    there (UTC, "YYYY-MM-DD HH:MM:SS" and a 6-digit fraction when it has one): exact integers, and no
    Python function per row."""
    return f"(unixepoch(substr({moment}, 1, 19)) * 1000000 + CAST(substr({moment}, 21) AS INTEGER))"


class MicrosecondsBetween(Func):
    """Whole microseconds from one moment to a later one, computed by the database (exact: an
    integer on SQLite, EXTRACT's numeric on PostgreSQL), so the rows carry one number instead of
    two datetimes to convert in Python."""

    output_field = BigIntegerField()

    def as_sql(self, compiler, connection, **extra):
        (start, start_params), (end, end_params) = (compiler.compile(part) for part in self.source_expressions)
        return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) * 1000000 AS bigint)", [*end_params, *start_params]

    def as_sqlite(self, compiler, connection, **extra):
        (start, start_params), (end, end_params) = (compiler.compile(part) for part in self.source_expressions)
        sql = f"({sqlite_epoch_microseconds(end)} - {sqlite_epoch_microseconds(start)})"
        return sql, [*end_params, *end_params, *start_params, *start_params]
