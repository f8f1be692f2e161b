"""The overview's report and the text its page shows of it, cached per process and keyed by
everything they come from, so a page that nothing changed is not computed again (computing and
writing it were most of an overview request).

The key holds:
- the companies the user may see (id, name, slug): two users with different access never share
  an entry;
- their CRM integrations and the stage map (mappings, probabilities, names): read per request,
  two small queries, so a mapping change shows at once;
- a mark per integration's deals (dealflow_metricsmark), which database triggers replace with a
  random number in the transaction of every write to a deal: a sync, a webhook, write-back, the
  admin, bulk writes. Random rather than a counter: a rolled-back write leaves the mark as it
  was, and a counter could then repeat for different data (the tests roll back every test);
- the exchange rates' mark: on PostgreSQL a mark (source 0) that a trigger replaces once per
  transaction that writes rates; on SQLite the rates' highest id (see `marks`).
  `day_totals.rebuild` replaces mark 0 too (rebuilt totals can differ without a deal write);
- the period, today (the trends' months), the reporting currency and the language.

What depends on the clock (sync health) is never cached: the view reads it per request. Without
the triggers (dropped by hand; `migrate` and `rebuild_metric_totals` make them again with new
marks, dealflow/triggers.py) the report is computed every time rather than risk a stale one.
"""

import hashlib
from collections.abc import Callable
from datetime import date

from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language

from dealflow.metrics import day_totals
from dealflow.metrics.period import Period
from dealflow.metrics.report import Report, build
from dealflow.metrics.scope import Scope
from dealflow.models import Deal, MetricsMark
from dealflow.triggers import Trigger, TriggerSet, create, drop, register

TABLE = MetricsMark._meta.db_table
DEALS = Deal._meta.db_table
EVERYTHING_ELSE = 0  # the mark of rebuilt totals, and of exchange rates on PostgreSQL
TIMEOUT = 24 * 3600  # an entry nobody asks for again leaves; a change makes a new key anyway
EVENTS = ("insert", "delete", "update")
# A deal update that changes none of these changes nothing the overview shows (PM's activity
# flags and other bookkeeping columns leave the cache alone).
DEAL_COLUMNS = (*day_totals.COLUMNS, "stage_id", "is_archived")


def trigger_names(table: str) -> list[str]:
    """The triggers on `table` (deal or fxrate), in EVENTS' order."""
    return [f"{TABLE}_{table}_{event}" for event in EVENTS]


# --- Triggers ------------------------------------------------------------------------------------


def sqlite_mark(source: str) -> str:
    """Replace the mark of `source` (an SQL expression) with a random one."""
    return (
        f"INSERT INTO {TABLE} (source, mark) SELECT {source}, random() WHERE {source} IS NOT NULL "
        f"ON CONFLICT (source) DO UPDATE SET mark = excluded.mark;"
    )


def sqlite_triggers() -> list[Trigger]:
    deal = trigger_names("deal")
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in DEAL_COLUMNS)
    moved = sqlite_mark("OLD.integration_id").replace("WHERE", "WHERE OLD.integration_id IS NOT NEW.integration_id AND")
    return [
        Trigger(deal[0], DEALS, "insert", sqlite_mark("NEW.integration_id")),
        Trigger(deal[1], DEALS, "delete", sqlite_mark("OLD.integration_id")),
        Trigger(deal[2], DEALS, "update", f"{sqlite_mark('NEW.integration_id')} {moved}", when=changed),
    ]


def deals_bulk_insert(rows: str) -> str:
    """SQLite, a large insert (bulk_insert.py): one new mark per integration of the new deals."""
    sources = f"SELECT DISTINCT d.integration_id FROM {rows} d WHERE d.integration_id IS NOT NULL"
    return (
        f"INSERT INTO {TABLE} (source, mark) SELECT s.integration_id, random() FROM ({sources}) s WHERE true "
        "ON CONFLICT (source) DO UPDATE SET mark = excluded.mark"
    )


POSTGRESQL_RANDOM = "(random() * 9.2e18)::bigint"
RATES_MARK = "dealflow.rates_mark"  # the rates' mark within the transaction that wrote them


def postgresql_mark(sources: str) -> str:
    """Replace the marks of the integrations `sources` (a SELECT of distinct ids) with random ones."""
    return (
        f"INSERT INTO {TABLE} (source, mark) SELECT s.id, {POSTGRESQL_RANDOM} FROM ({sources}) s(id) "
        f"WHERE s.id IS NOT NULL ORDER BY 1 ON CONFLICT (source) DO UPDATE SET mark = EXCLUDED.mark;"
    )


