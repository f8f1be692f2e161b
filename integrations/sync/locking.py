"""The sync's write transaction, and what happens when the database will not let a write start.

On SQLite every transaction starts with BEGIN IMMEDIATE (settings): it takes the database's write
lock at once, waiting up to the busy timeout for another writer. A sync that cannot get the lock
fails as DatabaseBusy, with the cache untouched: recorded on its run, or, when not even the run
could be written, logged and returned unsaved (runner.py).
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from django.db import OperationalError, transaction

T = TypeVar("T")

# A small write (a run's row, the lease) that stayed locked past the busy timeout is tried this
# many times in all, PAUSE_SECONDS apart: another writer's long transaction may just be ending.
ATTEMPTS = 3
PAUSE_SECONDS = 1.0
pause = time.sleep  # tests replace it to release the lock they hold


class DatabaseBusy(Exception):
    """Another writer held the database's write lock for longer than the busy timeout."""


def busy(error: OperationalError) -> DatabaseBusy:
    return DatabaseBusy(
        f"The database was busy (another writer held its lock: {error}); nothing was written and the "
        "next sync will try again."
    )


def when_writable(write: Callable[[], T]) -> T:
    """`write()`, tried again while the database is locked; DatabaseBusy when it stays locked."""
    attempt = 1
    while True:
        try:
            return write()
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            if attempt == ATTEMPTS:
                raise busy(error) from None
        attempt += 1
        pause(PAUSE_SECONDS)


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
        raise busy(error) from None
    lock = HeldLock()
    started = time.perf_counter()
    try:
        yield lock
    except BaseException as error:
        atomic.__exit__(type(error), error, error.__traceback__)
        raise
    atomic.__exit__(None, None, None)
    lock.held_seconds = time.perf_counter() - started
