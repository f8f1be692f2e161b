"""A large INSERT into the cache on SQLite, with the derived data kept set-based.

SQLite has only row triggers: the board totals, the day totals, the search index, the overview's
marks and the planned activity flags (every set in dealflow.triggers) run a few statements per
inserted row, most of the time of a sync's INSERT of 20,000 new deals. For a large insert,
`insert_set_based` drops the table's insert triggers that have a set-based statement (each trigger
set declares it: TriggerSet.bulk_insert) inside the caller's transaction, runs the INSERT, does
their work for the rows it wrote with one statement each (grouped totals, one new mark per
integration, the flags of the deals touched), and makes the triggers again from their own stored
text, before the transaction ends. Nothing else can write in between, and nothing sees the
triggers missing: SQLite's write transaction excludes other writers and readers see its changes
only at commit. If the INSERT fails, the savepoint rolls the triggers back in with it. A trigger
that is not there (renamed by a later migration) is neither dropped nor replaced, so it can never
count twice.

PostgreSQL needs none of this: its triggers are statement-level already.
"""

from django.db import connection, transaction

from dealflow.triggers import bulk_insert_statements


def insert_set_based(table: str, sql: str, params) -> None:
    """Run `sql`, an INSERT of many rows into `table` (SQLite, in a write transaction), with the
    derived data's insert triggers replaced by set-based statements."""
    replaced = bulk_insert_statements(table)
    with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: a failure restores all
        names = list(replaced)
        marks = ", ".join("%s" for _ in names)
        cursor.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name IN ({marks})",
            [table, *names],
        )
        # Statements that write the new rows themselves (the planned activity flags' put-back) run
        # after those that count them: the write fires the update triggers (the open deal totals
        # move a deal by its flag), which must find the rows counted already.
        writes_rows = f"UPDATE {table} "
        triggers = sorted(cursor.fetchall(), key=lambda trigger: replaced[trigger[0]]("").startswith(writes_rows))
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
