"""Fresh planner statistics after a large write, so the database keeps choosing the right indexes.

Neither database gathers statistics on its own soon enough for a sync: SQLite never does, and
PostgreSQL's autovacuum runs later; a freshly synced table without them is read with bad plans
(a no-change resync of 100k deals took 2-3x as long on PostgreSQL before ANALYZE). So after a
write that changed many rows, the written tables are analyzed, after the write transaction
(SQLite's ANALYZE takes the write lock briefly to store what it found), and on SQLite the search
indexes are merged into one segment each when deals, organizations or persons were written. SQLite samples
(analysis_limit), PostgreSQL samples by default: a second or less at 400k deals.
"""

import logging
from collections.abc import Iterable

from django.db import DatabaseError, connection, models

from dealflow.models import BoardTotal, BoardWonMonth, Deal, Organization, Person
from dealflow.search_index import merge_segments

logger = logging.getLogger(__name__)

LARGE_WRITE = 1000  # rows created, updated or deleted by one write
SQLITE_ANALYSIS_LIMIT = 1000  # rows SQLite reads per index


def is_large(*, created: int, updated: int, deleted: int) -> bool:
    return created + updated + deleted >= LARGE_WRITE


def analyze(written: Iterable[type[models.Model]]) -> None:
    """ANALYZE the tables of `written` (and the board's totals, which their writes changed);
    a failure is logged, never raised: statistics are only a speed-up."""
    tables = sorted(
        {model._meta.db_table for model in written} | {BoardTotal._meta.db_table, BoardWonMonth._meta.db_table}
    )
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        if {Deal, Organization, Person} & set(written):
            merge_segments()  # SQLite's search indexes, one segment each (see search_index)
    except DatabaseError:
        logger.warning("Could not analyze %s after a large write", ", ".join(tables), exc_info=True)
