"""Database settings for the write of a sync, restored afterwards (this connection only).

SQLite: a larger page cache keeps the tables' and indexes' pages in memory while staged rows are
copied in Pipedrive's order rather than the indexes' (64 MB: every connection's own default too,
unless SQLITE_CACHE_MB sets another). It is per-connection and does not touch durability.
temp_store is left alone: changing it drops the connection's temporary tables, which hold the
staged rows (staging.py).

PostgreSQL: no JIT compilation. The write's statements are few and large, so their plan costs pass
the JIT thresholds, and compiling one took 1.3-1.4 s (EXPLAIN ANALYZE of the 20k-deal INSERT)
where the expressions it would speed up are a small part of a write that is mostly index upkeep.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, OperationalError, connection

BULK_WRITE = {"cache_size": -65536}  # negative = KiB
POSTGRESQL_BULK_WRITE = {"jit": "off"}


@contextmanager
def bulk_write_pragmas() -> Iterator[None]:
    if connection.vendor == "postgresql":
        with _postgresql_settings(POSTGRESQL_BULK_WRITE):
            yield
        return
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


@contextmanager
def _postgresql_settings(settings: dict[str, str]) -> Iterator[None]:
    """Session settings (set_config, not SET LOCAL: the write's transaction starts inside), put back."""
    with connection.cursor() as cursor:
        before = {}
        for name, value in settings.items():
            cursor.execute("SELECT current_setting(%s), set_config(%s, %s, false)", [name, name, value])
            before[name] = cursor.fetchone()[0]
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                for name, value in before.items():
                    cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
        except DatabaseError:  # a broken connection takes its settings with it
            pass


def _set(cursor, name: str, value: int) -> bool:
    try:
        cursor.execute(f"PRAGMA {name} = {int(value)}")
    except OperationalError:
        return False  # only a speed-up: go on without
    return True
