"""The board's fixed-shape reads, built and compiled once and run again as they are.

Building a queryset and compiling it to SQL cost more than PostgreSQL or SQLite took to run most of
the board's small queries (a few hundred microseconds of Python each, 16 a board). `rows` keeps a
query's compiler (its SQL, parameters and what converts its columns) under a key that names every
value the query is built from (but the moments passed as parameters, such as a won period's start),
so that the same key is always the same statement: the rows are
read from the database on every call, only the Python that writes the SQL is skipped, and a write
shows on the next board as it always did. Kept per connection (a compiler holds its connection),
the most recently used first, for each process's own connections only.
"""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Lookup
from django.db.models.lookups import In
from django.db.models.query import ModelIterable

SIZE = 256  # statements kept per connection: a board runs about ten of these, keyed by its companies
EMPTY = object()  # a query Django knows returns nothing (an empty IN list) and never sends

_kept: WeakKeyDictionary = WeakKeyDictionary()


def kept(store: WeakKeyDictionary, size: int, key: Hashable, build: Callable):
    """The value kept in `store` under `key` for this process's default connection, the most
    recently used first and at most `size` of them per connection (the least recently used goes);
    built now by `build(connection)` when none is. A build that gives None is not kept (None is
    returned). The one rule for what a process keeps per connection (this module's compilers,
    search_reads' searched boards)."""
    connection = connections[DEFAULT_DB_ALIAS]
    values = store.setdefault(connection, OrderedDict())
    value = values.get(key, _NONE)
    if value is _NONE:
        value = build(connection)
        if value is None:
            return None
        values[key] = value
        if len(values) > size:
            values.popitem(last=False)
    else:
        values.move_to_end(key)
    return value


_NONE = object()  # no value kept under a key


def _kept_compiler(key: Hashable, build: Callable, moments: tuple[datetime, ...], with_clause=None):
    """The compiler of the statement kept under `key` (built now if none is), set to run it with
    `moments` (and `with_clause` before it); EMPTY for a query Django knows returns nothing."""
    statement = kept(
        _kept, SIZE, key, lambda connection: _compiled(build(*STAND_INS[: len(moments)]), connection, len(moments))
    )
    if statement is EMPTY:
        return EMPTY
    connection = connections[DEFAULT_DB_ALIAS]
    compiler, sql, params, places = statement
    if places:
        params = list(params)
        for at, index in places:
            params[at] = connection.ops.adapt_datetimefield_value(moments[index])
    if with_clause is not None:
        sql, params = f"WITH {with_clause[0]} {sql}", [*with_clause[1], *params]
    compiler.as_sql = lambda *args, **kwargs: (sql, params)
    return compiler


def rows(key: Hashable, build: Callable, *, moments: tuple[datetime, ...] = (), with_clause=None) -> list[tuple]:
    """The rows of the queryset `build(*moments)` returns, as tuples in its select's order (converted
    as Django converts them). `key` must name everything `build` reads but `moments`: two calls with
    equal keys must build the same SQL with the same parameters. `moments` are datetimes compared
    with datetime columns (a won period's start, to the microsecond), passed as parameters of a
    statement built once with stand-ins. `with_clause`: (sql, params) of common table expressions
    the queryset reads by name (RawSQL), written before it as `WITH sql`: what changes from one
    call to the next without a statement kept for each (a page's ids, selectors.column_cards)."""
    compiler = _kept_compiler(key, build, moments, with_clause)
    return [] if compiler is EMPTY else list(compiler.results_iter(tuple_expected=True))


def instances(key: Hashable, build: Callable) -> list:
    """The model instances of the queryset `build()` returns (its select_related ones included; not
    its prefetch_related), its statement kept as `rows` keeps it, under the same rule for `key`."""
    compiler = _kept_compiler(key, build, ())
    if compiler is EMPTY:
        return []
    return list(ModelIterable(compiler.kept_queryset))


# Moments no board compares with: the statement's parameters that are one of them are the moments'.
STAND_INS = tuple(datetime(1, 1, 1, 0, 0, second, tzinfo=UTC) for second in range(1, 10))


def _compiled(queryset, connection, moments: int):
    """(compiler, sql, params, [(parameter's position, moment's index)]), or EMPTY."""
    compiler = queryset.query.get_compiler(connection=connection)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return EMPTY
    # For `instances`: Django's model iterable over the kept compiler rather than a new one (the
    # queryset is never cloned: a clone would share it).
    compiler.kept_queryset = queryset
    queryset.query.get_compiler = lambda *args, **kwargs: compiler
    adapted = [connection.ops.adapt_datetimefield_value(stand_in) for stand_in in STAND_INS[:moments]]
    places = [(at, adapted.index(param)) for at, param in enumerate(params) if param in adapted]
    if {index for _, index in places} != set(range(moments)):
        raise ValueError("Each moment must be a parameter of the statement.")
    return compiler, sql, tuple(params), places


class AnyOf(Lookup):
    """`lhs = ANY(%s::bigint[])`, the ids one array parameter (`among`)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, self.rhs]


def among(field: str, ids) -> Lookup:
    """A filter: `field` (a bigint column) is one of `ids`. On PostgreSQL `= ANY(array)`, one
    parameter whatever the number of ids: binding an IN list's two hundred parameters took PostgreSQL
    as long as the primary-key lookups they asked for (a board's cards and their next activities),
    and each length of list was a prepared statement of its own. An IN list elsewhere, and for no
    ids (a query Django knows returns nothing, and never sends)."""
    ids = list(ids)
    if ids and connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        return AnyOf(F(field), ids)
    return In(F(field), ids)
