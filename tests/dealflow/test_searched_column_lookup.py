"""PostgreSQL reads a searched board's matches with their column as a number, found in one binary
search over the stage map's stage ids (search_reads._coded), and ranks every column's page in one
window, on the date the column sorts on (search_reads._ranked): the same columns as the Python rule,
for every stage id."""

from bisect import bisect_right

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealflow import search_reads
from dealflow.columns import BOARD_COLUMN_KEYS, CLOSED_WON, COLUMN_KEYS, EXCLUDED, UNMAPPED, column_of
from dealflow.models import DealStatus
from dealflow.selectors import BoardFilters, board_columns
from tests.dealflow.helpers import executed_statements
from tests.dealflow.test_search_board import searched  # noqa: F401 (a fixture)

# Stage ids next to each other, alone, with gaps of one and more, every kind of target.
TARGETS = {
    3: "lead",
    4: "qualified",
    5: EXCLUDED,
    7: CLOSED_WON,
    8: UNMAPPED,
    9: "proposal",
    20: "meeting",
    21: "due_diligence",
    1000: CLOSED_WON,
}
STAGES = [None, *range(0, 25), 999, 1000, 1001, 5000]


def test_each_stage_id_is_in_its_column_by_the_bucket_of_its_id():
    thresholds, codes = search_reads.stage_buckets(TARGETS)
    assert thresholds == sorted(thresholds)
    for stage in STAGES:
        bucket = 0 if stage is None else bisect_right(thresholds, stage)  # what width_bucket returns
        assert COLUMN_KEYS[codes[bucket]] == column_of(status=DealStatus.OPEN, target=TARGETS.get(stage)), stage
    assert search_reads.stage_buckets({}) == ([], [search_reads.CODES[UNMAPPED]])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="width_bucket() is PostgreSQL's")
@pytest.mark.django_db
@pytest.mark.parametrize("targets", [TARGETS, {}])
def test_postgresqls_width_bucket_puts_each_stage_id_in_its_column(targets):
    thresholds, codes = search_reads.stage_buckets(targets)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (%s::smallint[])[COALESCE(width_bucket(s, %s::bigint[]), 0) + 1] FROM unnest(%s::bigint[]) s",
            [codes, thresholds, STAGES],
        )
        found = [COLUMN_KEYS[code] for (code,) in cursor.fetchall()]
    assert found == [column_of(status=DealStatus.OPEN, target=targets.get(stage)) for stage in STAGES]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps the columns' CASE")
@pytest.mark.django_db
def test_postgresql_reads_each_match_with_its_column_number_and_ranks_the_pages_in_one_window(searched):  # noqa: F811
    """The matches are read with their column as a number, and every column's first page comes from
    one window over them, numbered per column on the date the column sorts on: a page per column
    (ORDER BY ... LIMIT) read every match again for each of the seven columns."""
    companies, now = searched
    with CaptureQueriesContext(connection) as queries:
        board = board_columns(companies=companies, filters=BoardFilters(q="a"), now=now)
    assert sum(column.count for column in board.columns) > 25
    assert sum(column.has_more for column in board.columns) >= 3  # pages cut short at their size
    [statement] = [query["sql"] for query in queries if "MATERIALIZED" in query["sql"]]
    matched, reads = statement.split(") SELECT 0, ", 1)
    head = matched.split(" FROM ", 1)[0]
    assert "width_bucket" in head and " IN (" not in head, head  # no IN list per column
    assert head.count("CASE WHEN") == 1, head  # won or not; no CASE for the sort date
    [totals, pages] = reads.split(" UNION ALL ")  # the totals and one read for every page
    assert reads.count(f"FROM {search_reads.MATCHED}") == 2, reads
    shown = ", ".join(str(search_reads.CODES[key]) for key in BOARD_COLUMN_KEYS)
    won = search_reads.CODES[CLOSED_WON]
    assert 'PARTITION BY "board_column" ORDER BY "newest_at" DESC NULLS LAST, id DESC' in pages, pages
    newest_at = f'CASE WHEN "board_column" IN ({won}) THEN "won_at" ELSE "update_time" END AS "newest_at"'
    assert f'{newest_at} FROM matched WHERE "board_column" IN ({shown}) ORDER BY "board_column")' in pages, pages
    assert "LIMIT" not in pages, pages


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps a page per column")
@pytest.mark.django_db
def test_the_window_sorts_each_columns_matches_on_their_date_alone(searched):  # noqa: F811
    """The matches come to the window sorted by their column, so PostgreSQL sorts each column's on
    the date and id alone (an incremental sort): a sort on all three keys compared two deals of one
    column on the column first, for nothing."""
    companies, now = searched
    with executed_statements() as executed:
        board = board_columns(companies=companies, filters=BoardFilters(q="a"), now=now)
    assert sum(column.has_more for column in board.columns) >= 3
    [(sql, params)] = [(sql, params) for sql, params in executed if "MATERIALIZED" in sql]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Presorted Key: matched.board_column" in plan, plan


def test_the_window_sorts_each_column_on_its_date_and_leaves_out_the_columns_not_asked_for():
    """search_reads._ranked: a CASE only when the columns sort on more than one date, the date most
    of them sort on in its ELSE; the columns asked for only."""
    lead, won, unmapped = (search_reads.CODES[key] for key in ("lead", CLOSED_WON, UNMAPPED))
    sql = search_reads._ranked(["lead", UNMAPPED], "NULL")
    assert 'id, "update_time" AS "newest_at"' in sql and f'IN ({lead}, {unmapped}) ORDER BY "board_column"' in sql, sql
    sql = search_reads._ranked([CLOSED_WON], "NULL")
    assert 'id, "won_at" AS "newest_at"' in sql and f'IN ({won}) ORDER BY "board_column"' in sql, sql
    sql = search_reads._ranked(["lead", CLOSED_WON, UNMAPPED], "NULL")
    assert f'id, CASE WHEN "board_column" IN ({won}) THEN "won_at" ELSE "update_time" END AS "newest_at"' in sql, sql


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps the columns' CASE")
@pytest.mark.django_db
def test_the_stage_maps_arrays_are_written_into_the_kept_statement_not_dumped_for_each_board(searched):  # noqa: F811
    """The stage map's two arrays are the same for every board of the kept statement: as
    parameters, psycopg dumped them (about 80 ints each at 8 companies) again for every board."""
    companies, now = searched
    executed = []

    def kept(execute, sql, params, many, context):
        if "MATERIALIZED" in sql:
            executed.append(params)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(kept):
        board = board_columns(companies=companies, filters=BoardFilters(q="a"), now=now)
    assert sum(column.count for column in board.columns) > 25
    [params] = executed
    assert not [param for param in params if isinstance(param, list | tuple)], params
