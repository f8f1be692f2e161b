"""The board's fixed-shape reads, built and compiled once and run again as they are.

Building a queryset and compiling it to SQL cost more than PostgreSQL or SQLite took to run most of
the board's small queries (a few hundred microseconds of Python each, 16 a board). `rows` keeps a
query's compiler (its SQL, parameters and what converts its columns) under a key that names every
value the query is built from, so that the same key is always the same statement: the rows are
read from the database on every call, only the Python that writes the SQL is skipped, and a write
shows on the next board as it always did. Kept per connection (a compiler holds its connection),
the most recently used first, for each process's own connections only.
"""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from weakref import WeakKeyDictionary

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections

SIZE = 256  # statements kept per connection: a board runs about ten of these, keyed by its companies
EMPTY = object()  # a query Django knows returns nothing (an empty IN list) and never sends

_kept: WeakKeyDictionary = WeakKeyDictionary()


def rows(key: Hashable, build: Callable) -> list[tuple]:
    """The rows of the queryset `build()` returns, as tuples in its select's order (converted as
    Django converts them). `key` must name everything `build` reads: two calls with equal keys
    must build the same SQL with the same parameters."""
    connection = connections[DEFAULT_DB_ALIAS]
    kept = _kept.setdefault(connection, OrderedDict())
    compiler = kept.get(key)
    if compiler is None:
        compiler = _compiled(build(), connection)
        kept[key] = compiler
        if len(kept) > SIZE:
            kept.popitem(last=False)
    else:
        kept.move_to_end(key)
    if compiler is EMPTY:
        return []
    return list(compiler.results_iter(tuple_expected=True))


def _compiled(queryset, connection):
    compiler = queryset.query.get_compiler(connection=connection)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return EMPTY
    params = tuple(params)
    compiler.as_sql = lambda *args, **kwargs: (sql, params)
    return compiler
