"""Each column's pages read off an index (dealflow/newest.py) are the pages that sorting the whole
column gives: same deals, same order, for every column, filter and offset, ties and missing dates
included. Runs on SQLite and PostgreSQL."""

import itertools
import random
import re
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealflow.columns import BOARD_COLUMN_KEYS, COLUMN_KEYS
from dealflow.models import Deal
from dealflow.newest import (
    OPEN,
    WON,
    _column_sql,
    _lateral_sql,
    first_page_ids,
    reach,
    stages_by_integration,
)
from dealflow.selectors import PAGE_SIZE, BoardFilters, column_cards, column_deals, first_pages, stage_map
from tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(coeo, nordic):
    rng = random.Random(7)
    now = timezone.now().replace(microsecond=0)
    stages = [*vars(coeo.stages).values(), nordic.lead]
    owners = [coeo.anna, coeo.bertil]
    for number in range(400):
        stage = rng.choice(stages)
        moment = now - timedelta(hours=rng.randint(0, 40))  # many ties on the sort date
        status = rng.choice(["open"] * 6 + ["won"] * 3 + ["lost"])
        deal = make.deal(
            stage,
            f"Deal {number}",
            save=False,
            status=status,
            is_archived=rng.random() < 0.05,
            update_time=None if rng.random() < 0.05 else moment,
            stage_change_time=None if rng.random() < 0.3 else moment - timedelta(hours=3),
            won_time=moment - timedelta(hours=rng.randint(0, 30)) if status == "won" and rng.random() < 0.7 else None,
            owner=rng.choice(owners) if stage.integration_id == coeo.integration.pk else None,
        )
        if rng.random() < 0.05:
            deal.stage = None
        deal.save()
    return [coeo.company, nordic.company], now, coeo


def sorted_page(stages, filters, column, offset):
    """The page as the whole column, sorted, gives it (the board's query before the index read)."""
    deals = column_deals(stages=stages, filters=filters, column=column)
    return list(deals.values_list("title", flat=True)[offset : offset + PAGE_SIZE + 1])


def some_filters(now, coeo) -> list[BoardFilters]:
    return [
        BoardFilters(),
        BoardFilters(won_since=now - timedelta(hours=20)),
        BoardFilters(owner_id=coeo.anna.pk),
        BoardFilters(pipeline_id=coeo.pipeline.pk, won_since=now - timedelta(days=3)),
    ]


def test_every_column_page_equals_the_sorted_column(board):
    companies, now, coeo = board
    stages = stage_map(companies)
    checked = 0
    for filters in some_filters(now, coeo):
        for column in COLUMN_KEYS:
            for offset in (0, PAGE_SIZE, 2 * PAGE_SIZE):
                cards, has_more = column_cards(stages=stages, filters=filters, column=column, offset=offset, now=now)
                expected = sorted_page(stages, filters, column, offset)
                assert [card.title for card in cards] == expected[:PAGE_SIZE], (filters, column, offset)
                assert has_more == (len(expected) > PAGE_SIZE)
                checked += len(cards)
    assert checked > 500 and Deal.objects.count() == 400


