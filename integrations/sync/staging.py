"""Where a sync keeps the changes it has downloaded but not yet written: temporary tables.

Each diffed page is staged at once (upsert.py), so memory holds a few pages at a time, and all
the Python-side work of writing (binding every value of every row) is done during the download,
outside the write transaction. Nothing reaches the cache until write.py applies the stage.

On PostgreSQL a page's rows go in with COPY when none of them is staged yet (nearly always).
On SQLite the temp schema is a separate database file of this connection: a page is staged in a
DEFERRED transaction that touches only it, so staging never takes the main database's write lock
(the project's transactions begin IMMEDIATE, which would) and other writers go on meanwhile.
Removals and stage moves are few and stay in memory.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from functools import partial

from django.db import DatabaseError, connection, models, transaction

from integrations.sync.diff import PageChanges, StageMove, Tally
from integrations.sync.entities import EntitySpec
from integrations.sync.upsert import Upsert

logger = logging.getLogger(__name__)


class Staging:
    """`prefix` names its temp tables: one Staging per prefix at a time in a connection."""

    def __init__(self, prefix: str = "sync") -> None:
        self.prefix = prefix
        self.tables: dict[type[models.Model], Upsert] = {}  # in the order they were first staged
        self.removals: dict[type[models.Model], set[int]] = defaultdict(set)
        self.stage_moves: list[StageMove] = []
        # Rows staged per model and newness (a few may be refused): an apply skips what has none.
        self.counts: dict[tuple[type[models.Model], bool], int] = defaultdict(int)

    def add(self, spec: EntitySpec, changes: PageChanges, tally: Tally) -> None:
        """Stage one page's changes; a row the database refuses is skipped and counted in `tally`."""
        upsert = self._table(spec)
        for rows, new in ((changes.inserts, True), (changes.upserts, False)):
            if rows:
                self.counts[spec.model, new] += len(rows)
                self._stage(spec, upsert, rows, new=new, tally=tally)
                # The last listing wins: a record removed on an earlier page and listed again is kept.
                self.removals[spec.model].difference_update(row[upsert.position("remote_id")] for row in rows)
        if changes.removals:
            self.removals[spec.model].update(changes.removals)
            with temp_only_transaction(), connection.cursor() as cursor:
                cursor.executemany(upsert.unstage_sql, [(remote_id,) for remote_id in changes.removals])
        self.stage_moves.extend(changes.stage_moves)

    def _table(self, spec: EntitySpec) -> Upsert:
        upsert = self.tables.get(spec.model)
        if upsert is None:
            upsert = self.tables[spec.model] = spec.staged_in(self.prefix)
            with temp_only_transaction(), connection.cursor() as cursor:
                cursor.execute(upsert.drop_sql)  # left by a run of this connection that died mid-way
                for sql in upsert.create_sql:
                    cursor.execute(sql)
        return upsert

    def _stage(self, spec: EntitySpec, upsert: Upsert, rows: list[tuple], *, new: bool, tally: Tally) -> None:
        rows = [(*row, new) for row in rows]
        try:
            with temp_only_transaction():
                if not (connection.vendor == "postgresql" and _copied(upsert, rows)):
                    with connection.cursor() as cursor:
                        cursor.executemany(upsert.stage_sql, rows)
        except DatabaseError:
            # clean.py fits every value to its column, so this is for what it could not foresee.
            at = upsert.position("remote_id")
            refused = one_by_one(rows, partial(execute, upsert.stage_sql), spec.key, at)
            tally.uncount(spec.key, refused, new=new)

    def close(self) -> None:
        for upsert in self.tables.values():
            try:
                with connection.cursor() as cursor:
                    cursor.execute(upsert.drop_sql)
            except DatabaseError:  # a broken connection: its temp tables go with it
                logger.warning("Could not drop %s", upsert.table, exc_info=True)

    def __enter__(self) -> "Staging":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextmanager
def temp_only_transaction() -> Iterator[None]:
    """A transaction for statements that write only temporary tables.

    SQLite: BEGIN DEFERRED takes no lock until a statement needs one, and these need only the
    temp database's. Inside a caller's transaction (tests), a savepoint; inside one of these, nothing.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    connection.ensure_connection()
    if connection.connection.in_transaction:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
        try:
            yield
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")


def _copied(upsert: Upsert, rows: list[tuple]) -> bool:
    """COPY `rows` into the staging table (PostgreSQL); False, having written nothing, when the
    table refused them: one of them was staged before (a record listed twice), or a value."""
    try:
        with transaction.atomic(), connection.wrap_database_errors, connection.cursor() as cursor:
            with cursor.cursor.copy(upsert.copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
    except DatabaseError:
        return False
    return True


def execute(sql: str, params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def one_by_one(rows: Iterable, store: Callable[[object], object], key: str, at: int) -> list[int]:
    """Store each row on its own; the remote ids (row[at]) of those the database refused."""
    refused = []
    for row in rows:
        try:
            # A savepoint inside a transaction; outside one, a single statement is atomic.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                store(row)
        except DatabaseError as error:
            logger.warning("Skipped %s %s: the database refused it (%s)", key, row[at], error)
            refused.append(row[at])
    return refused
