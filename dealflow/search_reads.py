"""The searched board's totals and first pages, off indexes that hold what they read.

A search matches a deal by its organization's name, its person's name or its title
(search_index.py). Filtered as `Deal.id IN (matching ids)`, each matching deal was read from the
table by id, one random row read per match: most of a searched board's time at 400,000 deals (the
bench's "organisation 12" matches 888 organizations, about 8,900 deals). Here the matching deals
are read as a UNION ALL of one branch per way of matching, each off one index:

- deals of a matching organization: deal_organization_search_idx, by organization, holds every
  column the totals and the first pages read (deal_person_search_idx does for persons), so they
  come off consecutive index entries, never from the table;
- deals whose title matches: by id (the table rows, as before).

Each branch leaves out the deals an earlier one found, so no deal is counted twice without a
comparison of whole rows. On SQLite the names and titles are matched once per board (the FTS5
lookup of a phrase whose trigrams every name shares is the costliest part) and given to the
queries as lists of ids. The board's own queries (totals per stage and currency, each column's
newest page) then run over that union in place of the deals table, so the column rule stays
dealflow.columns': together, in one statement that reads the union once (a materialized CTE: at
100,000 deals on PostgreSQL, 1,653 buffers for both where each read 1,653). PostgreSQL reads each
match's column there as a number, from the rule tabulated per stage (`_coded`). Load more reads its
page over the union too, and the CSV export takes its ids (`matching_ids`): one search rule.
"""

from functools import lru_cache
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import IntegerField, Q
from django.db.models.expressions import Col, RawSQL
from django.db.models.query import ValuesIterable

from dealflow import search_index, statements
from dealflow.columns import CLOSED_WON, COLUMN_KEYS, column_of, won_at_expression
from dealflow.models import SEARCH_READ, Deal, DealStatus

OPEN, WON = DealStatus.OPEN.value, DealStatus.WON.value

# What the board reads of a matching deal (the totals, the column rule, the columns' orders and
# filters): the columns of deal_organization_search_idx / deal_person_search_idx.
READ = [Deal._meta.get_field(name).attname for name in SEARCH_READ]
DEALS = connection.ops.quote_name(Deal._meta.db_table)


def over_matches(queryset, deals, q: str, integration_ids: list[int], request_scope, *, ordered=False) -> list:
    """`queryset` (on the deals table, unfiltered) evaluated over the deals of `deals` (the board's
    other filters applied) that match `q`: a list of its rows, dicts for `values()`; unordered
    unless `ordered` (then the queryset's own order and slice: a column's page to load more).
    `request_scope` is an object that lives for one request (the board's stage map): the matching
    names are looked up once on it for the board's totals and first pages."""
    source = matching(deals, q, integration_ids, request_scope)
    rows = rows_over(queryset if ordered else queryset.order_by(), source) if source else []
    return as_values(queryset, rows)


def board_over_matches(key, build, q: str, won_since, integration_ids, request_scope):
    """A searched board in one statement over the board's deals that match `q`, read once: the
    rows of its totals (a values() queryset on the deals, unordered: the board's GROUP BY) and each
    of its columns' first deals, as rows (column, id, position from 1). `build(won_since)` gives
    what the statement is made of (`_board_statement`) for the won period's start `won_since`;
    `key` names everything else `build` reads (the companies, the stage map, the other filters).

    On PostgreSQL the statement is built once per key and connection, with the text and the won
    period's start as its parameters (`_kept_statement`): building it (three branches' querysets,
    the totals' and the columns' SQL) took about 5 ms of Python a board. SQLite's statement holds
    the ids its index found for this very text (search_index.found_ids): it is built every time."""

    def built(text, moment):
        return _board_statement(*build(moment), text, integration_ids, request_scope)

    statement = built(q, won_since) if connection.vendor == "sqlite" else _kept_statement(key, built, q, won_since)
    if statement is None:
        return [], []
    sql, params, compiler, width = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    totals_rows = [row[1 : 1 + width] for row in rows if row[0] == 0]
    converters = compiler.get_converters([expression for expression, _, _ in compiler.select[:width]])
    totals_rows = list(compiler.apply_converters(totals_rows, converters)) if converters else totals_rows
    ranked = [tuple(row[1 + width :]) for row in rows if row[0] == 1]
    if connection.vendor == "postgresql":  # the column by its number (_ranked)
        ranked = [(COLUMN_KEYS[code], deal_id, position) for code, deal_id, position in ranked]
    return as_values(compiler.kept_queryset, [tuple(row) for row in totals_rows]), ranked