def load_more_titles(client, slug, column, query, offset):
    """A load more's card titles and whether it offers more, as the view rendered them."""
    url = reverse("dealflow:company_column", args=[slug, column]) if slug else reverse("dealflow:column", args=[column])
    response = client.get(url, {**query, "offset": offset}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    shown = response.context["column"]
    return [card.title for card in shown["cards"]], shown["has_more"]


def test_load_more_page_by_page_shows_the_sorted_column(client, staff, board):
    """Every column read through load more to its end, one company and all, with each filter: the
    whole column sorted (on PostgreSQL each page's ids and cards are one statement, column_cards)."""
    companies, now, coeo = board
    client.force_login(staff)
    stages = stage_map(companies)
    queries = [
        ({"won": "all"}, BoardFilters()),
        ({"won": "30"}, BoardFilters(won_since=now - timedelta(days=30))),
        ({"won": "all", "owner": coeo.anna.pk}, BoardFilters(owner_id=coeo.anna.pk)),
        ({"won": "all", "pipeline": coeo.pipeline.pk}, BoardFilters(pipeline_id=coeo.pipeline.pk)),
    ]
    checked = 0
    for slug, scope in ((coeo.company.slug, stage_map(companies[:1])), (None, stages)):
        for query, filters in queries:
            for column in COLUMN_KEYS:
                shown, offset, more = [], 0, True
                while more:
                    titles, more = load_more_titles(client, slug, column, query, offset)
                    assert len(titles) == PAGE_SIZE or not more
                    shown += titles
                    offset += len(titles)
                deals = column_deals(stages=scope, filters=filters, column=column)
                assert shown == list(deals.values_list("title", flat=True)), (slug, query, column)
                checked += len(shown)
    assert checked > 1000


@pytest.mark.parametrize("query", [{}, {"won": "all"}, {"owner": "anna"}])
@pytest.mark.parametrize("column", ["lead", "closed_won"])
def test_on_postgresql_load_more_reads_its_page_and_cards_in_one_statement(client, staff, board, column, query):
    """Without a text search, PostgreSQL reads a load more's page of ids (newest.py) and their cards
    in one statement: each costs a round trip (0.2-0.3 ms on loopback) and psycopg's Python. SQLite
    runs them apart (a statement there costs little more than its work)."""
    companies, now, coeo = board
    client.force_login(staff)
    query = {key: coeo.anna.pk if value == "anna" else value for key, value in query.items()}
    for slug in (coeo.company.slug, None):
        with CaptureQueriesContext(connection) as sent:
            titles, _ = load_more_titles(client, slug, column, query, 5)
        assert titles
        deals = [q["sql"] for q in sent.captured_queries if "dealflow_deal" in q["sql"].replace('"', "")]
        expected = 1 if connection.vendor == "postgresql" else 2
        assert len(deals) == expected, deals


def test_a_shares_reach_is_past_the_pages_end_by_at_most_half_and_a_few_values():
    """newest.reach: how far each share of a bound page (load more on PostgreSQL) is read."""
    reaches = [reach(end) for end in range(1, 10_000)]
    assert all(end <= far <= max(32, 1.5 * end) for end, far in enumerate(reaches, start=1))
    assert len(set(reaches)) < 25 and reach(26) == 32 and reach(51) == 64 and reach(76) == 96


def test_the_boards_first_pages_equal_the_sorted_columns(board):
    """Every column's first page in one query (on PostgreSQL, LATERAL reads over arrays of shares)."""
    companies, now, coeo = board
    stages = stage_map(companies)
    checked = 0
    for filters in some_filters(now, coeo):
        pages = first_pages(stages=stages, filters=filters, columns=COLUMN_KEYS, now=now)
        for column in COLUMN_KEYS:
            cards, has_more = pages.get(column, ([], False))
            expected = sorted_page(stages, filters, column, 0)
            assert [card.title for card in cards] == expected[:PAGE_SIZE], (filters, column)
            assert has_more == (len(expected) > PAGE_SIZE)
            checked += len(cards)
    assert checked > 300


@pytest.mark.parametrize("size", [3, PAGE_SIZE + 1])
def test_pages_of_any_size_with_or_without_the_stage_map_are_the_sorted_columns(board, size):
    """Small pages too (each stage's read then stops before its last deal), and without
    `integration_of` (every stage read for every integration): the sorted column's ids."""
    companies, now, coeo = board
    stages = stage_map(companies)
    checked = 0
    for filters in some_filters(now, coeo):
        for offset in (0, size, 3 * size):
            arguments = {"integration_ids": stages.integration_ids, "targets": stages.target, "filters": filters}
            arguments.update(columns=COLUMN_KEYS, offset=offset, size=size)
            pages = first_page_ids(**arguments)
            assert pages == first_page_ids(**arguments, integration_of=stages.integration_of)
            for column in COLUMN_KEYS:
                deals = column_deals(stages=stages, filters=filters, column=column).values_list("id", flat=True)
                assert pages.get(column, []) == list(deals[offset : offset + size]), (filters, column, offset)
                checked += len(pages.get(column, []))
    assert checked > 150


def page_id_statements(companies, now) -> list[str]:
    stages = stage_map(companies)
    with CaptureQueriesContext(connection) as queries:
        first_page_ids(
            integration_ids=stages.integration_ids,
            targets=stages.target,
            filters=BoardFilters(won_since=now - timedelta(days=3)),
            columns=COLUMN_KEYS,
            size=PAGE_SIZE + 1,
            integration_of=stages.integration_of,
        )
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's LATERAL form")
def test_on_postgresql_the_page_statement_does_not_grow_with_companies_and_stages(board):
    """Planning a statement with a subquery per company and stage took longer than running it
    (~75 ms at 8 companies): the LATERAL form has as many subqueries for two companies as for one."""
    companies, now, _ = board
    [one], [both] = page_id_statements(companies[:1], now), page_id_statements(companies, now)
    assert "LATERAL" in both and one.count("SELECT") == both.count("SELECT")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's parts written out")
def test_on_sqlite_each_share_is_one_index_range_dated_and_undated_deals_together(board):
    """SQLite orders NULL below every value, so newest first ends with the undated deals: a share
    (a company's stage in a column) is one range, not a dated and an undated one (half the parts;
    the board's first pages at 400,000 deals took 4.1 ms with both). For the same reason the pages'
    order needs no CASE to put the undated deals last (0.4 ms of 2.9)."""
    companies, now, _ = board
    stages = stage_map(companies)
    all_time = BoardFilters()
    with CaptureQueriesContext(connection) as queries:
        first_page_ids(
            integration_ids=stages.integration_ids,
            targets=stages.target,
            filters=all_time,
            columns=COLUMN_KEYS,
            size=PAGE_SIZE + 1,
            integration_of=stages.integration_of,
        )
    [sql] = [query["sql"] for query in queries.captured_queries]
    shares = sum(1 for stage in stages.target if stages.integration_of.get(stage) in stages.integration_ids)
    shares += 2 * len(stages.integration_ids)  # deals without a stage, won deals: per company
    assert sql.count(" LIMIT ") - len(COLUMN_KEYS) == shares  # one LIMIT per share, one per column
    assert "update_time IS NULL" not in sql and "update_time) IS NULL" not in sql  # no undated parts
    assert "CASE WHEN" not in sql


def test_a_stages_share_is_read_off_the_index_already_in_the_pages_order(board):
    """A share's deals come newest first, ties on the date broken by the id: the index has the id
    right after the date (migration 0026), so no share sorts its rows. With expected_close_date between
    them, SQLite sorted each share's rows of one date ("RIGHT PART OF ORDER BY") and PostgreSQL ran an
    Incremental Sort per share: SQLite's first pages took twice as long at 50,000 and 400,000 deals."""
    companies, now, _ = board
    stages = stage_map(companies)
    filters = BoardFilters(won_since=now - timedelta(hours=20))
    if connection.vendor == "sqlite":
        shares = stages_by_integration(stages.integration_ids, stages.target, stages.integration_of)
        queries = [_column_sql(shares, filters, column, 0, PAGE_SIZE + 1) for column in BOARD_COLUMN_KEYS]
        with connection.cursor() as cursor:
            plan = []
            for sql, params in filter(None, queries):
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                plan += [row[-1] for row in cursor.fetchall()]
        assert any("deal_hygiene_idx" in step for step in plan)
        assert not [step for step in plan if "RIGHT PART OF ORDER BY" in step]
        return
    args = (stages.integration_ids, stages.target, filters, BOARD_COLUMN_KEYS, 0, PAGE_SIZE + 1, stages.integration_of)
    sql, params = _lateral_sql(*args)
    with connection.cursor() as cursor:
        # As at 400,000 deals: off the index (a few hundred rows here would rather be scanned whole).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        [[plan]] = cursor.fetchall()
    scans = [node for node in walk(plan[0]["Plan"]) if node.get("Index Name") == "deal_hygiene_idx"]
    sorted_scans = [
        child
        for node in walk(plan[0]["Plan"])
        if node["Node Type"] in ("Sort", "Incremental Sort")
        for child in node.get("Plans", [])
        if child.get("Index Name") == "deal_hygiene_idx"
    ]
    assert scans and not sorted_scans


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's LATERAL form")
def test_on_postgresql_the_pages_are_sorted_by_column_byte_by_byte(board):
    """The window's sort by column compares the keys with COLLATE "C", not with the database's
    collation (strcoll for each of about 20,000 comparisons at 8 companies)."""
    companies, now, _ = board
    stages = stage_map(companies)
    filters = BoardFilters(won_since=now - timedelta(hours=20))
    args = (stages.integration_ids, stages.target, filters, BOARD_COLUMN_KEYS, 0, PAGE_SIZE + 1, stages.integration_of)
    sql, params = _lateral_sql(*args)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        [[plan]] = cursor.fetchall()
    by_column = [
        node["Sort Key"] for node in nodes_of(plan[0]["Plan"], "Sort") if "board_column" in node["Sort Key"][0]
    ]
    assert by_column and all('COLLATE "C"' in keys[0] for keys in by_column), by_column


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_on_postgresql_the_page_statement_prepared_once_reads_no_more_deals_than_planned_each_time(board):
    """With prepared statements (config/settings.py), PostgreSQL may run a plan made once for any
    parameter values. With the statuses and is_archived as parameters, that plan read Closed Won's
    open deals as every open deal of each company (141 ms instead of 2 at 400,000 deals): they are
    literals, so the plan made once is the plan made for the values."""
    companies, now, _ = board
    stages = stage_map(companies)
    filters = BoardFilters(won_since=now - timedelta(hours=20))
    args = (stages.integration_ids, stages.target, filters, BOARD_COLUMN_KEYS, 0, PAGE_SIZE + 1, stages.integration_of)
    sql, params = _lateral_sql(*args)
    assert not {OPEN, WON, False} & {param for param in params if not isinstance(param, list)}
    numbers = itertools.count(1)
    numbered = re.sub("%s", lambda _: f"${next(numbers)}", sql)
    read = {}
    connection.ensure_connection()
    # Client-side binding: with the server's, the $n of the statement to prepare would be this one's.
    with psycopg.ClientCursor(connection.connection) as cursor:
        cursor.execute("ANALYZE dealflow_deal")
        cursor.execute(f"PREPARE pages AS {numbered}")
        for mode in ("force_custom_plan", "force_generic_plan"):
            cursor.execute(f"SET plan_cache_mode = {mode}")
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE pages({', '.join(['%s'] * len(params))})", params)
            [[plan]] = cursor.fetchall()
            scans = nodes_on(plan[0]["Plan"], "dealflow_deal")
            read[mode] = sum((n["Actual Rows"] + n.get("Rows Removed by Filter", 0)) * n["Actual Loops"] for n in scans)
        cursor.execute("RESET plan_cache_mode")
        cursor.execute("DEALLOCATE pages")
    assert 0 < read["force_generic_plan"] <= read["force_custom_plan"]


def card_queries(stages, column, now):
    """The SQL of one page of cards: the queries that read the cards' details (their titles)."""
    with CaptureQueriesContext(connection) as queries:
        column_cards(stages=stages, filters=BoardFilters(), column=column, now=now)
    return [query["sql"] for query in queries.captured_queries if '"dealflow_deal"."title"' in query["sql"]]


def test_the_card_query_names_its_deals_by_id_without_a_subquery(board):
    """With the page's ids as a subquery, the card query has nine relations, over PostgreSQL's
    join_collapse_limit: it then joined the detail tables to every deal before picking the page's
    (seconds at 100,000 deals). The ids are read first and passed as a list; the one subquery is
    each card's next activity's (dealflow/activities.py).
    On PostgreSQL the page's ids come before the cards in the same statement (column_cards), as one
    array: the cards' part names the deals by id all the same."""
    companies, now, _ = board
    stages = stage_map(companies)
    [sql] = card_queries(stages, "lead", now)
    cards = sql
    if connection.vendor == "postgresql":
        assert sql.startswith("WITH page (ids) AS (") and "LATERAL" in sql
        cards = sql[sql.index(') SELECT "dealflow_deal"."id"') + 2 :]
        assert '"dealflow_deal"."id" = ANY((SELECT ids FROM page)::bigint[])' in cards
    assert cards.count("SELECT") == 2 + cards.count("SELECT ids FROM page")
    assert cards.count('FROM "dealflow_activity" U0') == 1 and cards.count('FROM "dealflow_deal"') == 1
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE dealflow_deal")
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            [[plan]] = cursor.fetchall()
        card_scans = [node for node in nodes_on(plan[0]["Plan"], "dealflow_deal") if node["Alias"] == "dealflow_deal"]
        assert card_scans and all(node["Actual Rows"] <= PAGE_SIZE + 1 for node in card_scans)


def nodes_of(node: dict, node_type: str):
    if node.get("Node Type") == node_type:
        yield node
    for child in node.get("Plans", []):
        yield from nodes_of(child, node_type)


def walk(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


def nodes_on(node: dict, table: str):
    if node.get("Relation Name") == table:
        yield node
    for child in node.get("Plans", []):
        yield from nodes_on(child, table)
