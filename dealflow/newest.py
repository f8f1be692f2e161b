"""A column's page of deal ids read straight off an index, newest first (boards without a search).

Sorting a whole column to show its newest 25 cards costs time in proportion to the column. Here
each integration's part of the column is read from an index already in the column's order
(models.Deal: deal_newest_idx by last update, deal_won_at_idx by win date), stopping after the
page; the parts, a page each, are merged in one UNION ALL query, and the board's columns in one
query too. A part's rows without a sort date come after the dated ones, as NULLS LAST orders them:
on PostgreSQL they are read as a part of their own, so each part is one plain index range; SQLite
orders NULL below every value, so there one range newest first gives both.

On PostgreSQL the parts are not written out one by one: planning a board's two hundred subqueries
took longer than running them (about 100 ms at 8 companies). There each kind of part is written
once, as a LATERAL subquery run for every (column, integration, stage) of an unnest() of arrays, so
the statement's size no longer grows with the companies and stages (SQLite has no LATERAL).
"""

from django.db import connection

from dealflow.columns import CLOSED_WON, COLUMN_KEYS, UNMAPPED, stage_ids
from dealflow.models import Deal, DealStatus

OPEN, WON = DealStatus.OPEN.value, DealStatus.WON.value


def page_ids(
    *,
    integration_ids: list[int],
    targets: dict[int, str],
    filters,
    column: str,
    offset: int,
    size: int,
    integration_of: dict[int, int] | None = None,
):
    """The ids of the column's deals `offset` to `offset + size`, in the column's order (one query,
    none when the column has no stages). `filters` without a text search (owner, pipeline and won
    period apply). `integration_of` maps stage ids to their integration's (None: any stage may be
    any integration's; with it, each integration's part reads only its own stages)."""
    pages = first_page_ids(
        integration_ids=integration_ids,
        targets=targets,
        filters=filters,
        columns=[column],
        offset=offset,
        size=size,
        integration_of=integration_of,
    )
    return pages.get(column, [])


def first_page_ids(
    *,
    integration_ids,
    targets,
    filters,
    columns: list[str],
    offset: int = 0,
    size: int,
    integration_of: dict[int, int] | None = None,
):
    """`page_ids` of several columns in one query: {column: ids in the column's order}."""
    statement = pages_sql(
        integration_ids=integration_ids,
        targets=targets,
        filters=filters,
        columns=columns,
        offset=offset,
        size=size,
        integration_of=integration_of,
    )
    if statement is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        return by_column(cursor.fetchall())


def pages_sql(
    *,
    integration_ids,
    targets,
    filters,
    columns: list[str],
    offset: int = 0,
    size: int,
    integration_of: dict[int, int] | None = None,
    bound: bool = False,
) -> tuple[str, list] | None:
    """(sql, params) of `first_page_ids`' statement, rows (column, id, position in the column), to
    run on its own or as part of another (selectors.column_cards); None when no column has stages.
    `bound`: on PostgreSQL without an owner or pipeline filter, the page's bounds are parameters,
    and each share reads a little past the page (`reach`) rather than to the page's end, so
    that the pages of a column are a few statements, each prepared once, rather than one per offset
    (a load more is seldom asked for the same offset five times on one connection)."""
    # An owner or pipeline filter stays with the parts written out: one plan for every share, the
    # LATERAL form read a whole stage (or the pipeline's every deal) for each company without a match.
    if connection.vendor == "postgresql" and not (filters.owner_id or filters.pipeline_id):
        query = _lateral_sql(integration_ids, targets, filters, columns, offset, size, integration_of, bound=bound)
        queries = [query] if query else []
    else:
        shares = stages_by_integration(integration_ids, targets, integration_of)
        queries = [_column_sql(shares, filters, column, offset, size) for column in columns]
        queries = [query for query in queries if query]
    if not queries:
        return None
    sql = " UNION ALL ".join(f"SELECT * FROM ({sql}) c{number}" for number, (sql, _) in enumerate(queries))
    return sql, [param for _, params in queries for param in params]


