"""Rotting, as Pipedrive defines it: an open deal is rotting when its stage has rotting enabled
with a number of days (`days_to_rotten`) and the deal's last update (`update_time`) is more than
that many days ago. The rule in Python (a card) and in SQL (counts), side by side and tested to
agree. It is not "days in stage", which the board shows as its own figure."""

from datetime import datetime, timedelta

from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Func, Q, Value

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


class Days(Func):
    """A whole number of days as a duration, in each database's own form: SQLite keeps Django's
    durations as microseconds, PostgreSQL as intervals (Django multiplies neither by a column)."""

    output_field = DurationField()
    template = "make_interval(days => %(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s * 86400000000)", **extra)


def rotting_q(now: datetime, prefix: str = "") -> Q:
    """Deals (reached through `prefix`, e.g. "deal__") that are rotting at `now`."""
    cutoff = ExpressionWrapper(Value(now) - Days(F(f"{prefix}stage__days_to_rotten")), output_field=DateTimeField())
    return Q(
        **{
            f"{prefix}status": DealStatus.OPEN,
            f"{prefix}stage__is_deal_rot_enabled": True,
            f"{prefix}stage__days_to_rotten__isnull": False,
            f"{prefix}update_time__lt": cutoff,
        }
    )
