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
the triggers (a migration that rebuilt the deals table on SQLite drops them; `rebuild_metric_totals`
remakes them) the report is computed every time rather than risk a stale one.
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
from dealflow.models import MetricsMark

TABLE = MetricsMark._meta.db_table
EVERYTHING_ELSE = 0  # the mark of rebuilt totals, and of exchange rates on PostgreSQL
TIMEOUT = 24 * 3600  # an entry nobody asks for again leaves; a change makes a new key anyway
EVENTS = ("insert", "delete", "update")
# A deal update that changes none of these changes nothing the overview shows (PM's activity
# flags and other bookkeeping columns leave the cache alone).
DEAL_COLUMNS = (*day_totals.COLUMNS, "stage_id", "is_archived")


def trigger_names(table: str) -> list[str]:
    """The triggers on `table` (deal or fxrate), in EVENTS' order."""
    return [f"{TABLE}_{table}_{event}" for event in EVENTS]


def vendor_triggers(vendor: str) -> list[str]:
    """SQLite has triggers on the deals only: the rates' mark there is their highest id (below)."""
    return trigger_names("deal") + (trigger_names("fxrate") if vendor == "postgresql" else [])


# --- Triggers ------------------------------------------------------------------------------------


def sqlite_mark(source: str) -> str:
    """Replace the mark of `source` (an SQL expression) with a random one."""
    return (
        f"INSERT INTO {TABLE} (source, mark) SELECT {source}, random() WHERE {source} IS NOT NULL "
        f"ON CONFLICT (source) DO UPDATE SET mark = excluded.mark;"
    )


def sqlite_statements() -> list[str]:
    deal = trigger_names("deal")
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in DEAL_COLUMNS)
    moved = sqlite_mark("OLD.integration_id").replace("WHERE", "WHERE OLD.integration_id IS NOT NEW.integration_id AND")
    return [
        f"CREATE TRIGGER {deal[0]} AFTER INSERT ON dealflow_deal BEGIN {sqlite_mark('NEW.integration_id')} END",
        f"CREATE TRIGGER {deal[1]} AFTER DELETE ON dealflow_deal BEGIN {sqlite_mark('OLD.integration_id')} END",
        f"CREATE TRIGGER {deal[2]} AFTER UPDATE ON dealflow_deal WHEN {changed} "
        f"BEGIN {sqlite_mark('NEW.integration_id')} {moved} END",
    ]


POSTGRESQL_RANDOM = "(random() * 9.2e18)::bigint"
RATES_MARK = "dealflow.rates_mark"  # the rates' mark within the transaction that wrote them


def postgresql_mark(sources: str) -> str:
    """Replace the marks of the integrations `sources` (a SELECT of distinct ids) with random ones."""
    return (
        f"INSERT INTO {TABLE} (source, mark) SELECT s.id, {POSTGRESQL_RANDOM} FROM ({sources}) s(id) "
        f"WHERE s.id IS NOT NULL ORDER BY 1 ON CONFLICT (source) DO UPDATE SET mark = EXCLUDED.mark;"
    )


def postgresql_statements() -> list[str]:
    """Statement-level triggers over the transition tables: one write per statement, not per row."""
    fxrate = f"{TABLE}_fxrate"
    bodies = {
        "insert": ("NEW TABLE AS new_rows", "SELECT DISTINCT integration_id FROM new_rows"),
        "delete": ("OLD TABLE AS old_rows", "SELECT DISTINCT integration_id FROM old_rows"),
        "update": (
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "SELECT integration_id FROM old_rows UNION SELECT integration_id FROM new_rows",
        ),
    }
    statements = []
    for name, (event, (tables, sources)) in zip(trigger_names("deal"), bodies.items(), strict=True):
        statements += [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{postgresql_mark(sources)} RETURN NULL; END $$",
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON dealflow_deal REFERENCING {tables} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    # Rates are loaded with executemany, a statement per rate (200,000 from the packaged file): the
    # row's mark is replaced once per transaction, not per statement (a row updated again and again
    # in one transaction gets slower each time); every statement gives the transaction a new mark
    # of its own (a setting that ends with it), which `marks` reads too, so the transaction itself
    # never reads a page cached before its own later rates.
    statements.append(
        f"CREATE FUNCTION {fxrate}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF nullif(current_setting('{RATES_MARK}', true), '') IS NULL THEN "
        f"{postgresql_mark(f'SELECT {EVERYTHING_ELSE}')} END IF; "
        f"PERFORM set_config('{RATES_MARK}', {POSTGRESQL_RANDOM}::text, true); RETURN NULL; END $$"
    )
    return statements + [
        f"CREATE TRIGGER {name} AFTER {event.upper()} ON dealflow_fxrate FOR EACH STATEMENT EXECUTE FUNCTION {fxrate}()"
        for name, event in zip(trigger_names("fxrate"), EVENTS, strict=True)
    ]


def drop_triggers(cursor, vendor: str) -> None:
    for table in ("deal", "fxrate"):
        for name in trigger_names(table):
            on_table = f" ON dealflow_{table}" if vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on_table}")
    if vendor == "postgresql":
        for name in [*trigger_names("deal"), f"{TABLE}_fxrate"]:
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")


def create_triggers(cursor, vendor: str) -> None:
    drop_triggers(cursor, vendor)
    for statement in postgresql_statements() if vendor == "postgresql" else sqlite_statements():
        cursor.execute(statement)


def mark_everything(cursor) -> None:
    """A new mark for everything else: after the totals were rebuilt without a deal write."""
    everything_else = str(EVERYTHING_ELSE)
    if connection.vendor == "postgresql":
        cursor.execute(postgresql_mark(f"SELECT {everything_else}"))
    else:
        cursor.execute(sqlite_mark(everything_else))


# --- Reading -------------------------------------------------------------------------------------


def marks(integration_ids) -> tuple | None:
    """The marks of these integrations, of everything else and of the rates, in one query; None (do
    not cache) when the triggers that keep them are missing."""
    sources = sorted({EVERYTHING_ELSE, *integration_ids})
    names = vendor_triggers(connection.vendor)
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
