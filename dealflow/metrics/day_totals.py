"""Deals added, won and lost per integration, currency and calendar day in the studio's time zone
(dealflow_dealdaytotal), kept by database triggers in the transaction of every write to a deal, so
the metrics read a few rows per day instead of grouping every deal.

A deal's rows (see models.DealDayTotal): "new" by its add time unless deleted; "won" when its
status is won, by columns.won_at_expression; "lost" when its status is lost, by
closed.lost_at_expression. Values in cents, as integers (exact on SQLite too).

The day is the local calendar day of settings.TIME_ZONE. PostgreSQL computes it with AT TIME
ZONE; SQLite has no time zones, so its triggers call the function Django registers on every
SQLite connection for its own date truncation (django_datetime_cast_date). Both name the time
zone when they are made: `manage.py rebuild_metric_totals` remakes them and the rows after a
TIME_ZONE change; `--check` compares the table with `grouped_deals` and looks for the triggers.
They are written and registered through dealflow/triggers.py, so `migrate` makes them again with
the rows recomputed when they are missing (a migration that rebuilt the deals table on SQLite).

`grouped_deals` is the GROUP BY over the deals that the table must equal; the tests compare them
after every kind of write.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.sqlite3._functions import _sqlite_datetime_cast_date as django_cast_date
from django.db.models import Case, Count, DateField, F, Func, Q, Sum, When
from django.db.models.functions import Coalesce, TruncDate

from dealflow import totals_sql
from dealflow.columns import won_at_expression
from dealflow.models import Deal, DealDayTotal, DealStatus
from dealflow.triggers import Trigger, TriggerSet, create, drop, register
from dealflow.triggers import triggers_present as registry_triggers_present

TABLE = DealDayTotal._meta.db_table
# The deal columns a row's key or value is read from: an update that changes none moves nothing.
COLUMNS = (
    "integration_id",
    "status",
    "currency",
    "value",
    "add_time",
    "won_time",
    "lost_time",
    "close_time",
    "stage_change_time",
    "update_time",
)
FIGURES = ("count", "value_cents")
WON_AT = "COALESCE({d}.won_time, {d}.close_time, {d}.stage_change_time, {d}.update_time)"
LOST_AT = "COALESCE({d}.lost_time, {d}.close_time)"


@dataclass(frozen=True)
class Grain:
    """The calendar unit of a table of totals: its rows per day, or per month (the month's first day,
    dealflow/metrics/month_totals.py); the triggers and statements are written alike for both."""

    table: str
    column: str  # "day" or "month"

    @property
    def key(self) -> str:
        return f"integration_id, kind, {self.column}, currency"

    def of(self, day: str, vendor: str) -> str:
        """SQL: the row's date of a local day (SQL)."""
        if self.column == "day":
            return day
        return f"date_trunc('month', {day})::date" if vendor == "postgresql" else f"substr({day}, 1, 7) || '-01'"


DAY = Grain(TABLE, "day")


def kinds(d: str) -> list[tuple[str, str, str]]:
    """(kind, condition, moment) of a deal row named `d`, as SQL."""
    return [
        ("new", f"{d}.status <> 'deleted' AND {d}.add_time IS NOT NULL", f"{d}.add_time"),
        ("won", f"{d}.status = 'won' AND {WON_AT.format(d=d)} IS NOT NULL", WON_AT.format(d=d)),
        ("lost", f"{d}.status = 'lost' AND {LOST_AT.format(d=d)} IS NOT NULL", LOST_AT.format(d=d)),
    ]


# --- SQLite: a trigger per event, row by row ------------------------------------------------------


def sqlite_day(moment: str, zone: str, *, fast: bool = False) -> str:
    """The local day of a moment: Django's function in the triggers (every connection has it), this
    module's `local_date` in a large insert's statement (`bulk_insert`, which registers it)."""
    if fast:
        return f"{LOCAL_DATE}({moment}, '{zone}')"
    return f"django_datetime_cast_date({moment}, '{zone}', 'UTC')"


LOCAL_DATE = "dealflow_local_date"


