"""The statements that keep a table of totals, and the triggers on the deals that run them: one rule
for the board totals' large insert and the day, month and open totals' triggers and large inserts.

A table of totals has a key (a few columns, its unique constraint) and figures that are sums, count
first (count, value_cents, …). Rows that arrive add their figures to their key's row, or become it
(INSERT … ON CONFLICT (key) DO UPDATE); rows that leave subtract theirs from the rows there are (a
row whose count reaches 0 stays: readers leave it out).

Each statement is written to the byte as its callers wrote it before this module: databases keep the
triggers their migrations made, and a trigger made again (`migrate`, `rebuild_metric_totals`) should
be the same one.
"""

from collections.abc import Callable, Mapping, Sequence

from dealflow.models import Deal
from dealflow.triggers import Trigger, TriggerSet

DEALS = Deal._meta.db_table


def _upsert(table: str, key: str, figures: Sequence[str], rows: str, added: Callable[[str], str]) -> str:
    sums = ", ".join(f"{figure} = {added(figure)}" for figure in figures)
    return f"INSERT INTO {table} ({key}, {', '.join(figures)}) {rows} ON CONFLICT ({key}) DO UPDATE SET {sums}"


def add_grouped(table: str, key: str, figures: Sequence[str], grouped: str, vendor: str) -> str:
    """Add `grouped` (a SELECT of the key's columns, then the figures: a row per key) into `table`."""
    if vendor == "postgresql":
        # In the key's order, so that statements adding to the same rows lock them in one order; the
        # table's figure named in full (a bare name is ambiguous beside EXCLUDED's).
        order = ", ".join(str(position) for position in range(1, len(key.split(", ")) + 1))
        rows = f"SELECT * FROM ({grouped}) g ORDER BY {order}"
        return _upsert(table, key, figures, rows, lambda figure: f"{table}.{figure} + EXCLUDED.{figure}")
    # WHERE true: without a WHERE, SQLite would read the upsert's ON CONFLICT as a join's ON.
    rows = f"SELECT * FROM ({grouped}) WHERE true"
    return _upsert(table, key, figures, rows, lambda figure: f"{figure} + excluded.{figure}")


def subtract_grouped(table: str, key: str, figures: Sequence[str], negated: str) -> str:
    """PostgreSQL: subtract grouped figures from the rows there are; `negated` is a SELECT as for
    `add_grouped` with each figure negated."""
    sums = ", ".join(f"{figure} = t.{figure} + g.{figure}" for figure in figures)
    columns = key.split(", ")
    matches = f"({', '.join(f't.{column}' for column in columns)}) = ({', '.join(f'g.{column}' for column in columns)})"
    return f"UPDATE {table} t SET {sums} FROM ({negated}) g WHERE {matches}"


def add_row(table: str, key: str, key_values: Sequence[str], figures: Mapping[str, str], condition: str) -> str:
    """SQLite, a row trigger: when `condition` holds, add a row (count 1, and each of `figures` by
    name: its value) to its key's row."""
    rows = f"SELECT {', '.join([*key_values, '1', *figures.values()])} WHERE {condition}"

    def added(figure: str) -> str:
        return "count + 1" if figure == "count" else f"{figure} + excluded.{figure}"

    return _upsert(table, key, ["count", *figures], rows, added)


def subtract_row(table: str, key: str, key_values: Sequence[str], figures: Mapping[str, str], condition: str) -> str:
    """SQLite, a row trigger: when `condition` holds, subtract a row (count 1, and `figures`) from its
    key's row."""
    sums = ", ".join(["count = count - 1", *(f"{figure} = {figure} - {value}" for figure, value in figures.items())])
    matches = " AND ".join(f"{column} = {value}" for column, value in zip(key.split(", "), key_values, strict=True))
    return f"UPDATE {table} SET {sums} WHERE {condition} AND {matches}"


def deal_triggers(table: str, vendor: str, add: str, remove: str, columns: Sequence[str]) -> list[Trigger]:
    """The triggers on the deals that keep `table`: an insert runs `add` (the new rows' figures added),
    a delete `remove` (the old rows' subtracted), an update both; on SQLite (row triggers) only for
    an update that changes one of `columns`, those a row's key or figures are read from."""
    if vendor == "sqlite":
        update, when = f"{remove} {add}", " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in columns)
    else:
        update, when = remove + add, ""
    return [
        Trigger(f"{table}_insert", DEALS, "insert", add),
        Trigger(f"{table}_delete", DEALS, "delete", remove),
        Trigger(f"{table}_update", DEALS, "update", update, when=when),
    ]


def grouped_trigger_set(
    name: str,
    migration: str,
    table: str,
    key: str,
    figures: Sequence[str],
    grouped_sql: Callable[[str, str], str],
    triggers: Callable[[str], list[Trigger]],
) -> TriggerSet:
    """The trigger set of a table of totals whose rows are `grouped_sql(rows, vendor)` (a SELECT of
    the key's columns and `figures`, grouped, over the deal rows `rows`): refilled from the whole
    deals table, and on a large SQLite insert the insert trigger's work done for the new rows at once."""

    def refill(cursor, vendor: str) -> None:
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(f"INSERT INTO {table} ({key}, {', '.join(figures)}) {grouped_sql(DEALS, vendor)}")

    def bulk_insert(rows: str) -> str:
        return add_grouped(table, key, figures, grouped_sql(rows, "sqlite"), "sqlite")

    return TriggerSet(name, migration, triggers, refill, {f"{table}_insert": bulk_insert})
