"""A fast bulk upsert for cached records: one `INSERT … ON CONFLICT DO UPDATE` run with executemany.

QuerySet.bulk_create(update_conflicts=True) does the same job but prepares every value through
the full field machinery, which costs more than the download itself at 100,000 deals. Here the
work is split in two so the write transaction stays short:

- `encode` turns a row into driver-ready values (dates, JSON text) while its page is downloaded,
  outside any transaction;
- `run` appends the values known only at write time (foreign keys, synced_at) and executes.

The SQL works on SQLite and PostgreSQL alike.
"""

import json
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

UNIQUE_COLUMNS = ("integration_id", "remote_id")


class JsonText(str):
    """JSON already encoded (a record's canonical payload): stored as is, not encoded again."""


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a value of `field` is handed to the driver; None when it goes as it is."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: str(value) if type(value) is JsonText else json.dumps(value, cls=encoder)
    if isinstance(field, models.DateTimeField):
        if connection.vendor == "sqlite" and settings.USE_TZ:
            return partial(_sqlite_datetime, zone=connection.timezone)
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    return None


def _sqlite_datetime(value: datetime | None, *, zone: tzinfo) -> str | None:
    """What SQLite's adapt_datetimefield_value makes of a datetime (aware values as naive text in
    the connection's time zone), without its per-call settings and connection-proxy lookups: a
    deal has six datetimes."""
    if value is None:
        return None
    if value.utcoffset() is not None:
        value = value.astimezone(zone).replace(tzinfo=None)
    return str(value)


class Upsert:
    """The upsert of one model whose `late` columns (attnames) are filled in at write time."""

    def __init__(self, model: type[models.Model], late: tuple[str, ...]) -> None:
        quote = connection.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        by_attname = {f.attname: f for f in fields}
        early = [f for f in fields if f.attname not in late]
        ordered = [*early, *(by_attname[attname] for attname in late)]
        # Values arrive as JSON text; PostgreSQL wants it cast to jsonb.
        cast = "::jsonb" if connection.vendor == "postgresql" else ""
        placeholders = [f"%s{cast}" if isinstance(f, models.JSONField) else "%s" for f in ordered]
        updates = ", ".join(
            f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in ordered if f.column not in UNIQUE_COLUMNS
        )
        self.insert_sql = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in ordered)}) "
            f"VALUES ({', '.join(placeholders)})"
        )
        unique = ", ".join(quote(c) for c in UNIQUE_COLUMNS)
        self.sql = f"{self.insert_sql} ON CONFLICT ({unique}) DO UPDATE SET {updates}"
        self.late = late
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

    def run(self, rows: list[tuple], *, new: bool = False) -> None:
        """`rows`: encoded rows, each followed by its late values in the order of `late`.

        `new`: the caller knows none of the rows exists: a plain INSERT. On SQLite an upsert into
        a table with foreign keys costs 40% more per row, even when nothing conflicts.
        """
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(self.insert_sql if new else self.sql, rows)


@cache
def _upsert(model: type[models.Model], late: tuple[str, ...], vendor: str) -> Upsert:
    return Upsert(model, late)


def upsert_for(model: type[models.Model], late: tuple[str, ...]) -> Upsert:
    return _upsert(model, late, connection.vendor)


def now_for_db() -> Any:
    """synced_at as the driver wants it."""
    return connection.ops.adapt_datetimefield_value(timezone.now())
