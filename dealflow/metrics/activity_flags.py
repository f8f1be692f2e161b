"""Deal.has_planned_activity: whether a deal has an activity not done yet (Pipedrive's "next
activity"), stored on the deal so that hygiene counts the open deals without one from the open deal
totals (dealflow/metrics/open_totals.py) instead of probing the activities once per open deal.

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

The triggers are written and registered through dealflow/triggers.py: `migrate` makes them again
with the flags refilled when they are missing (a migration that rebuilt dealflow_deal or
dealflow_activity on SQLite), as does `manage.py rebuild_metric_totals` (`--check` compares).
"""

from django.db import connection

from dealflow.triggers import Trigger, TriggerSet, create, drop, register
from dealflow.triggers import triggers_present as registry_triggers_present

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


def sqlite_triggers() -> list[Trigger]:
    moved = "OLD.done IS NOT NEW.done OR OLD.deal_id IS NOT NEW.deal_id"
    return [
        Trigger(
            f"{NAME}_activity_insert",
            ACTIVITIES,
            "insert",
            f"UPDATE {DEALS} SET {FLAG} = 1 WHERE id = NEW.deal_id AND NOT {FLAG};",
            when="NEW.deal_id IS NOT NULL AND NOT NEW.done",
        ),
        Trigger(
            f"{NAME}_activity_delete",
            ACTIVITIES,
            "delete",
            sqlite_refresh("OLD.deal_id"),
            when="OLD.deal_id IS NOT NULL AND NOT OLD.done",
        ),
        Trigger(
            f"{NAME}_activity_update",
            ACTIVITIES,
            "update",
            f"{sqlite_refresh('OLD.deal_id')} {sqlite_refresh('NEW.deal_id')}",
            when=moved,
            of=("done", "deal_id"),
        ),
        # The flag written by anyone else: put back (recursive triggers are off, so this UPDATE
        # does not come here again).
        Trigger(
            f"{NAME}_deal_update",
            DEALS,
            "update",
            f"UPDATE {DEALS} SET {FLAG} = NOT NEW.{FLAG} WHERE id = NEW.id;",
            when=f"OLD.{FLAG} IS NOT NEW.{FLAG} AND NEW.{FLAG} IS NOT {planned('sqlite', 'NEW.id')}",
            of=(FLAG,),
        ),
        Trigger(
            f"{NAME}_deal_insert",
            DEALS,
            "insert",
            f"UPDATE {DEALS} SET {FLAG} = 0 WHERE id = NEW.id;",
            when=f"NEW.{FLAG} AND NOT {planned('sqlite', 'NEW.id')}",
        ),
    ]


def postgresql_triggers() -> list[Trigger]:
    differs = f"d.{FLAG} {distinct('postgresql')} {planned('postgresql', 'd.id')}"
    bodies = {
        "insert": f"UPDATE {DEALS} d SET {FLAG} = true "
        f"WHERE d.id IN (SELECT deal_id FROM new_rows WHERE NOT done) AND NOT d.{FLAG};",
        "delete": f"UPDATE {DEALS} d SET {FLAG} = false "
        f"WHERE d.id IN (SELECT deal_id FROM old_rows WHERE NOT done) AND d.{FLAG} "
        f"AND NOT {planned('postgresql', 'd.id')};",
        "update": "WITH moved AS (SELECT o.deal_id AS before, n.deal_id AS after FROM old_rows o "
        "JOIN new_rows n ON n.id = o.id WHERE o.done IS DISTINCT FROM n.done "
        "OR o.deal_id IS DISTINCT FROM n.deal_id) "
        f"UPDATE {DEALS} d SET {FLAG} = NOT d.{FLAG} "
        f"WHERE d.id IN (SELECT before FROM moved UNION SELECT after FROM moved) AND {differs};",
    }
    put_back = f"NEW.{FLAG} := {planned('postgresql', 'NEW.id')};"
    differs_new = f"IS DISTINCT FROM NEW.{FLAG}"
    deal = {"table": DEALS, "body": put_back, "before": True, "function": f"{NAME}_deal"}
    return [
        *(Trigger(f"{NAME}_activity_{event}", ACTIVITIES, event, body) for event, body in bodies.items()),
        Trigger(f"{NAME}_deal_update", event="update", of=(FLAG,), when=f"OLD.{FLAG} {differs_new}", **deal),
        Trigger(f"{NAME}_deal_insert", event="insert", when=f"NEW.{FLAG}", **deal),
    ]


def vendor_triggers(vendor: str) -> list[Trigger]:
    return sqlite_triggers() if vendor == "sqlite" else postgresql_triggers()


def distinct(vendor: str) -> str:
    return "IS NOT" if vendor == "sqlite" else "IS DISTINCT FROM"


def fill_sql(vendor: str) -> str:
    """Every deal's flag from its activities (written where it differs)."""
    return f"UPDATE {DEALS} SET {FLAG} = NOT {FLAG} WHERE {FLAG} {distinct(vendor)} {planned(vendor, f'{DEALS}.id')}"


def refill(cursor, vendor: str) -> None:
    cursor.execute(fill_sql(vendor))


# SQLite, a large insert (bulk_insert.py): the insert triggers' work for all the new rows at once.
def activities_bulk_insert(rows: str) -> str:
    return f"UPDATE {DEALS} SET {FLAG} = 1 WHERE id IN (SELECT d.deal_id FROM {rows} d WHERE NOT d.done) AND NOT {FLAG}"


def deals_bulk_insert(rows: str) -> str:
    inserted_set = f"SELECT d.id FROM {rows} d WHERE d.{FLAG}"
    return f"UPDATE {DEALS} SET {FLAG} = 0 WHERE id IN ({inserted_set}) AND NOT {planned('sqlite', f'{DEALS}.id')}"


TRIGGERS = register(
    TriggerSet(
        "activity_flags",
        "0016_deal_has_planned_activity",
        vendor_triggers,
        refill,
        {f"{NAME}_activity_insert": activities_bulk_insert, f"{NAME}_deal_insert": deals_bulk_insert},
    )
)


def install(schema_editor_or_cursor, vendor: str) -> None:
    """Make the triggers again (dropping any there are) and fill every flag."""
    create(schema_editor_or_cursor, vendor, TRIGGERS)
    refill(schema_editor_or_cursor, vendor)


def uninstall(schema_editor_or_cursor, vendor: str) -> None:
    drop(schema_editor_or_cursor, vendor, TRIGGERS)


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
    return registry_triggers_present([TRIGGERS.name])
