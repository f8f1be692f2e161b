"""Deal.has_planned_activity: whether a deal has an activity not done yet (Pipedrive's "next
activity"), stored on the deal so that hygiene counts the open deals without one off an index
(deal_open_cover_idx) instead of probing the activities once per open deal.

Database triggers keep it exact in the transaction of every write, whoever writes (sync,
webhooks, write-back, admin, ORM, bulk inserts), on SQLite and PostgreSQL:

- an activity inserted, deleted, marked (un)done or moved to another deal sets its deal's flag
  (an insert of a planned one just sets it; the others look again for a planned activity of the
  deals touched, off activity_next_idx, and write only a flag that differs);
- a write to the flag itself (an ORM save or the sync's upsert of a deal read before, which write
  every column) is put back to what the activities say; a deal inserted with the flag set is
  checked the same way (one inserted without it cannot have activities yet: its id is new).

SQLite runs them row by row; PostgreSQL per statement, with the statement's rows as transition
tables (one UPDATE of the deals per activity write, however many rows), plus a BEFORE row trigger
on the deal for the flag's own writes. Each stays cheap: nothing runs for a write that changes no
activity's deal or done, and a deal is written only when its flag changes.

On SQLite a migration that rebuilds dealflow_deal or dealflow_activity drops their triggers:
`manage.py rebuild_metric_totals` remakes them and refills the flags (`--check` compares).
"""

from django.db import connection

FLAG = "has_planned_activity"
DEALS = "dealflow_deal"
ACTIVITIES = "dealflow_activity"
NAME = "dealflow_planned"


def planned(vendor: str, deal: str) -> str:
    """SQL: whether the deal `deal` (an SQL expression) has an activity not done."""
    false = "0" if vendor == "sqlite" else "false"
    return f"EXISTS (SELECT 1 FROM {ACTIVITIES} a WHERE a.deal_id = {deal} AND a.done = {false})"


def sqlite_refresh(deal: str) -> str:
    """SQL: set the flag of the deal `deal` from its activities, writing it only when it differs."""
    differs = f"{FLAG} {distinct('sqlite')} {planned('sqlite', deal)}"
    return f"UPDATE {DEALS} SET {FLAG} = NOT {FLAG} WHERE id = {deal} AND {differs};"


def sqlite_triggers() -> list[str]:
    moved = "OLD.done IS NOT NEW.done OR OLD.deal_id IS NOT NEW.deal_id"
    return [
        f"CREATE TRIGGER {NAME}_activity_insert AFTER INSERT ON {ACTIVITIES} "
        f"WHEN NEW.deal_id IS NOT NULL AND NOT NEW.done "
        f"BEGIN UPDATE {DEALS} SET {FLAG} = 1 WHERE id = NEW.deal_id AND NOT {FLAG}; END",
        f"CREATE TRIGGER {NAME}_activity_delete AFTER DELETE ON {ACTIVITIES} "
        f"WHEN OLD.deal_id IS NOT NULL AND NOT OLD.done BEGIN {sqlite_refresh('OLD.deal_id')} END",
        f"CREATE TRIGGER {NAME}_activity_update AFTER UPDATE OF done, deal_id ON {ACTIVITIES} WHEN {moved} "
        f"BEGIN {sqlite_refresh('OLD.deal_id')} {sqlite_refresh('NEW.deal_id')} END",
        # The flag written by anyone else: put back (recursive triggers are off, so this UPDATE
        # does not come here again).
        f"CREATE TRIGGER {NAME}_deal_update AFTER UPDATE OF {FLAG} ON {DEALS} "
        f"WHEN OLD.{FLAG} IS NOT NEW.{FLAG} AND NEW.{FLAG} IS NOT {planned('sqlite', 'NEW.id')} "
        f"BEGIN UPDATE {DEALS} SET {FLAG} = NOT NEW.{FLAG} WHERE id = NEW.id; END",
        f"CREATE TRIGGER {NAME}_deal_insert AFTER INSERT ON {DEALS} "
        f"WHEN NEW.{FLAG} AND NOT {planned('sqlite', 'NEW.id')} "
        f"BEGIN UPDATE {DEALS} SET {FLAG} = 0 WHERE id = NEW.id; END",
    ]