def by_column(rows) -> dict[str, list[int]]:
    """{column: ids} from rows (column, id, position in the column)."""
    pages = {}
    for column, deal_id, _position in sorted(rows, key=lambda row: (row[0], row[2])):
        pages.setdefault(column, []).append(deal_id)
    return pages


def stages_by_integration(integration_ids, targets, integration_of=None) -> dict[int, dict[int, str]]:
    """{integration id: the targets of the stages its part reads} (every stage's without
    `integration_of`), worked out once for all columns."""
    if integration_of is None:
        return dict.fromkeys(integration_ids, targets)
    own = {integration_id: {} for integration_id in integration_ids}
    for stage, target in targets.items():
        if integration_of.get(stage) in own:
            own[integration_of[stage]][stage] = target
    return own


# Newest first with the undated deals last (NULLS LAST). SQLite orders NULL below every value, so its
# plain DESC already ends with them: the CASE cost it 0.4 of the 2.9 ms of a board's first pages.
UNDATED_LAST = "CASE WHEN u.sort_key IS NULL THEN 1 ELSE 0 END, u.sort_key DESC, u.id DESC"


def _column_sql(shares: dict[int, dict[int, str]], filters, column: str, offset: int, size: int):
    """(sql, params) of the column's page as rows (column, id, position), or None without parts;
    `shares` as `stages_by_integration` returns them."""
    parts = []
    for integration_id, own in shares.items():
        # is_archived as an equality (not `NOT is_archived`), so that the indexes' columns after it
        # are used too.
        where, params = [f"{DEALS}.integration_id = %s", f"{DEALS}.is_archived = %s"], [integration_id, False]
        for field, value in (("owner_id", filters.owner_id), ("pipeline_id", filters.pipeline_id)):
            if value:
                where.append(f"{DEALS}.{field} = %s")
                params.append(value)
        parts += _parts(where, params, own, filters.won_since, column, limit=offset + size)
    if not parts:
        return None
    union = " UNION ALL ".join(f"SELECT * FROM ({sql}) p{number}" for number, (sql, _) in enumerate(parts))
    order = "u.sort_key DESC, u.id DESC" if connection.vendor == "sqlite" else UNDATED_LAST
    sql = (
        f"SELECT %s AS board_column, u.id, ROW_NUMBER() OVER (ORDER BY {order}) AS position FROM ({union}) u "
        f"ORDER BY {order} LIMIT {int(size)} OFFSET {int(offset)}"
    )
    return sql, [column, *(param for _, params in parts for param in params)]


# The parts are written as SQL rather than built with the ORM: a board has a hundred of them (each
# company's share of each column, dated and undated), and compiling that many querysets took more
# time than running them. The sort keys are the indexed expressions (models.Deal's indexes).
DEALS = Deal._meta.db_table
UPDATED = f"{DEALS}.update_time"
WON_AT = f"COALESCE({DEALS}.won_time, {DEALS}.close_time, {DEALS}.stage_change_time, {DEALS}.update_time)"


def _parts(where: list[str], params: list, targets: dict[int, str], won_since, column: str, *, limit: int) -> list:
    """One integration's share of the column, as index-ordered queries of `limit` rows each:
    (sql, params) selecting id and sort_key."""
    sort_key = WON_AT if column == CLOSED_WON else UPDATED
    in_stages = stage_ids(targets, column)
    # One share per stage: `stage_id = s` ordered by date, then id, is one range of deal_hygiene_idx
    # (integration, status, is_archived, stage, update_time, id, ...), already in that order and read no
    # further than the page; `stage_id IN (...)` would have to read (and sort) every deal of the
    # column's stages.
    shares = [(f"{DEALS}.status = %s AND {DEALS}.stage_id = %s", [OPEN, stage], False) for stage in in_stages]
    if column == UNMAPPED:
        shares.append((f"{DEALS}.status = %s AND {DEALS}.stage_id IS NULL", [OPEN], False))
    if column == CLOSED_WON:
        shares.append((f"{DEALS}.status = %s", [WON], True))
    parts = []
    for condition, condition_params, won in shares:
        where_sql = " AND ".join([*where, condition])
        source = f"{DEALS} {_index_hint(column, won)}"
        select = f"SELECT {DEALS}.id AS id, {sort_key} AS sort_key FROM {source} WHERE {where_sql}"
        newest = f"ORDER BY {sort_key} DESC, {DEALS}.id DESC LIMIT {int(limit)}"
        if won and won_since is not None:  # the won period (columns.on_board): dated wins only
            since = connection.ops.adapt_datetimefield_value(won_since)
            parts.append((f"{select} AND {sort_key} >= %s {newest}", [*params, *condition_params, since]))
            continue
        if connection.vendor == "sqlite":
            # SQLite orders NULL below every value, so newest first already ends with the undated
            # deals, by id: one range of the index for both (half the parts of a board).
            parts.append((f"{select} {newest}", [*params, *condition_params]))
            continue
        parts.append((f"{select} AND {sort_key} IS NOT NULL {newest}", [*params, *condition_params]))
        undated = f"{select} AND {sort_key} IS NULL ORDER BY {DEALS}.id DESC LIMIT {int(limit)}"
        parts.append((undated, [*params, *condition_params]))
    return parts