def _board_statement(totals, keyed, columns: list[str], size: int, deals, q: str, integration_ids, request_scope):
    """(sql, params, compiler of `totals`, its width) of the searched board's statement, or None
    when the index found nothing. `keyed` is (sql, params) of a query on the deals that gives what
    `totals` reads of a deal, its `board_column` and its `newest_at` (what its column sorts on,
    newest first): the matches (of `deals`, the board's other filters applied) are read once with
    them (a materialized CTE; PostgreSQL inlines a CTE read once), so each of `columns`' first
    `size` deals is a plain ORDER BY ... LIMIT that keeps its newest while it scans. One window over
    every match (ROW_NUMBER() per column) sorted all of them, with the column's CASE worked out
    twice a deal: at 400,000 deals, 6,600 matches, SQLite's statement took 27 ms that way and 18 ms
    this way (on SQLite). PostgreSQL reads the matches with their column as a number instead
    (`_coded`, for the stage map `request_scope.target`), and ranks every column's in one window
    over them, sorted by the column first (`_ranked`): its rows give the column's number."""
    source = matching(deals, q, integration_ids, request_scope)
    if source is None:
        return None
    totals = stage_led(totals.order_by())
    coded = connection.vendor == "postgresql"
    if coded:
        keyed = _coded(tuple(request_scope.target.items()), tuple(_read_by(totals)))
    keyed_sql, keyed_params = _from_source(*keyed, source)
    compiler, totals_sql, totals_params = _compiled(totals)
    compiler.kept_queryset = totals
    totals_sql = totals_sql.replace(f"FROM {DEALS}", f"FROM {MATCHED} {DEALS}", 1)
    width, column, newest_at = compiler.col_count, *map(connection.ops.quote_name, KEYS)
    nulls = ", ".join(["NULL"] * width)
    newest_first = f"{newest_at} DESC NULLS LAST, id DESC"
    if coded:  # one window over the matches of every column
        pages, pages_params = ([_ranked(columns, nulls)], [size]) if columns else ([], [])
    else:
        pages, pages_params = [], []
        for key in columns:
            pages.append(
                f"SELECT 1, {nulls}, {column}, id, ROW_NUMBER() OVER (ORDER BY {newest_first}) "
                f"FROM (SELECT {column}, id, {newest_at} FROM {MATCHED} WHERE {column} = %s "
                f"ORDER BY {newest_first} LIMIT %s) p"
            )
            pages_params += [key, size]
    sql = " UNION ALL ".join([f"SELECT 0, p.*, NULL, NULL, NULL FROM ({totals_sql}) p", *pages])
    # MATERIALIZED: read once, whatever the number of readers (PostgreSQL inlines a CTE read once).
    sql = f"WITH {MATCHED} AS MATERIALIZED ({keyed_sql}) {sql}"
    params = [*keyed_params, *totals_params, *pages_params]
    return sql, params, compiler, width