def local_date(moment: str | None, zone: str) -> str | None:
    """What django_datetime_cast_date(moment, zone, 'UTC') returns for a moment as Django stores it
    on SQLite (naive UTC text), several times faster: a large insert runs it for every new deal and
    kind, twice (day and month totals), and Django's parsing was most of those statements' time.
    Anything else (an offset in the text, no text) is left to Django's own function."""
    try:
        parsed = datetime.fromisoformat(moment)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.tzinfo is not None:
        return django_cast_date(moment, zone, "UTC")
    return parsed.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date().isoformat()


def register_local_date() -> None:
    """Make `local_date` callable from SQL on this process's SQLite connection."""
    connection.ensure_connection()
    connection.connection.create_function(LOCAL_DATE, 2, local_date, deterministic=True)


def sqlite_triggers(zone: str, grain: Grain = DAY) -> list[Trigger]:
    table = grain.table

    def statements(row: str, write) -> str:
        """A statement per kind: `write` (totals_sql.add_row or subtract_row) of the deal row `row`."""
        return " ".join(
            write(
                table,
                grain.key,
                [f"{row}.integration_id", f"'{kind}'", grain.of(sqlite_day(moment, zone), "sqlite"), f"{row}.currency"],
                {"value_cents": f"CAST(round({row}.value * 100) AS INTEGER)"},
                condition,
            )
            + ";"
            for kind, condition, moment in kinds(row)
        )

    add, remove = statements("NEW", totals_sql.add_row), statements("OLD", totals_sql.subtract_row)
    return totals_sql.deal_triggers(table, "sqlite", add, remove, COLUMNS)


# --- Both: the grouped rows of a set of deal rows (a whole table, or a trigger's transition table) ---


def vendor_sql(vendor: str, zone: str, fast: bool = False):
    """(day of a moment, cents of a deal row named d) in `vendor`'s SQL."""
    if vendor == "postgresql":
        return (lambda moment: f"({moment} AT TIME ZONE '{zone}')::date"), "(d.value * 100)::bigint"
    return (lambda moment: sqlite_day(moment, zone, fast=fast)), "CAST(round(d.value * 100) AS INTEGER)"


def sqlite_fast_month(moment: str, zone: str) -> str:
    """SQLite, a large insert: the local month (its first day) of a moment, with `local_date` called
    only for moments on a month's first or last days in UTC. No zone is a day away from UTC, so a
    moment from the 2nd to the 27th is in its UTC month wherever it is seen."""
    local = f"{LOCAL_DATE}({moment}, '{zone}')"
    return (
        f"substr(CASE WHEN substr({moment}, 9, 2) BETWEEN '02' AND '27' THEN {moment} ELSE {local} END, 1, 7) || '-01'"
    )


def grouped_sql(rows: str, vendor: str, zone: str, sign: str = "", grain: Grain = DAY, fast: bool = False) -> str:
    day, cents = vendor_sql(vendor, zone, fast)

    def at(moment: str) -> str:
        if fast and grain.column == "month":
            return sqlite_fast_month(moment, zone)
        return grain.of(day(moment), vendor)

    parts = " UNION ALL ".join(
        f"SELECT d.integration_id, '{kind}' AS kind, {at(moment)} AS {grain.column}, d.currency, "
        f"{cents} AS cents FROM {rows} d WHERE {condition}"
        for kind, condition, moment in kinds("d")
    )
    return (
        f"SELECT {grain.key}, {sign}count(*) AS count, {sign}sum(cents) AS value_cents "
        f"FROM ({parts}) k GROUP BY 1, 2, 3, 4"
    )


def fill_sql(vendor: str, zone: str, grain: Grain = DAY) -> str:
    """Every deal counted into the (empty) table."""
    rows = grouped_sql("dealflow_deal", vendor, zone, grain=grain)
    return f"INSERT INTO {grain.table} ({grain.key}, count, value_cents) {rows}"


# --- PostgreSQL: statement-level triggers over the transition tables, set-based -------------------


