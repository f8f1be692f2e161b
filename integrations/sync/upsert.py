"""How one model's changed rows are staged in a temporary table, then applied to the cache.

The write is split so that the database's write lock is held briefly (staging.py, write.py):

- `encode` turns a row into driver-ready values (dates, JSON text) while its page is diffed;
- `stage_sql` puts encoded rows into a TEMPORARY table with executemany (PostgreSQL: `copy_sql`,
  COPY), page by page, while the download runs: the Python-side work, outside the write
  transaction. On SQLite the temp schema is a separate database, so writing it does not take the
  main database's write lock;
- `apply_sql` copies the staged rows into the cache with one INSERT … SELECT per model inside
  the write transaction: set-based SQL that runs in the database, foreign keys resolved there
  from the remote ids next to them, synced_at stamped.

The SQL works on SQLite and PostgreSQL alike.
"""

import json
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import cache, partial
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, models

from integrations.sync.fingerprint import ascii_json

UNIQUE_COLUMNS = ("integration_id", "remote_id")


class JsonText(str):
    """JSON already encoded (a record's canonical payload): stored as is, not encoded again."""


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a value of `field` is handed to the driver; None when it goes as it is."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        # json.dumps(value, cls=encoder) would build an encoder per value; one writes the same text.
        encode = (field.encoder or json.JSONEncoder)().encode
        if field.encoder is None:
            encode = partial(_orjson_text, fallback=encode)
        return lambda value: str(value) if type(value) is JsonText else encode(value)
    if connection.vendor == "postgresql" and isinstance(field, models.DateField | models.DecimalField):
        return None  # PostgreSQL's adapt_*field_value hand these to psycopg as they are
    if isinstance(field, models.DateTimeField):
        if connection.vendor == "sqlite" and settings.USE_TZ:
            return partial(_sqlite_datetime, zone=connection.timezone)
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    return None


def _orjson_text(value: Any, *, fallback: Callable[[Any], str]) -> str:
    """A column's JSON value (fitted by clean.py: no NaN, which orjson would write as null) as the
    json module writes it (fingerprint.ascii_json), several times faster; by the json module for
    what orjson refuses (an integer past 64 bits)."""
    try:
        return ascii_json(orjson.dumps(value))
    except TypeError:
        return fallback(value)


def _sqlite_datetime(value: datetime | None, *, zone: tzinfo) -> str | None:
    """What SQLite's adapt_datetimefield_value makes of a datetime (aware values as naive text in
    the connection's time zone), without its per-call settings and connection-proxy lookups: a
    deal has six datetimes."""
    if value is None:
        return None
    if value.tzinfo is zone:  # the records' own (UTC, like the connection): text, less its "+00:00"
        return str(value)[:-6]
    if value.utcoffset() is not None:
        value = value.astimezone(zone).replace(tzinfo=None)
    return str(value)