def _ranked(columns: list[str], nulls: str) -> str:
    """PostgreSQL: the first pages of `columns` as rows (1, `nulls`, the column's number, id,
    position from 1), the page's size a parameter: one window over the matches of those columns,
    numbered per column, newest first on the date the column sorts on, cut at the size (the
    WindowAgg's run condition). A page per column (ORDER BY ... LIMIT) read every match again for
    each of the seven columns. The matches come sorted by their column alone (one key), so the
    window's sort is an incremental one: each column's deals sorted on their date, where a sort on
    all three keys compared two deals of one column on the column first, in vain. At 400,000
    deals, 6,600 matches, the pages' backend CPU (over the same materialized matches, interleaved
    medians): 3.7-4.0 ms a page per column, 3.5 one window, 3.0 this way. SQLite keeps its pages
    (`_board_statement`)."""
    column, newest_at, position = map(connection.ops.quote_name, (*KEYS, "position"))
    codes = {}  # the columns' numbers by the date they sort on, the date most of them sort on last
    for key in columns:
        codes.setdefault(SORTED_ON.get(key, UPDATED), []).append(CODES[key])
    *others, (last, _) = sorted(codes.items(), key=lambda item: len(item[1]))
    whens = "".join(f"WHEN {column} IN ({_listed(on)}) THEN {connection.ops.quote_name(date)} " for date, on in others)
    newest = f"CASE {whens}ELSE {connection.ops.quote_name(last)} END" if others else connection.ops.quote_name(last)
    shown = _listed(CODES[key] for key in columns)
    matches = f"SELECT {column}, id, {newest} AS {newest_at} FROM {MATCHED} WHERE {column} IN ({shown})"
    return (
        f"SELECT 1, {nulls}, {column}, id, {position} FROM (SELECT {column}, id, ROW_NUMBER() OVER "
        f"(PARTITION BY {column} ORDER BY {newest_at} DESC NULLS LAST, id DESC) AS {position} "
        f"FROM ({matches} ORDER BY {column}) m) p WHERE {position} <= %s"
    )


def _listed(numbers) -> str:
    """An SQL list's text of `numbers` (ints only: nothing else is written into the SQL)."""
    return ", ".join(str(int(number)) for number in numbers)


# PostgreSQL: each column's number in the searched statement, and the columns that sort on their
# deals' win date (selectors.in_column_order: Closed Won), not on their last update.
CODES = {key: number for number, key in enumerate(COLUMN_KEYS)}
WON_AT, UPDATED = "won_at", "update_time"
SORTED_ON = {CLOSED_WON: WON_AT}


@lru_cache(maxsize=64)
def _coded(targets: tuple[tuple[int, str], ...], read: tuple[str, ...]) -> tuple[str, tuple]:
    """PostgreSQL: (sql, params) of the deals with their column's number (`CODES`) as
    `board_column`, their last update and win date (what a column sorts on) and `read`, for the
    stage map `targets` ((stage id, mapping target) pairs).

    The column of an open deal's stage is looked up in one binary search, width_bucket() over the
    stage ids in order, each followed by the id after it (the gap up to the next stage, Unmapped),
    instead of the CASE's IN list per column, tried one after another (columns.column_expression);
    and a column's sort date is chosen by the column, not for each deal. At 400,000 deals, 6,600
    matches: the searched statement 17.2 -> 15.1 ms (interleaved medians)."""
    thresholds, codes = stage_buckets(dict(targets))
    status, stage = (
        f"{DEALS}.{connection.ops.quote_name(Deal._meta.get_field(name).column)}" for name in ("status", "stage")
    )
    # The arrays written out: as parameters, psycopg dumped them again for every board (0.3 ms).
    codes, thresholds = _ints(codes), _ints(thresholds)
    column = RawSQL(
        f"CASE WHEN {status} = %s THEN %s "
        f"ELSE ('{codes}'::smallint[])[COALESCE(width_bucket({stage}, '{thresholds}'::bigint[]), 0) + 1] END",
        (WON, CODES[column_of(status=WON, target=None)]),
        output_field=IntegerField(),
    )
    keyed = Deal.objects.annotate(board_column=column, won_at=won_at_expression())
    return keyed.values("board_column", UPDATED, WON_AT, *read).order_by().query.sql_with_params()


def _ints(numbers) -> str:
    """An SQL array literal's text of `numbers` (ints only: nothing else is written into the SQL)."""
    return "{" + ",".join(str(int(number)) for number in numbers) + "}"


def stage_buckets(targets: dict[int, str]) -> tuple[list[int], list[int]]:
    """(thresholds, codes): an open deal in stage s is in the column numbered
    codes[width_bucket(s, thresholds)] (0-based; width_bucket counts the thresholds at or below s;
    0 for a deal without a stage), as the Python rule (columns.column_of) puts it for the stage's
    target in `targets` (stage id -> mapping target): each stage id is followed by the id after it,
    the start of the gap up to the next stage (stages not in the map: Unmapped)."""
    thresholds, codes = [], [CODES[column_of(status=OPEN, target=None)]]  # below the first stage: none
    for stage, target in sorted(targets.items()):
        if thresholds and thresholds[-1] == stage:  # right after the stage before it: no gap between
            del thresholds[-1], codes[-1]
        thresholds += [stage, stage + 1]
        codes += [CODES.get(column_of(status=OPEN, target=target), codes[0]), codes[0]]  # as the CASE: else none
    return thresholds, codes