def _index_hint(column: str, won: bool) -> str:
    """SQLite's planner, left alone, reads the deals without a stage off deal_newest_idx (every open
    deal of the integration, when none lacks a stage) and sorts a whole stage for Closed Won's open
    deals: name the index that reads no further than the page."""
    if connection.vendor != "sqlite":
        return ""
    if won:
        return ""
    if column == CLOSED_WON:  # open deals in Closed Won sort by their win date expression
        return "INDEXED BY deal_won_at_idx"
    return "INDEXED BY deal_hygiene_idx"


# --- PostgreSQL: each kind of part once, run per share by LATERAL ----------------------------------


def _lateral_sql(
    integration_ids, targets, filters, columns: list[str], offset: int, size: int, integration_of=None, *, bound=False
):
    """(sql, params) of the columns' pages as rows (column, id, position), or None without parts:
    the same parts as `_parts`, as four LATERAL subqueries over arrays of shares (open deals of a
    stage by last update, open deals of a stage by win date, open deals without a stage, won deals).
    For boards without an owner or pipeline filter (the won period applies). `bound`: the page's
    bounds as parameters, each share read to `reach(limit)` (`pages_sql`)."""
    limit = int(offset + size)
    # Not LIMIT $1: not knowing it, PostgreSQL costed the generic plan for a tenth of each share, far
    # above a page's custom plan, and so planned a prepared load more anew on every request.
    at_most = reach(limit) if bound else limit
    by_update, by_won_at = [], []  # (column, integration id, stage id)
    for column in columns:
        for integration_id in integration_ids:
            for stage in stage_ids(targets, column):
                if integration_of is None or integration_of.get(stage) == integration_id:
                    (by_won_at if column == CLOSED_WON else by_update).append((column, integration_id, stage))
    # The statuses and is_archived are written as literals, not parameters: with prepared statements
    # (server-side binding, config/settings.py) PostgreSQL may plan the statement once for any values,
    # and not knowing them it read Closed Won's open deals off deal_board_include_idx, every open deal
    # of each company (141 ms at 400,000 deals), instead of deal_won_at_idx newest first (2 ms).
    common, common_params = ["d.is_archived = false"], []
    blocks, params = [], []

    def block(shares: str, condition: str, condition_params: list, sort_key: str, since=None):
        where = " AND ".join(["d.integration_id = s.integration_id", condition, *common])
        select = f"SELECT d.id, {sort_key} AS sort_key FROM {DEALS} d WHERE {where}"
        dated = f"{select} AND {sort_key} IS NOT NULL ORDER BY {sort_key} DESC, d.id DESC LIMIT {at_most}"
        parts, part_params = [dated], [*condition_params, *common_params]
        if since is not None:  # the won period: dated wins only
            parts = [f"{select} AND {sort_key} >= %s ORDER BY {sort_key} DESC, d.id DESC LIMIT {at_most}"]
            part_params.append(since)
        else:
            parts.append(f"{select} AND {sort_key} IS NULL ORDER BY d.id DESC LIMIT {at_most}")
            part_params += [*condition_params, *common_params]
        lateral = " UNION ALL ".join(f"({part})" for part in parts)
        blocks.append(f"SELECT s.board_column, p.id, p.sort_key FROM {shares} CROSS JOIN LATERAL ({lateral}) p")
        params.extend(part_params)

    # The shares are written into the statement as literal arrays, not passed as parameters: they are
    # the stage map's, the same on every request of a board. Not knowing an array parameter's size,
    # PostgreSQL costed the generic plan for a hundred shares and planned the statement again on
    # every request (1.5 ms of a company's board at 400,000 deals); knowing it, it keeps one plan.
    by_stage = "unnest({}::text[], {}::bigint[], {}::bigint[]) AS s(board_column, integration_id, stage_id)"
    per_integration = "(SELECT {}::text AS board_column, unnest({}::bigint[]) AS integration_id) s"
    # Closed Won's open deals by win date are one range of deal_won_open_stage_idx (integration,
    # stage, win date, id; PostgreSQL only, migration 0024), read no further than the page at any size.
    # (Written `stage_id + 0` to read deal_won_at_idx newest first instead, the planner guessed the
    # stage's share of the open deals at 0.5 % and, at 50,000 deals, read and sorted whole stages.)
    in_stage = f"d.status = '{OPEN}' AND d.stage_id = s.stage_id"
    for shares, sort_key in ((by_update, UPDATED_D), (by_won_at, WON_AT_D)):
        if shares:
            shares_sql = by_stage.format(*(_literal(values) for values in zip(*shares, strict=True)))
            block(shares_sql, in_stage, [], sort_key)
    if UNMAPPED in columns:
        open_without_stage = f"d.status = '{OPEN}' AND d.stage_id IS NULL"
        shares_sql = per_integration.format(_column_literal(UNMAPPED), _literal(integration_ids))
        block(shares_sql, open_without_stage, [], UPDATED_D)
    if CLOSED_WON in columns:
        shares_sql = per_integration.format(_column_literal(CLOSED_WON), _literal(integration_ids))
        block(shares_sql, f"d.status = '{WON}'", [], WON_AT_D, since=filters.won_since)
    if not blocks:
        return None
    order = "u.sort_key IS NULL, u.sort_key DESC, u.id DESC"
    # The window sorts every share's page (about 1,900 rows at 8 companies) by column first: compared
    # byte by byte (COLLATE "C"), not by the database's collation (strcoll on every comparison, a
    # tenth of the statement at 400,000 deals with C.UTF-8, more with a language's collation).
    sql = (
        f"SELECT board_column, id, position FROM (SELECT u.board_column, u.id, ROW_NUMBER() OVER "
        f'(PARTITION BY u.board_column COLLATE "C" ORDER BY {order}) AS position '
        f"FROM ({' UNION ALL '.join(blocks)}) u) r WHERE position > {'%s' if bound else int(offset)} "
        f"AND position <= {'%s' if bound else limit}"
    )
    return sql, [*params, *([int(offset), limit] if bound else [])]


def reach(limit: int) -> int:
    """How far each share of a page ending at `limit` is read: the next power of two or one and a
    half times one (32, 48, 64, 96, 128, ...), so that a column's pages share a few statements; read
    past the page's end, a share costs at most half as many index entries again."""
    power = 1 << max(int(limit) - 1, 31).bit_length()  # the next power of two, at least 32
    return power * 3 // 4 if power * 3 // 4 >= limit and power > 32 else power


def _literal(values) -> str:
    """An array of column keys or of ids as a literal (the keys are the board's own, checked)."""
    return "'{" + ",".join(str(int(value)) if isinstance(value, int) else _key(value) for value in values) + "}'"


def _column_literal(column: str) -> str:
    return f"'{_key(column)}'"


def _key(column: str) -> str:
    if column not in COLUMN_KEYS:
        raise ValueError(f"Not a column: {column!r}")
    return column


UPDATED_D = "d.update_time"
WON_AT_D = "COALESCE(d.won_time, d.close_time, d.stage_change_time, d.update_time)"
