"""One registry of the database triggers that keep stored figures exact in the transaction of every
write (board totals, day totals, search index, stage stays, planned activity flags, overview marks).

Each trigger set describes its triggers (`Trigger`) per vendor and registers a `TriggerSet` here;
this module writes their SQL, one way per vendor:

- SQLite has row triggers only: `CREATE TRIGGER … AFTER INSERT ON t [WHEN …] BEGIN … END`.
- PostgreSQL: a plpgsql function per trigger and, unless the description asks for a row trigger,
  a statement-level trigger over the statement's transition tables (new_rows / old_rows), so a
  write of many rows runs the trigger's body once.

The registry also knows which are present (`triggers_present`), and makes the missing ones again
with what they keep recomputed (`ensure_triggers`): on SQLite a migration that rebuilds a table
(AlterField and friends copy it to a new one) drops its triggers, so before a plan that may
rebuild a table there `migrate` drops the sets that name it, and ends with `ensure_triggers`
(apps.py; see `on_pre_migrate`);
`rebuild_metric_totals` and `rebuild_board_totals` check and make them through it too.

A set can also name, per insert trigger, the set-based statement that does that trigger's work for
a whole set of new rows: `bulk_insert.insert_set_based` swaps the trigger for it on a large
SQLite insert.
"""

import importlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.apps import apps as django_apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations import operations
from django.db.migrations.recorder import MigrationRecorder

logger = logging.getLogger(__name__)

TRANSITION_TABLES = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


@dataclass(frozen=True)
class Trigger:
    """One trigger on `table` for `event` (insert, delete or update) running `body` (SQL statements,
    each ending in ";"). On PostgreSQL the body sees the transition tables new_rows / old_rows, or,
    with `row`, NEW / OLD of each row."""

    name: str
    table: str
    event: str
    body: str = ""
    when: str = ""  # SQLite, and PostgreSQL row triggers: only for the rows it holds for
    of: tuple[str, ...] = ()  # an update trigger: only when one of these columns is set
    before: bool = False  # PostgreSQL: BEFORE … FOR EACH ROW, the body may change NEW
    row: bool = False  # PostgreSQL: FOR EACH ROW rather than once per statement
    transition: bool = True  # PostgreSQL statement triggers: with the transition tables
    function: str = ""  # PostgreSQL: the function, when several triggers share one (default: name)
    sql: tuple[str, ...] = ()  # the statements as a committed migration wrote them, used as they are

    @property
    def function_name(self) -> str:
        return self.function or self.name


@dataclass(frozen=True)
class TriggerSet:
    """The triggers that keep one stored figure, and how to recompute it from scratch."""

    name: str
    migration: str  # the dealflow migration that made the triggers: before it, there is nothing to keep
    triggers: Callable[[str], list[Trigger]]  # by vendor
    refill: Callable[[object, str], None]  # (cursor, vendor): recompute the figure from the rows
    # SQLite: {insert trigger name: the statement that does its work for the rows of an SQL
    # expression (a subquery of the table's new rows)}.
    bulk_insert: Mapping[str, Callable[[str], str]] = field(default_factory=dict)


REGISTRY: dict[str, TriggerSet] = {}
# The modules that register trigger sets, imported on the registry's first use.
MODULES = (
    "dealflow.migrated_triggers",
    "dealflow.board_won_months",
    "dealflow.metrics.day_totals",
    "dealflow.metrics.activity_flags",
    "dealflow.metrics.overview_cache",
    "dealflow.metrics.open_totals",
    "dealflow.metrics.month_totals",
)


def register(trigger_set: TriggerSet) -> TriggerSet:
    REGISTRY[trigger_set.name] = trigger_set
    return trigger_set


def trigger_sets(names=None) -> list[TriggerSet]:
    for module in MODULES:
        importlib.import_module(module)
    return [REGISTRY[name] for name in (names or REGISTRY)]


# --- SQL ------------------------------------------------------------------------------------------