def _read_by(grouped) -> list[str]:
    """The columns of the deals (attnames) that `grouped` (a values() GROUP BY) reads: its keys and
    what its aggregates read."""
    query = grouped.query
    keys = [Deal._meta.get_field(name).attname for name in query.values_select]
    sources = (expression for annotation in query.annotation_select.values() for expression in annotation.flatten())
    return list(dict.fromkeys([*keys, *(col.target.attname for col in sources if isinstance(col, Col))]))


def _kept_statement(key, build, q: str, won_since):
    """PostgreSQL: `build(text, moment)`'s statement (sql, params, ...), built once per `key` and
    connection with stand-ins for the text and the moment, and given `q` and `won_since` in their
    parameters. The text is in the statement only as the names' and titles' LIKE patterns
    (search_index: icontains), so each parameter that holds the stand-in holds `q` escaped as
    LIKE escapes it; the moment is compared with the won date, a parameter of its own."""

    def kept_statement(connection_):
        moment = None if won_since is None else statements.STAND_INS[0]
        built = build(TEXT_STAND_IN, moment)
        if built is None:
            return None  # the index found nothing: nothing to keep
        sql, params, *rest = built
        moment = object() if moment is None else connection_.ops.adapt_datetimefield_value(moment)
        texts = [at for at, param in enumerate(params) if isinstance(param, str) and TEXT_STAND_IN in param]
        moments = [at for at, param in enumerate(params) if param == moment]
        if not texts or (won_since is not None and not moments):
            raise ValueError("The text and the moment must be parameters of the statement.")
        return (sql, tuple(params), texts, moments, *rest)

    statement = statements.kept(_kept, KEPT_AT_MOST, key, kept_statement)
    if statement is None:
        return None
    connection_ = connections[DEFAULT_DB_ALIAS]
    sql, params, texts, moments, *rest = statement
    params = list(params)
    escaped = connection_.ops.prep_for_like_query(q)
    for at in texts:
        params[at] = params[at].replace(TEXT_STAND_IN, escaped)
    for at in moments:
        params[at] = connection_.ops.adapt_datetimefield_value(won_since)
    return sql, params, *rest


# A text no search has: LIKE leaves it as it is (no %, _ or backslash), and PostgreSQL takes no NUL.
TEXT_STAND_IN = "\x00search text\x00"
KEPT_AT_MOST = 64  # statements per connection: one per companies and filters searched
_kept: WeakKeyDictionary = WeakKeyDictionary()


def stage_led(grouped):
    """`grouped` (a values() GROUP BY) grouped by the stage first, its other keys after it in their
    order: the same groups. SQLite groups by sorting, and its sort compares a row's keys from the
    first: led by the stage (dozens of values) it mostly stops at the first key, led by the
    integration (a few) and the status (two) it went on to the third (at 400,000 deals, 6,600
    matches: 6 % of the searched statement's instructions). PostgreSQL hashes: the order is moot."""
    grouped = grouped.all()
    grouped.query.group_by = tuple(sorted(grouped.query.group_by, key=lambda col: col.target != STAGE))
    return grouped


STAGE = Deal._meta.get_field("stage")


KEYS = ("board_column", "newest_at")  # what `keyed` gives each matching deal besides what the totals read


MATCHED = "matched"


