"""A large INSERT into the cache on SQLite, with the derived tables kept set-based.

SQLite has only row triggers: the board totals (migration 0009), the day totals
(metrics/day_totals.py) and the search index (migration 0015) run a few statements per inserted
deal, three quarters of the time of a sync's INSERT of 20,000 new deals. For a large insert,
`insert_set_based` drops those insert triggers inside the caller's transaction, runs the INSERT,
adds the rows it wrote to each derived table with one grouped statement (the same SQL that fills
the tables from scratch), and makes the triggers again from their own stored text, before the
transaction ends. Nothing else can write in between, and nothing sees the triggers missing:
SQLite's write transaction excludes other writers and readers see its changes only at commit.
If the INSERT fails, the savepoint rolls the triggers back in with it. A trigger that is not
there (renamed by a later migration) is neither dropped nor replaced, so it can never count twice.

PostgreSQL needs none of this: its totals triggers are statement-level already.
"""

import importlib

from django.db import connection, transaction

from dealflow.metrics import day_totals
from dealflow.models import Deal, Organization, Person
from dealflow.search_index import fts_table

board = importlib.import_module("dealflow.migrations.0009_board_totals")


def _board_totals(rows: str) -> str:
    d = board.sqlite_key("d")
    return (
        f"INSERT INTO dealflow_boardtotal ({board.KEY_COLUMNS}, count, value_cents) "
        f"SELECT * FROM (SELECT d.integration_id, d.status, {d['stage']}, d.currency, {d['day']}, count(*), "
        f"sum({d['cents']}) FROM {rows} d WHERE {d['shown']} GROUP BY 1, 2, 3, 4, 5) WHERE true "
        f"ON CONFLICT ({board.KEY_COLUMNS}) DO UPDATE SET count = count + excluded.count, "
        "value_cents = value_cents + excluded.value_cents"
    )


def _day_totals(rows: str) -> str:
    grouped = day_totals.grouped_sql(rows, "sqlite", day_totals.zone_name())
    return (
        f"INSERT INTO {day_totals.TABLE} ({day_totals.KEY}, count, value_cents) "
        f"SELECT * FROM ({grouped}) WHERE true "
        f"ON CONFLICT ({day_totals.KEY}) DO UPDATE SET count = count + excluded.count, "
        "value_cents = value_cents + excluded.value_cents"
    )


def _search(model, column: str):
    def add(rows: str) -> str:
        return f"INSERT INTO {fts_table(model)} (rowid, {column}) SELECT d.id, d.{column} FROM {rows} d"

    return add


# Per table: {insert trigger: the statement that does its work for a set of rows}.
SET_BASED = {
    Deal._meta.db_table: {
        "dealflow_boardtotal_insert": _board_totals,
        f"{day_totals.TABLE}_insert": _day_totals,
        f"{fts_table(Deal)}_insert": _search(Deal, "title"),
    },
    Organization._meta.db_table: {f"{fts_table(Organization)}_insert": _search(Organization, "name")},
    Person._meta.db_table: {f"{fts_table(Person)}_insert": _search(Person, "name")},
}


def insert_set_based(table: str, sql: str, params) -> None:
    """Run `sql`, an INSERT of many rows into `table` (SQLite, in a write transaction), with the
    derived tables' insert triggers replaced by set-based statements."""
    replaced = SET_BASED.get(table, {})
    with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: a failure restores all
        names = list(replaced)
        marks = ", ".join("%s" for _ in names)
        cursor.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name IN ({marks})",
            [table, *names],
        )
        triggers = cursor.fetchall()
        # Ids only grow (AUTOINCREMENT): the rows past the largest id are this INSERT's.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        (before,) = cursor.fetchone()
        for name, _ in triggers:
            cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
        cursor.execute(sql, params)
        rows = f"(SELECT * FROM {connection.ops.quote_name(table)} WHERE id > {int(before)})"
        for name, definition in triggers:
            cursor.execute(replaced[name](rows))
            cursor.execute(definition)