def sqlite_sql(trigger: Trigger) -> list[str]:
    if trigger.sql:
        return list(trigger.sql)
    of = f" OF {', '.join(trigger.of)}" if trigger.of else ""
    when = f" WHEN {trigger.when}" if trigger.when else ""
    timing = "BEFORE" if trigger.before else "AFTER"
    return [
        f"CREATE TRIGGER {trigger.name} {timing} {trigger.event.upper()}{of} ON {trigger.table}{when} "
        f"BEGIN {trigger.body} END"
    ]


def postgresql_sql(trigger: Trigger, with_function: bool = True) -> list[str]:
    if trigger.sql:
        return list(trigger.sql)
    function = trigger.function_name
    statements = []
    if with_function:
        result = "NEW" if trigger.before else "NULL"
        statements.append(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {trigger.body} "
            f"RETURN {result}; END $$"
        )
    of = f" OF {', '.join(trigger.of)}" if trigger.of else ""
    timing = "BEFORE" if trigger.before else "AFTER"
    if trigger.row or trigger.before:
        level = "FOR EACH ROW" + (f" WHEN ({trigger.when})" if trigger.when else "")
    elif trigger.transition:
        level = f"REFERENCING {TRANSITION_TABLES[trigger.event]} FOR EACH STATEMENT"
    else:
        level = "FOR EACH STATEMENT"
    statements.append(
        f"CREATE TRIGGER {trigger.name} {timing} {trigger.event.upper()}{of} ON {trigger.table} {level} "
        f"EXECUTE FUNCTION {function}()"
    )
    return statements