def postgresql_add(rows: str, zone: str, grain: Grain = DAY) -> str:
    grouped = grouped_sql(rows, "postgresql", zone, grain=grain)
    return totals_sql.add_grouped(grain.table, grain.key, FIGURES, grouped, "postgresql") + ";"


def postgresql_remove(rows: str, zone: str, grain: Grain = DAY) -> str:
    negated = grouped_sql(rows, "postgresql", zone, "-", grain)
    return totals_sql.subtract_grouped(grain.table, grain.key, FIGURES, negated) + ";"


def postgresql_triggers(zone: str, grain: Grain = DAY) -> list[Trigger]:
    add, remove = postgresql_add("new_rows", zone, grain), postgresql_remove("old_rows", zone, grain)
    return totals_sql.deal_triggers(grain.table, "postgresql", add, remove, COLUMNS)


# --- Making the triggers, rebuilding and checking the rows ----------------------------------------


def zone_name() -> str:
    zone = settings.TIME_ZONE
    if "'" in zone:  # it goes into the triggers' SQL
        raise ValueError(f"Unexpected TIME_ZONE {zone!r}")
    return zone


def vendor_triggers(vendor: str, grain: Grain = DAY) -> list[Trigger]:
    """The triggers for settings.TIME_ZONE."""
    return (postgresql_triggers if vendor == "postgresql" else sqlite_triggers)(zone_name(), grain)


def refill(cursor, vendor: str, grain: Grain = DAY) -> None:
    cursor.execute(f"DELETE FROM {grain.table}")
    cursor.execute(fill_sql(vendor, zone_name(), grain))


def bulk_insert(rows: str, grain: Grain = DAY) -> str:
    """SQLite: the insert trigger's work for the new deals of `rows`, grouped (their days by
    `local_date`)."""
    register_local_date()
    grouped = grouped_sql(rows, "sqlite", zone_name(), grain=grain, fast=True)
    return totals_sql.add_grouped(grain.table, grain.key, FIGURES, grouped, "sqlite")


def trigger_set(name: str, migration: str, grain: Grain) -> TriggerSet:
    """The registry's description of the triggers that keep `grain`'s table."""
    return TriggerSet(
        name,
        migration,
        lambda vendor: vendor_triggers(vendor, grain),
        lambda cursor, vendor: refill(cursor, vendor, grain),
        {f"{grain.table}_insert": lambda rows: bulk_insert(rows, grain)},
    )


TRIGGERS = register(trigger_set("day_totals", "0013_metric_day_totals", DAY))


def drop_triggers(cursor, vendor: str) -> None:
    drop(cursor, vendor, TRIGGERS)


def create_triggers(cursor, vendor: str) -> None:
    """(Re)make the triggers for settings.TIME_ZONE."""
    create(cursor, vendor, TRIGGERS)


def triggers_present() -> bool:
    return registry_triggers_present([TRIGGERS.name])


def cents(value) -> int:
    return int(Decimal(value or 0).quantize(Decimal("0.01")) * 100)


def grouped_deals(integration_ids=None) -> dict[tuple, tuple[int, int]]:
    """{(integration id, kind, day, currency): (count, value in cents)} grouped from the deals, with
    Django's own date truncation in the current time zone; keyed like `table_rows`."""
    deals = Deal.objects.all()
    if integration_ids is not None:
        deals = deals.filter(integration_id__in=integration_ids)
    selections = {
        "new": (deals.exclude(status=DealStatus.DELETED), F("add_time")),
        "won": (deals.filter(status=DealStatus.WON), won_at_expression()),
        "lost": (deals.filter(status=DealStatus.LOST), Coalesce("lost_time", "close_time")),
    }
    grouped = {}
    for kind, (selected, moment) in selections.items():
        rows = (
            selected.annotate(at=moment)
            .filter(at__isnull=False)
            .values("integration_id", "currency", day=TruncDate("at"))
            .annotate(deals=Count("id"), total=Sum("value"))
            .order_by()
        )
        for row in rows:
            grouped[row["integration_id"], kind, row["day"], row["currency"]] = (row["deals"], cents(row["total"]))
    return grouped