def postgresql_triggers() -> list[Trigger]:
    """Statement-level triggers over the transition tables: one write per statement, not per row."""
    sources = {
        "insert": "SELECT DISTINCT integration_id FROM new_rows",
        "delete": "SELECT DISTINCT integration_id FROM old_rows",
        "update": "SELECT integration_id FROM old_rows UNION SELECT integration_id FROM new_rows",
    }
    triggers = [
        Trigger(name, DEALS, event, postgresql_mark(sources[event]))
        for name, event in zip(trigger_names("deal"), EVENTS, strict=True)
    ]
    # Rates are loaded with executemany, a statement per rate (200,000 from the packaged file): the
    # row's mark is replaced once per transaction, not per statement (a row updated again and again
    # in one transaction gets slower each time); every statement gives the transaction a new mark
    # of its own (a setting that ends with it), which `marks` reads too, so the transaction itself
    # never reads a page cached before its own later rates.
    rates = (
        f"IF nullif(current_setting('{RATES_MARK}', true), '') IS NULL THEN "
        f"{postgresql_mark(f'SELECT {EVERYTHING_ELSE}')} END IF; "
        f"PERFORM set_config('{RATES_MARK}', {POSTGRESQL_RANDOM}::text, true);"
    )
    return triggers + [
        Trigger(name, "dealflow_fxrate", event, rates, transition=False, function=f"{TABLE}_fxrate")
        for name, event in zip(trigger_names("fxrate"), EVENTS, strict=True)
    ]


def vendor_triggers(vendor: str) -> list[Trigger]:
    """SQLite has triggers on the deals only: the rates' mark there is their highest id (`marks`)."""
    return postgresql_triggers() if vendor == "postgresql" else sqlite_triggers()


def refill(cursor, vendor: str) -> None:
    """New marks for every integration and everything else: deals written while the triggers were
    missing replaced none."""
    cursor.execute(f"UPDATE {TABLE} SET mark = {POSTGRESQL_RANDOM if vendor == 'postgresql' else 'random()'}")
    mark_everything(cursor, vendor)


TRIGGERS = register(
    TriggerSet(
        "overview_marks",
        "0017_overview_cache_marks",
        vendor_triggers,
        refill,
        {trigger_names("deal")[0]: deals_bulk_insert},
    )
)


def drop_triggers(cursor, vendor: str) -> None:
    drop(cursor, vendor, TRIGGERS)


def create_triggers(cursor, vendor: str) -> None:
    create(cursor, vendor, TRIGGERS)


def mark_everything(cursor, vendor: str | None = None) -> None:
    """A new mark for everything else: after the totals were rebuilt without a deal write."""
    everything_else = str(EVERYTHING_ELSE)
    if (vendor or connection.vendor) == "postgresql":
        cursor.execute(postgresql_mark(f"SELECT {everything_else}"))
    else:
        cursor.execute(sqlite_mark(everything_else))


# --- Reading -------------------------------------------------------------------------------------


def marks(integration_ids) -> tuple | None:
    """The marks of these integrations, of everything else and of the rates, in one query; None (do
    not cache) when the triggers that keep them are missing."""
    sources = sorted({EVERYTHING_ELSE, *integration_ids})
    names = [trigger.name for trigger in vendor_triggers(connection.vendor)]
    if connection.vendor == "postgresql":
        # -2: the rates' mark within this transaction, when it wrote rates.
        present = (
            "SELECT -1, count(*) FROM pg_trigger WHERE tgname = ANY(%s) "
            f"UNION ALL SELECT -2, CAST(nullif(current_setting('{RATES_MARK}', true), '') AS bigint)"
        )
        parameters = [sources, names]
        wanted = "source = ANY(%s)"
    else:
        # -3: the rates' highest id. A trigger per rate made loading the packaged file (200,000 rates,
        # every migrate) four times slower; rates are only ever added (fx.store_rates: no update, no
        # delete), and SQLite's writers take turns, so a new rate always raises it.
        present = (
            f"SELECT -1, count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({placeholders(names)}) "
            "UNION ALL SELECT -3, max(id) FROM dealflow_fxrate"
        )
        parameters = [*sources, *names]
        wanted = f"source IN ({placeholders(sources)})"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT source, mark FROM {TABLE} WHERE {wanted} UNION ALL {present}", parameters)
        found = dict(cursor.fetchall())
    if found.pop(-1) != len(names):
        return None
    return (*((source, found.get(source)) for source in sources), found.get(-2), found.get(-3))


def placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def key_of(scope: Scope, found_marks: tuple, period: Period, currency: str, today: date) -> str:
    stages = scope.stages
    parts = (
        [(company.pk, company.name, company.slug) for company in scope.companies],
        sorted(scope.company_of.items()),
        sorted(stages.target.items()),
        sorted(stages.probability.items()),
        sorted(stages.name.items()),
        found_marks,
        (period.since, period.until, period.preset),
        currency,
        today,
        get_language(),
    )
    return "overview:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def cached_overview(companies, period: Period, currency: str, shown: Callable[[Report], dict]) -> tuple[Report, dict]:
    """The overview's report of `companies` (report.build(overview=True)) and what the page shows of it
    in the active language (`shown(report)`), from the cache when nothing they come from changed."""
    today = timezone.localdate()
    scope = Scope.of(companies)
    found_marks = marks(scope.integration_ids)
    if found_marks is None:
        report = build(companies, period, currency, today=today, overview=True, scope=scope)
        return report, shown(report)
    key = key_of(scope, found_marks, period, currency, today)
    entry = cache.get(key)
    if entry is None:
        report = build(companies, period, currency, today=today, overview=True, scope=scope)
        entry = (report, shown(report))
        cache.set(key, entry, TIMEOUT)
    return entry