def _compiled(queryset):
    """(compiler, sql, params) of `queryset`."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    return compiler, sql, list(params)


def as_values(queryset, rows: list[tuple]) -> list:
    """`rows` of `queryset` as it returns them: dicts for `values()`, tuples otherwise."""
    if not issubclass(queryset._iterable_class, ValuesIterable):
        return rows
    query = queryset.query
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    return [dict(zip(names, row, strict=True)) for row in rows]


def matching_ids(deals, q: str, integration_ids: list[int], request_scope) -> Q:
    """The deals that match `q` among `deals` (the board's other filters applied) as a condition on
    the deal's id, for reads that need whole deals with their relations (the CSV export)."""
    source = matching(deals, q, integration_ids, request_scope)
    if source is None:
        return Q(pk__in=[])
    sql, params = source
    return Q(pk__in=RawSQL(f"SELECT id FROM ({sql}) matched", params))


def matching(deals, q: str, integration_ids: list[int], request_scope) -> tuple[str, list] | None:
    """(sql, params): the deals of `deals` that match `q`, each once, as rows of READ (None: none)."""
    found = _found_ids(q, request_scope)
    looked_up = connection.vendor != "sqlite"  # the names looked up once, in CTEs (search_index.named_lookups)
    branches = search_index.branches(q, integration_ids, found, looked_up=looked_up)
    if not branches:
        return None  # the index found nothing
    parts = []
    for number, (key, condition) in enumerate(zip(branches, disjoint(branches), strict=True)):
        sql, params = deals.filter(condition).values(*READ).order_by().query.sql_with_params()
        parts.append((f"SELECT * FROM ({_hinted(sql, key, by_id=found is not None)}) b{number}", params))
    sql, params = " UNION ALL ".join(sql for sql, _ in parts), [param for _, params in parts for param in params]
    if not looked_up:
        return sql, params
    names, names_params = search_index.named_lookups(q, integration_ids)
    return f"{names} {sql}", [*names_params, *params]


def _hinted(sql: str, key: str, *, by_id: bool) -> str:
    """SQLite: the branch's index named. Without statistics (ANALYZE), SQLite's planner would read
    every deal of the integrations off an index on them instead; matching titles found by id are
    read by id (NOT INDEXED still reads by rowid), and a title scan is left to the planner."""
    hint = {"organization_id": f"INDEXED BY {ORGANIZATION_INDEX}", "person_id": f"INDEXED BY {PERSON_INDEX}"}
    hint = hint.get(key, "NOT INDEXED" if by_id else "")
    if connection.vendor != "sqlite" or not hint:
        return sql
    return sql.replace(f"FROM {DEALS}", f"FROM {DEALS} {hint}", 1)


ORGANIZATION_INDEX, PERSON_INDEX = "deal_organization_search_idx", "deal_person_search_idx"  # models.Deal


def disjoint(branches: dict[str, Q]) -> list[Q]:
    """Each branch without the deals that an earlier one finds, so that UNION ALL has each deal
    once (UNION would compare whole rows: a hash or sort of every match on PostgreSQL). A deal
    without the earlier branch's relation (NULL) is not one it found. A branch's condition may
    carry the form to leave its deals out with (`among`: search_index._any_of)."""
    conditions, earlier = [], Q()
    for key, condition in branches.items():
        conditions.append(condition & ~earlier)
        earlier |= getattr(condition, "among", condition) & Q(**{f"{key}__isnull": False})
    return conditions


def _found_ids(q: str, request_scope):
    """search_index.found_ids, once per `request_scope` and text (kept on the object: it is gone
    with the request, so no write can make it stale)."""
    cached = getattr(request_scope, FOUND_IDS, None)
    if cached is None or cached[0] != q:
        cached = (q, search_index.found_ids(q))
        object.__setattr__(request_scope, FOUND_IDS, cached)  # a frozen dataclass's too
    return cached[1]


FOUND_IDS = "_search_found_ids"


def rows_over(queryset, source: tuple[str, list]) -> list[tuple]:
    """`queryset`'s rows (as tuples, converted as Django converts them) computed over the rows of
    `source` in place of the deals table (`_from_source`)."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = _from_source(*compiler.as_sql(), source)
    compiler.as_sql = lambda *args, **kwargs: (sql, params)
    return list(compiler.results_iter(tuple_expected=True))


def _from_source(sql: str, params, source: tuple[str, list]) -> tuple[str, tuple]:
    """A query's SQL that reads the deals table once, reading the rows of `source` in its place,
    under the table's name."""
    table = f"FROM {DEALS}"
    at = sql.index(table)
    before = sql[:at].count("%s")  # the SELECT clause's parameters come before the source's
    source_sql, source_params = source
    sql = f"{sql[:at]}FROM ({source_sql}) {DEALS}{sql[at + len(table) :]}"
    return sql, (*params[:before], *source_params, *params[before:])
