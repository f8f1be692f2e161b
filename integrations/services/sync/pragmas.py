"""SQLite settings for the one big write of a sync, restored afterwards (this connection only).

Both are per-connection and neither touches durability:
- temp_store=MEMORY keeps each statement's sub-journal in memory. An upsert into a table with
  foreign keys needs one per row, and on a temp file that alone doubled the write of 100,000 deals.
- a larger page cache keeps the tables' and indexes' pages in memory while rows are inserted in
  Pipedrive's order rather than the indexes' (64 MB: the write of 100,000 deals took half as long).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

BULK_WRITE = {"temp_store": "2", "cache_size": "-65536"}  # 2 = MEMORY; negative = KiB


@contextmanager
def bulk_write_pragmas() -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        before = {name: cursor.execute(f"PRAGMA {name}").fetchone()[0] for name in BULK_WRITE}
        for name, value in BULK_WRITE.items():
            cursor.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in before.items():
                cursor.execute(f"PRAGMA {name} = {int(value)}")
