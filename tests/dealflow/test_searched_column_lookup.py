"""PostgreSQL reads a searched board's matches with their column as a number, found in one binary
search over the stage map's stage ids (search_reads._coded), and sorts each column's page on the one
date the column sorts on: the same columns as the Python rule, for every stage id."""

from bisect import bisect_right

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealflow import search_reads
from dealflow.columns import CLOSED_WON, COLUMN_KEYS, EXCLUDED, UNMAPPED, column_of
from dealflow.models import DealStatus
from dealflow.selectors import BoardFilters, board_columns
from dealflow.stages import StandardStage
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
def test_postgresql_reads_each_match_with_its_column_number_and_each_page_sorts_on_its_columns_date(searched):  # noqa: F811
    companies, now = searched
    with CaptureQueriesContext(connection) as queries:
        board = board_columns(companies=companies, filters=BoardFilters(q="a"), now=now)
    assert sum(column.count for column in board.columns) > 25
    [statement] = [query["sql"] for query in queries if "MATERIALIZED" in query["sql"]]
    matched, reads = statement.split(") SELECT 0, ", 1)
    head = matched.split(" FROM ", 1)[0]
    assert "width_bucket" in head and " IN (" not in head, head  # no IN list per column
    assert head.count("CASE WHEN") == 1, head  # won or not; no CASE for the sort date
    pages = reads.split(" UNION ALL ")[1:]
    assert len(pages) == len(StandardStage) + 1, reads  # the standard columns and Unmapped
    won_at = [page for page in pages if 'ORDER BY "won_at" DESC' in page]
    assert len(won_at) == 1 and all('ORDER BY "update_time" DESC' in page for page in pages if page not in won_at)


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