def table_rows(integration_ids=None) -> dict[tuple, tuple[int, int]]:
    """The table's rows, keyed like `grouped_deals` (rows whose deals all left are left out)."""
    return stored_rows(DealDayTotal, ("integration_id", "kind", "day", "currency"), integration_ids)


def stored_rows(model, key: tuple[str, ...], integration_ids=None, figures=("count", "value_cents")) -> dict:
    """{key: figures} of a table of totals (rows whose deals all left are left out): what the tests
    and `rebuild_metric_totals --check` compare with a GROUP BY over the deals."""
    rows = model.objects.exclude(count=0)
    if integration_ids is not None:
        rows = rows.filter(integration_id__in=integration_ids)
    return {tuple(row[: len(key)]): tuple(row[len(key) :]) for row in rows.values_list(*key, *figures).order_by()}


def remake(trigger_set: TriggerSet) -> None:
    """Remake a set's triggers on the deals and recompute what they keep, deal writes waiting for the
    new rows (PostgreSQL; SQLite's write transaction already holds the database's write lock)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {Deal._meta.db_table} IN SHARE MODE")
        create(cursor, connection.vendor, trigger_set)
        trigger_set.refill(cursor, connection.vendor)


def rebuild() -> int:
    """Remake the triggers (for the current TIME_ZONE) and recompute the rows; how many rows. The
    overview cache's triggers too (a migration that rebuilt the deals table dropped them as well),
    and its mark: the rows may differ without a deal write."""
    from dealflow.metrics import overview_cache  # it reads COLUMNS from here

    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Deal writes wait until the new rows are in (SQLite's write transaction already
                # holds the database's write lock).
                cursor.execute(f"LOCK TABLE {Deal._meta.db_table} IN SHARE MODE")
            create_triggers(cursor, connection.vendor)
            refill(cursor, connection.vendor)
            overview_cache.create_triggers(cursor, connection.vendor)
            overview_cache.mark_everything(cursor)
    return DealDayTotal.objects.count()


# --- Reading ----------------------------------------------------------------------------------------


class MonthStart(Func):
    """The first day of a date column's month (plain SQL on both databases: Django's month
    truncation runs as Python once per row on SQLite)."""

    output_field = DateField()
    template = "CAST(date_trunc('month', %(expressions)s) AS date)"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 7) || '-01'", **extra)


def day_rows(
    integration_ids,
    kinds_wanted,
    since: date,
    until: date | None,
    *,
    per_integration: bool = True,
    by_day: bool = True,
    monthly: Q | None = None,
) -> list[dict]:
    """Rows of the days since..until (inclusive; None: no end): dicts with kind, currency, count and
    value (a Decimal), day when `by_day`, integration_id when `per_integration` (else summed).
    Rows matching `monthly` are summed per month (their day is the month's first): for figures
    that need no day, such as counts, or amounts in the reporting currency (no rate to look up)."""
    keys = ["kind", "currency"] + (["day"] if by_day else []) + (["integration_id"] if per_integration else [])
    rows = DealDayTotal.objects.filter(
        integration_id__in=list(integration_ids), kind__in=list(kinds_wanted), day__gte=since
    )
    if until is not None:
        rows = rows.filter(day__lte=until)
    if by_day and monthly is not None:
        rows = rows.annotate(grain=Case(When(monthly, then=MonthStart("day")), default=F("day")))
        keys[2] = "grain"
    rows = rows.values_list(*keys).annotate(deals=Sum("count"), total=Sum("value_cents")).order_by()
    names = ["day" if key == "grain" else key for key in keys]
    result = []
    for *key, count, total in rows:
        if count:
            row = dict(zip(names, key, strict=True))
            row.update(count=count, value=Decimal(total) / 100)
            result.append(row)
    return result


def by_kind(rows: list[dict]) -> dict[str, list[dict]]:
    grouped = defaultdict(list)
    for row in rows:
        grouped[row["kind"]].append(row)
    return grouped
