"""SQLite settings for the write of a sync, restored afterwards (this connection only).

A larger page cache keeps the tables' and indexes' pages in memory while staged rows are copied
in Pipedrive's order rather than the indexes' (64 MB). It is per-connection and does not touch
durability. temp_store is left alone: changing it drops the connection's temporary tables, which
hold the staged rows (staging.py).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection

BULK_WRITE = {"cache_size": -65536}  # negative = KiB


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
        return False  # only a speed-up: go on without
    return True
