"""SQLite settings for the one big write of a sync, restored afterwards (this connection only).

Both are per-connection and neither touches durability:
- temp_store=MEMORY keeps each statement's sub-journal in memory. An upsert into a table with
  foreign keys needs one per row, and on a temp file that alone doubled the write of 100,000 deals.
- a larger page cache keeps the tables' and indexes' pages in memory while rows are inserted in
  Pipedrive's order rather than the indexes' (64 MB: the write of 100,000 deals took half as long).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection

BULK_WRITE = {"temp_store": 2, "cache_size": -65536}  # 2 = MEMORY; negative = KiB


@contextmanager
def bulk_write_pragmas() -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        before = {name: cursor.execute(f"PRAGMA {name}").fetchone()[0] for name in BULK_WRITE}
        changed = [name for name, value in BULK_WRITE.items() if _set(cursor, name, value)]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name in changed:
                _set(cursor, name, before[name])


def _set(cursor, name: str, value: int) -> bool:
    try:
        cursor.execute(f"PRAGMA {name} = {int(value)}")
    except OperationalError:
        # temp_store cannot change inside a transaction that has used temp storage (as a caller's
        # transaction may have); these are only speed-ups, so go on without.
        return False
    return True