def postgresql_triggers() -> list[str]:
    differs = f"d.{FLAG} {distinct('postgresql')} {planned('postgresql', 'd.id')}"
    bodies = {
        "insert": (
            "NEW TABLE AS new_rows",
            f"UPDATE {DEALS} d SET {FLAG} = true "
            f"WHERE d.id IN (SELECT deal_id FROM new_rows WHERE NOT done) AND NOT d.{FLAG};",
        ),
        "delete": (
            "OLD TABLE AS old_rows",
            f"UPDATE {DEALS} d SET {FLAG} = false "
            f"WHERE d.id IN (SELECT deal_id FROM old_rows WHERE NOT done) AND d.{FLAG} "
            f"AND NOT {planned('postgresql', 'd.id')};",
        ),
        "update": (
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "WITH moved AS (SELECT o.deal_id AS before, n.deal_id AS after FROM old_rows o "
            "JOIN new_rows n ON n.id = o.id WHERE o.done IS DISTINCT FROM n.done "
            "OR o.deal_id IS DISTINCT FROM n.deal_id) "
            f"UPDATE {DEALS} d SET {FLAG} = NOT d.{FLAG} "
            f"WHERE d.id IN (SELECT before FROM moved UNION SELECT after FROM moved) AND {differs};",
        ),
    }
    statements = []
    for event, (tables, body) in bodies.items():
        name = f"{NAME}_activity_{event}"
        statements += [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$",
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON {ACTIVITIES} REFERENCING {tables} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return [
        *statements,
        f"CREATE FUNCTION {NAME}_deal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"NEW.{FLAG} := {planned('postgresql', 'NEW.id')}; RETURN NEW; END $$",
        f"CREATE TRIGGER {NAME}_deal_update BEFORE UPDATE OF {FLAG} ON {DEALS} FOR EACH ROW "
        f"WHEN (OLD.{FLAG} IS DISTINCT FROM NEW.{FLAG}) EXECUTE FUNCTION {NAME}_deal()",
        f"CREATE TRIGGER {NAME}_deal_insert BEFORE INSERT ON {DEALS} FOR EACH ROW "
        f"WHEN (NEW.{FLAG}) EXECUTE FUNCTION {NAME}_deal()",
    ]


def trigger_names(vendor: str) -> list[str]:
    events = [f"activity_{event}" for event in ("insert", "delete", "update")] + ["deal_update", "deal_insert"]
    return [f"{NAME}_{event}" for event in events]


def drop_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in trigger_names(vendor)]
    statements = []
    for name in trigger_names(vendor):
        table = DEALS if "_deal_" in name else ACTIVITIES
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    functions = [f"{NAME}_activity_{event}" for event in ("insert", "delete", "update")] + [f"{NAME}_deal"]
    return statements + [f"DROP FUNCTION IF EXISTS {name}()" for name in functions]


def distinct(vendor: str) -> str:
    return "IS NOT" if vendor == "sqlite" else "IS DISTINCT FROM"


def fill_sql(vendor: str) -> str:
    """Every deal's flag from its activities (written where it differs)."""
    return f"UPDATE {DEALS} SET {FLAG} = NOT {FLAG} WHERE {FLAG} {distinct(vendor)} {planned(vendor, f'{DEALS}.id')}"


def install(schema_editor_or_cursor, vendor: str) -> None:
    """Make the triggers again (dropping any there are) and fill every flag."""
    for statement in [*drop_statements(vendor), *(sqlite_triggers() if vendor == "sqlite" else postgresql_triggers())]:
        schema_editor_or_cursor.execute(statement)
    schema_editor_or_cursor.execute(fill_sql(vendor))


def uninstall(schema_editor_or_cursor, vendor: str) -> None:
    for statement in drop_statements(vendor):
        schema_editor_or_cursor.execute(statement)


# --- Repair and checks (rebuild_metric_totals) -------------------------------------------------


def rebuild() -> int:
    """Remake the triggers and the flags; returns how many deals' flags were wrong."""
    wrong = len(differing())
    with connection.cursor() as cursor:
        install(cursor, connection.vendor)
    return wrong


def differing() -> list[int]:
    """The ids of the deals whose stored flag is not what their activities say."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        differs = f"d.{FLAG} {distinct(vendor)} {planned(vendor, 'd.id')}"
        cursor.execute(f"SELECT d.id FROM {DEALS} d WHERE {differs} ORDER BY d.id")
        return [row[0] for row in cursor.fetchall()]


def triggers_present() -> bool:
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        found = {row[0] for row in cursor.fetchall()}
    return set(trigger_names(vendor)) <= found
