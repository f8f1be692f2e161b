"""Rotting, as Pipedrive defines it: an open deal is rotting when its stage has rotting enabled
with a number of days (`days_to_rotten`) and the deal's last update (`update_time`) is more than
that many days ago. The rule in Python (a card) and in SQL (counts), side by side and tested to
agree. It is not "days in stage", which the board shows as its own figure."""

from datetime import UTC, datetime, timedelta

from django.db.models import DateTimeField, F, Func, Q

from dealflow.models import DealStatus

ONE_DAY = timedelta(days=1)


def is_rotting(
    *, status: str, rot_enabled: bool, days_to_rotten: int | None, update_time: datetime | None, now: datetime
) -> bool:
    return (
        status == DealStatus.OPEN
        and bool(rot_enabled)
        and days_to_rotten is not None
        and update_time is not None
        and update_time < now - days_to_rotten * ONE_DAY
    )


class DaysBefore(Func):
    """`moment` minus a whole number of days (a column), computed by the database itself: on
    PostgreSQL as an interval; on SQLite, where Django's own datetime arithmetic calls a Python
    function per row, as Django's stored text (UTC) with the date moved back by that many days
    (the time of day and the fraction stay, as they do in UTC), so comparisons stay exact."""

    output_field = DateTimeField()

    def __init__(self, moment: datetime, days: str):
        super().__init__(F(days))
        self.moment = moment

    def as_sql(self, compiler, connection, **extra):
        days, params = compiler.compile(self.get_source_expressions()[0])
        return f"(%s - make_interval(days => {days}))", [self.moment, *params]

    def as_sqlite(self, compiler, connection, **extra):
        days, params = compiler.compile(self.get_source_expressions()[0])
        utc = self.moment.astimezone(UTC)
        fraction = f".{utc.microsecond:06d}" if utc.microsecond else ""
        sql = f"(strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, '-' || {days} || ' days') || %s)"
        return sql, [utc.strftime("%Y-%m-%d %H:%M:%S"), *params, fraction]


def rotting_q(now: datetime, prefix: str = "") -> Q:
    """Deals (reached through `prefix`, e.g. "deal__") that are rotting at `now`."""
    cutoff = DaysBefore(now, f"{prefix}stage__days_to_rotten")
    return Q(
        **{
            f"{prefix}status": DealStatus.OPEN,
            f"{prefix}stage__is_deal_rot_enabled": True,
            f"{prefix}stage__days_to_rotten__isnull": False,
            f"{prefix}update_time__lt": cutoff,
        }
    )