class Upsert:
    """The staging table of one model and the SQL that fills it and applies it.

    `links`: the model's foreign keys resolved at apply time (entities.Link); they and synced_at
    are not staged.
    """

    def __init__(self, model: type[models.Model], links: tuple, prefix: str = "sync") -> None:
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        late = {f"{link.field}_id" for link in links} | {"synced_at"}
        early = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in late]
        columns = [quote(f.column) for f in early]
        # Each Staging prefix has its own table: a webhook's apply_records in the connection of a
        # running sync must not drop or fill the sync's.
        self.table = quote(f"{prefix}_staged_{model._meta.db_table}")
        # Same column types as the cache (PostgreSQL keeps them exactly), no constraints, plus
        # whether the row is new to the cache.
        self.create_sql = (
            f"CREATE TEMPORARY TABLE {self.table} AS SELECT {', '.join(columns)}, {TRUE} AS {NEW} "
            f"FROM {table} WHERE 1 = 0",
            f"CREATE UNIQUE INDEX {quote(f'{prefix}_staged_{model._meta.db_table}_remote_id')} "
            f"ON {self.table} ({quote('remote_id')})",
        )
        self.drop_sql = f"DROP TABLE IF EXISTS {self.table}"
        self.unstage_sql = f"DELETE FROM {self.table} WHERE {quote('remote_id')} = %s"
        self.staged_ids_sql = f"SELECT {quote('remote_id')} FROM {self.table} WHERE {NEW} = %s"
        # Values arrive as JSON text; PostgreSQL wants it cast to jsonb.
        cast = "::jsonb" if connection.vendor == "postgresql" else ""
        placeholders = [f"%s{cast}" if isinstance(f, models.JSONField) else "%s" for f in early]
        # A record listed twice (edited while the listing was paged) is staged once, its last
        # listing winning; a row staged as new stays new.
        restaged = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != quote("remote_id"))
        self.stage_sql = (
            f"INSERT INTO {self.table} ({', '.join(columns)}, {NEW}) VALUES ({', '.join(placeholders)}, %s) "
            f"ON CONFLICT ({quote('remote_id')}) DO UPDATE SET {restaged}"
        )
        # PostgreSQL: rows none of which is staged yet (a page's new rows, nearly always) go in with
        # COPY, which binds no SQL per row (psycopg's client-side binding was a fifth of a sync).
        self.copy_sql = f"COPY {self.table} ({', '.join(columns)}, {NEW}) FROM STDIN"
        # Each foreign key is a LEFT JOIN on the target's unique (integration, remote id): at most
        # one row, NULL when the target has not arrived (relinked later). Not a sub-query per key:
        # PostgreSQL runs those once per staged row (five index probes per deal, and a plan cost
        # that had it JIT-compile the statement), where it hashes each target once for a join.
        aliases = [f"t{number}" for number in range(len(links))]
        joins = "".join(
            f" LEFT JOIN {quote(link.target._meta.db_table)} {alias} "
            f"ON {alias}.{quote('integration_id')} = s.{quote('integration_id')} "
            f"AND {alias}.{quote('remote_id')} = s.{quote(link.remote_field)}"
            for alias, link in zip(aliases, links, strict=True)
        )
        resolved = [f"{alias}.{quote('id')}" for alias in aliases]
        targets = [*columns, *(quote(f"{link.field}_id") for link in links), quote("synced_at")]
        unique = [quote(c) for c in UNIQUE_COLUMNS]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in targets if c not in unique)
        # The WHERE also keeps SQLite from reading the upsert's ON CONFLICT as a join's ON.
        insert = (
            f"INSERT INTO {table} ({', '.join(targets)}) "
            f"SELECT {', '.join(f's.{c}' for c in columns)}, {', '.join([*resolved, '%s'])} "
            f"FROM {self.table} s{joins} WHERE s.{NEW} = %s"
        )
        self._insert = insert
        self._upsert = f"{{}} ON CONFLICT ({', '.join(unique)}) DO UPDATE SET {updates}{newer_only(model, table)}"
        self._sources = [(f.attname, f.get_default() if f.has_default() else None) for f in early]
        adapters = [(position, _adapter(f)) for position, f in enumerate(early)]
        self._adapters = [(position, adapt) for position, adapt in adapters if adapt is not None]
        self._positions = {f.attname: position for position, f in enumerate(early)}

    def position(self, attname: str) -> int:
        """Where an early column sits in an encoded row."""
        return self._positions[attname]

    def encode(self, row: dict) -> tuple:
        """`row` keyed by attname; missing columns take their model default."""
        values = [row.get(attname, default) for attname, default in self._sources]
        for position, adapt in self._adapters:
            values[position] = adapt(values[position])
        return tuple(values)

    def apply_sql(self, *, new: bool, one: bool = False) -> str:
        """Copy the staged rows that are `new` (plain INSERT: on SQLite an upsert into a table with
        foreign keys costs 40% more per row) or not (upsert) into the cache. Parameters: synced_at,
        new, and with `one` the remote id of the one row to copy."""
        sql = self._insert + (f" AND s.{connection.ops.quote_name('remote_id')} = %s" if one else "")
        return sql if new else self._upsert.format(sql)


def newer_only(model: type[models.Model], table: str) -> str:
    """The write path's one rule, as the upsert's condition: a cached record is replaced only by a
    version whose remote update_time is the same or newer, so a sync that read a page minutes ago
    never reverts a change a webhook (or write-back) applied since. Models without an update_time
    (stages, pipelines, users) are always replaced."""
    if "update_time" not in {field.attname for field in model._meta.concrete_fields}:
        return ""
    column = connection.ops.quote_name("update_time")
    return f" WHERE EXCLUDED.{column} >= {table}.{column} OR {table}.{column} IS NULL"


# Staged with every row: True when the cache has no row for it yet.
NEW = "sync_new"
TRUE = "true"  # a boolean on PostgreSQL, 1 on SQLite


@cache
def _upsert(model: type[models.Model], links: tuple, prefix: str, vendor: str) -> Upsert:
    return Upsert(model, links, prefix)


def upsert_for(model: type[models.Model], links: tuple, prefix: str = "sync") -> Upsert:
    return _upsert(model, links, prefix, connection.vendor)
