"""The trigger sets whose SQL lives in committed migrations, registered with dealflow.triggers as
those migrations wrote them: the board totals (0009), the stage changes' stays (0014) and the
search index on SQLite (0015; PostgreSQL searches through pg_trgm indexes, no triggers)."""

import importlib

from dealflow import totals_sql
from dealflow.triggers import Trigger, TriggerSet, register

board = importlib.import_module("dealflow.migrations.0009_board_totals")
stays = importlib.import_module("dealflow.migrations.0014_stage_change_stay_and_metric_indexes")
search = importlib.import_module("dealflow.migrations.0015_search_index")

EVENTS = ("insert", "delete", "update")
DEALS = "dealflow_deal"


# --- Board totals ---------------------------------------------------------------------------------


def board_triggers(vendor: str) -> list[Trigger]:
    names = [f"dealflow_boardtotal_{event}" for event in EVENTS]
    if vendor == "postgresql":
        return [
            Trigger(name, DEALS, event, body)
            for name, (event, (_, body)) in zip(names, board.POSTGRESQL_TRIGGERS.items(), strict=True)
        ]
    made = board.sqlite_sql()
    return [Trigger(name, DEALS, event, sql=(sql,)) for name, event, sql in zip(names, EVENTS, made, strict=True)]


def board_refill(cursor, vendor: str) -> None:
    cursor.execute("DELETE FROM dealflow_boardtotal")
    cursor.execute(board.sqlite_count_existing() if vendor == "sqlite" else board.postgresql_add(DEALS))


def board_bulk_insert(rows: str) -> str:
    d = board.sqlite_key("d")
    grouped = (
        f"SELECT d.integration_id, d.status, {d['stage']}, d.currency, {d['day']}, count(*), "
        f"sum({d['cents']}) FROM {rows} d WHERE {d['shown']} GROUP BY 1, 2, 3, 4, 5"
    )
    return totals_sql.add_grouped("dealflow_boardtotal", board.KEY_COLUMNS, ("count", "value_cents"), grouped, "sqlite")


BOARD_TOTALS = register(
    TriggerSet(
        "board_totals",
        "0009_board_totals",
        board_triggers,
        board_refill,
        bulk_insert={"dealflow_boardtotal_insert": board_bulk_insert},
    )
)


# --- Search index (SQLite) ------------------------------------------------------------------------


def search_set(table: str, column: str) -> TriggerSet:
    index = f"{table}_search"

    def triggers(vendor: str) -> list[Trigger]:
        if vendor != "sqlite":
            return []
        made = search.sqlite_sql(table, column)[2:]  # after the table and its first fill: the triggers
        return [Trigger(f"{index}_{event}", table, event, sql=(sql,)) for event, sql in zip(EVENTS, made, strict=True)]

    def refill(cursor, vendor: str) -> None:
        if vendor == "sqlite":
            cursor.execute(f"DELETE FROM {index}")
            cursor.execute(search.sqlite_sql(table, column)[1])

    def bulk_insert(rows: str) -> str:
        return f"INSERT INTO {index} (rowid, {column}) SELECT d.id, d.{column} FROM {rows} d"

    return TriggerSet(f"search_{table}", "0015_search_index", triggers, refill, {f"{index}_insert": bulk_insert})


for searched_table, searched_column in search.SEARCHED:
    register(search_set(searched_table, searched_column))


# --- Stage changes' stays -------------------------------------------------------------------------


def stay_triggers(vendor: str) -> list[Trigger]:
    table = stays.TABLE
    if vendor == "sqlite":
        on = [(f"{table}_stay_{event}", table, event) for event in EVENTS]
        on.append(("dealflow_deal_stay_add_time", DEALS, "update"))
        return [Trigger(*names, sql=(sql,)) for names, sql in zip(on, stays.sqlite_triggers(), strict=True)]
    made = stays.postgresql_triggers()  # a function and its trigger, twice
    return [
        Trigger(f"{table}_stay", table, "insert", sql=tuple(made[0:2])),
        Trigger("dealflow_deal_stay_add_time", DEALS, "update", sql=tuple(made[2:4])),
    ]


def stay_refill(cursor, vendor: str) -> None:
    every = stays.stays(vendor, "TRUE", "PARTITION BY c.deal_id ")
    table = stays.TABLE
    differs = "IS NOT" if vendor == "sqlite" else "IS DISTINCT FROM"
    differing = f"{table}.id = s.id AND {table}.stay {differs} s.stay"
    cursor.execute(f"UPDATE {table} SET stay = s.stay FROM ({every}) AS s WHERE {differing}")


STAYS = register(TriggerSet("stage_stays", "0014_stage_change_stay_and_metric_indexes", stay_triggers, stay_refill))