def create_statements(triggers: list[Trigger], vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [statement for trigger in triggers for statement in sqlite_sql(trigger)]
    statements, functions = [], set()
    for trigger in triggers:
        statements += postgresql_sql(trigger, with_function=trigger.function_name not in functions)
        functions.add(trigger.function_name)
    return statements


def drop_statements(triggers: list[Trigger], vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {trigger.name}" for trigger in triggers]
    functions = dict.fromkeys(trigger.function_name for trigger in triggers)
    return [f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}" for trigger in triggers] + [
        f"DROP FUNCTION IF EXISTS {function}()" for function in functions
    ]


def create(cursor, vendor: str, trigger_set: TriggerSet) -> None:
    """(Re)make the set's triggers, dropping any there are first."""
    triggers = trigger_set.triggers(vendor)
    for statement in [*drop_statements(triggers, vendor), *create_statements(triggers, vendor)]:
        cursor.execute(statement)


def drop(cursor, vendor: str, trigger_set: TriggerSet) -> None:
    for statement in drop_statements(trigger_set.triggers(vendor), vendor):
        cursor.execute(statement)


# --- Checks and repair ----------------------------------------------------------------------------


def present_names(cursor, vendor: str) -> set[str]:
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    else:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    return {name for (name,) in cursor.fetchall()}


def missing(names=None, using: str = DEFAULT_DB_ALIAS) -> list[TriggerSet]:
    """The sets (all, or those named) with a trigger missing."""
    connection = connections[using]
    with connection.cursor() as cursor:
        found = present_names(cursor, connection.vendor)
    return [
        trigger_set
        for trigger_set in trigger_sets(names)
        if {trigger.name for trigger in trigger_set.triggers(connection.vendor)} - found
    ]


def triggers_present(names=None, using: str = DEFAULT_DB_ALIAS) -> bool:
    return not missing(names, using)


def ensure_triggers(names=None, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Make the missing sets' triggers again and recompute what they keep (writes made while they
    were missing went uncounted); returns their names. Sets whose migration is not applied (a
    database migrated backwards) are left alone."""
    connection = connections[using]
    applied = {name for app, name in MigrationRecorder(connection).applied_migrations() if app == "dealflow"}
    wanted = [trigger_set for trigger_set in missing(names, using) if trigger_set.migration in applied]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for trigger_set in wanted:
            create(cursor, connection.vendor, trigger_set)
            trigger_set.refill(cursor, connection.vendor)
    return [trigger_set.name for trigger_set in wanted]


# Schema operations that never copy, drop or rename an existing table on SQLite. RunPython and
# RunSQL are data or trigger migrations here; a raw ALTER TABLE in one would fail loudly on a trigger
# that names its table, not silently.
KEEPS_TABLES = (
    operations.AddIndex,
    operations.RemoveIndex,
    operations.RenameIndex,
    operations.AlterModelOptions,
    operations.AlterModelManagers,
    operations.RunPython,
    operations.RunSQL,
)

# The sets `on_pre_migrate` dropped, per database, so `on_post_migrate` knows which it expected.
dropped_by_migrate: dict[str, set[str]] = {}


def schema_operations(migration):
    for operation in migration.operations:
        if isinstance(operation, operations.SeparateDatabaseAndState):
            yield from operation.database_operations
        else:
            yield operation


def tables_altered(plan) -> set[str]:
    """The tables of today's models that the plan's schema operations may copy, drop or rename."""
    models = django_apps.get_models(include_auto_created=True)
    tables = set()
    for migration, backwards in plan:
        for operation in schema_operations(migration):
            if isinstance(operation, KEEPS_TABLES) or (isinstance(operation, operations.CreateModel) and not backwards):
                continue  # (a new table: no trigger names it yet)
            tables |= {
                model._meta.db_table
                for model in models
                if operation.references_model(model._meta.model_name, model._meta.app_label)
            }
    return tables


def names_a_table(trigger_set: TriggerSet, tables: set[str]) -> bool:
    sql = " ".join(create_statements(trigger_set.triggers("sqlite"), "sqlite"))
    return any(re.search(rf"\b{re.escape(table)}\b", sql) for table in tables)


def on_pre_migrate(sender, plan=None, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Before `migrate` applies migrations on SQLite: drop the triggers of every set that names a
    table the plan may copy. A migration that rebuilds a table (AlterField and friends copy it to a
    new one, drop it and rename the copy) drops the table's own triggers without a word, and fails
    outright while a trigger on another table names it (the rename checks every trigger: the flags'
    triggers on the activities name the deals, the stays' trigger on the deals names the stage
    changes). `on_post_migrate` makes them again and recomputes what they keep, which costs minutes
    on a large database: a plan that rebuilds none of their tables leaves them alone."""
    connection = connections[using]
    dropped_by_migrate[using] = set()
    if not plan or connection.vendor != "sqlite":
        return
    altered = tables_altered(plan)
    with connection.cursor() as cursor:
        for trigger_set in trigger_sets():
            if names_a_table(trigger_set, altered):
                drop(cursor, connection.vendor, trigger_set)
                dropped_by_migrate[using].add(trigger_set.name)


def on_post_migrate(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """After `migrate` (and a test's flush): make the missing triggers again, with what they keep
    recomputed (the writes of data migrations meanwhile went uncounted). Those migrate dropped itself
    are routine; any other missing set is worth a warning (dropped by hand, or lost another way)."""
    remade = ensure_triggers(using=using)
    expected = dropped_by_migrate.pop(using, set())
    if routine := [name for name in remade if name in expected]:
        logger.info("Made the triggers migrate dropped again and recomputed what they keep: %s", ", ".join(routine))
    if unexpected := [name for name in remade if name not in expected]:
        logger.warning("Made missing triggers again and recomputed what they keep: %s", ", ".join(unexpected))


def bulk_insert_statements(table: str) -> dict[str, Callable[[str], str]]:
    """{insert trigger on `table`: its set-based statement}, of every set (SQLite)."""
    statements = {}
    for trigger_set in trigger_sets():
        tables = {trigger.name: trigger.table for trigger in trigger_set.triggers("sqlite")}
        statements.update({name: sql for name, sql in trigger_set.bulk_insert.items() if tables[name] == table})
    return statements
