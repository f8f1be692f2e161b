"""The sync's one write transaction, and what happens when the database will not let it start.

On SQLite every transaction starts with BEGIN IMMEDIATE (settings): it takes the database's write
lock at once, waiting up to the busy timeout for another writer. A sync that cannot get the lock
fails as DatabaseBusy, recorded on its run, with the cache untouched.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import OperationalError, transaction


class DatabaseBusy(Exception):
    """Another writer held the database's write lock for longer than the busy timeout."""


@dataclass
class HeldLock:
    held_seconds: float = 0.0


@contextmanager
def write_transaction() -> Iterator[HeldLock]:
    """transaction.atomic(), timed from taking the write lock to committing."""
    atomic = transaction.atomic()
    try:
        atomic.__enter__()
    except OperationalError as error:
        raise DatabaseBusy(
            f"The database was busy (another writer held its lock: {error}); nothing was written and the "
            "next sync will try again."
        ) from None
    lock = HeldLock()
    started = time.perf_counter()
    try:
        yield lock
    except BaseException as error:
        atomic.__exit__(type(error), error, error.__traceback__)
        raise
    atomic.__exit__(None, None, None)
    lock.held_seconds = time.perf_counter() - started
