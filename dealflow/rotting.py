"""Rotting, as Pipedrive defines it: an open deal is rotting when its stage has rotting enabled
with a number of days (`days_to_rotten`) and the deal's last update (`update_time`) is more than
that many days ago. The rule in Python (a card) and in SQL (counts), side by side and tested to
agree. It is not "days in stage", which the board shows as its own figure."""

from datetime import UTC, datetime, timedelta

from django.db.models import BooleanField, F, Func, Q

from dealflow.metrics.period import sqlite_epoch_microseconds
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


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class OlderThanDays(Func):
    """A moment (a column) more than a whole number of days (a column) before `now`, computed by
    the database itself: on PostgreSQL with an interval; on SQLite, where Django's own datetime
    arithmetic calls a Python function per row, as microseconds since 1970 compared as integers
    (Django's stored text, UTC, read as whole seconds and the fraction): exact, and no date
    formatting per row."""

    output_field = BooleanField()

    def __init__(self, moment: str, days: str, now: datetime):
        super().__init__(F(moment), F(days))
        self.now = now

    def as_sql(self, compiler, connection, **extra):
        (moment, moment_params), (days, days_params) = (compiler.compile(part) for part in self.source_expressions)
        return f"({moment} < %s - make_interval(days => {days}))", [*moment_params, self.now, *days_params]

    def as_sqlite(self, compiler, connection, **extra):
        (moment, moment_params), (days, days_params) = (compiler.compile(part) for part in self.source_expressions)
        micros = sqlite_epoch_microseconds(moment)
        now = (self.now - EPOCH) // timedelta(microseconds=1)
        return f"({micros} < %s - {days} * 86400000000)", [*moment_params, *moment_params, now, *days_params]


def rotting_q(now: datetime, prefix: str = "") -> Q:
    """Deals (reached through `prefix`, e.g. "deal__") that are rotting at `now`."""
    stage_rots = Q(
        **{
            f"{prefix}status": DealStatus.OPEN,
            f"{prefix}stage__is_deal_rot_enabled": True,
            f"{prefix}stage__days_to_rotten__isnull": False,
        }
    )
    # Last, so that the database compares times only for the deals in a stage that rots.
    return stage_rots & Q(OlderThanDays(f"{prefix}update_time", f"{prefix}stage__days_to_rotten", now))


def rotting_stages(integration_ids) -> dict[int, dict[int, list[int]]]:
    """The stages of some integrations that rot, per integration by their number of days:
    {integration id: {days: [stage id, …]}}."""
    from dealflow.models import Stage

    stages = Stage.objects.filter(
        integration_id__in=list(integration_ids), is_deal_rot_enabled=True, days_to_rotten__isnull=False
    )
    found = {}
    rows = stages.values_list("integration_id", "days_to_rotten", "id")
    for integration_id, days, stage_id in rows.order_by("integration_id", "days_to_rotten", "id"):
        found.setdefault(integration_id, {}).setdefault(days, []).append(stage_id)
    return found


def rotting_count_sql(connection, integration_id: int, days: int, stage_ids: list[int], now: datetime):
    """(SQL, params) counting an integration's open deals that are rotting at `now` in some stages
    that rot after `days` (as `rotting_stages` read them; archived deals left out), as one row
    (integration_id, rotting) or none: `rotting_q` without a join with the stage. The moment is
    computed here and compared plainly (exact to the microsecond), so the database counts ranges of
    deal_hygiene_idx per stage: is_archived as an equality, which SQLite's index search uses (NOT
    is_archived it does not). Written out: Django took longer to build a branch per integration
    than the database to run it."""
    marks = ", ".join(["%s"] * len(stage_ids))
    sql = (
        "SELECT integration_id, COUNT(*) AS rotting FROM dealflow_deal WHERE integration_id = %s AND status = %s "
        f"AND is_archived = %s AND stage_id IN ({marks}) AND update_time < %s GROUP BY integration_id"
    )
    before = connection.ops.adapt_datetimefield_value(now - days * ONE_DAY)
    return sql, [integration_id, DealStatus.OPEN.value, False, *stage_ids, before]
