"""On PostgreSQL a connection prepares the statements it runs again (config/settings.py): planning
the board's queries on every request cost as much server time as running them at 400,000 deals."""

import pytest
from django.db import connection
from django.urls import reverse

from tests import factories as make

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements"),
]


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_a_board_seen_again_runs_its_deal_queries_as_prepared_statements(client, staff, coeo):
    client.force_login(staff)
    make.many_deals(coeo.stages.lead, 30, owner=coeo.anna, organization=coeo.acme, person=coeo.erik)
    urls = [
        reverse("dealflow:company_board", args=[coeo.company.slug]),
        reverse("dealflow:company_column", args=[coeo.company.slug, "lead"]) + "?offset=25",
    ]
    for _ in range(7):  # prepared on its sixth run
        for url in urls:
            assert client.get(url).status_code == 200
    statements = prepared_statements()

    assert any("CROSS JOIN LATERAL" in statement for statement in statements), statements  # the first pages' ids
    assert any('"dealflow_deal"."title"' in statement for statement in statements)  # the cards
    assert any("dealflow_boardtotal" in statement for statement in statements)  # the column totals


def plans(fragment: str) -> list[tuple[int, int]]:
    """(generic plans, custom plans) of the prepared statements whose text holds `fragment`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return [(generic, custom) for statement, generic, custom in cursor.fetchall() if fragment in statement]


@pytest.mark.parametrize("board", ["all", "company"])
def test_the_first_pages_statement_is_planned_once_not_on_every_request(client, staff, coeo, nordic, board):
    # Its shares (column, integration, stage) are the board's, written into the statement: as array
    # parameters, PostgreSQL costed a generic plan for arrays of unknown size and planned it anew for
    # every request (1.5 ms of a company's board at 400,000 deals).
    client.force_login(staff)
    make.many_deals(coeo.stages.lead, 30, owner=coeo.anna, organization=coeo.acme, person=coeo.erik)
    url = reverse("dealflow:board") if board == "all" else reverse("dealflow:company_board", args=[coeo.company.slug])
    for _ in range(12):
        assert client.get(url).status_code == 200

    [(generic, custom)] = plans("CROSS JOIN LATERAL")
    assert custom <= 5 and generic >= 1, (generic, custom)


def test_the_cards_and_their_next_activities_are_one_statement_whatever_the_number_of_cards(client, staff, coeo):
    # The ids are one array parameter (statements.among): an IN list's parameters cost PostgreSQL as
    # much to bind as the lookups, and each length of list was a statement of its own.
    client.force_login(staff)
    make.many_deals(coeo.stages.lead, 30, owner=coeo.anna, organization=coeo.acme, person=coeo.erik)
    make.many_deals(coeo.stages.meeting, 3, owner=coeo.anna)
    slug = coeo.company.slug
    urls = [
        reverse("dealflow:company_board", args=[slug]),  # 25 + 3 cards
        reverse("dealflow:company_column", args=[slug, "lead"]) + "?offset=25",  # 5 cards
        reverse("dealflow:company_column", args=[slug, "meeting"]),  # 3 cards
    ]
    texts = []
    for url in urls:
        sent = []

        def record(execute, sql, *args, sent=sent):
            sent.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(record):
            assert client.get(url).status_code == 200
        texts.append({sql for sql in sent if '"dealflow_deal"."title"' in sql or "dealflow_activity" in sql})

    assert all(len(found) == 1 for found in texts), texts
    [cards], [more], [meeting] = texts
    assert "= ANY(%s" in cards and '"next_activity__subject"' in cards
    # Load more reads its page's ids in the same statement (selectors.column_cards), as a WITH
    # clause: the cards' part is the same statement for any page.
    assert more != meeting and cards_part(more) == cards_part(meeting)
    in_page = '("dealflow_deal"."id" = ANY((SELECT ids FROM page)::bigint[]))'
    assert cards_part(more).replace(in_page, '"dealflow_deal"."id" = ANY(%s::bigint[])') == cards_part(cards)


def cards_part(sql: str) -> str:
    """A cards statement without its page's ids (load more's WITH clause) and its order."""
    start = sql.index('SELECT "dealflow_deal"."id"')
    return sql[start:].split(" ORDER BY (array_position(")[0]


@pytest.mark.parametrize("column", ["lead", "closed_won"])
def test_load_more_at_any_offset_of_a_bucket_is_one_statement_planned_once(client, staff, coeo, column):
    # Load more reads its page's ids and cards in one statement (selectors.page_cards). With the
    # page's offset and end written into it, each offset was a statement of its own, planned on every
    # request until run five times on one connection; with LIMIT $n, PostgreSQL costed the generic
    # plan for a tenth of each share and planned every request too. The bounds are parameters and
    # each share is read to newest.reach(end): offsets 50 to 70 (ends 76 to 96) are one statement.
    client.force_login(staff)
    stage = coeo.stages.lead if column == "lead" else coeo.stages.won
    make.many_deals(stage, 130, owner=coeo.anna, organization=coeo.acme, person=coeo.erik)
    make.many_deals(coeo.stages.lead, 30, status="won")
    url = reverse("dealflow:company_column", args=[coeo.company.slug, column])
    sent = []

    def record(execute, sql, *args):
        sent.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(record):
        for offset in (50, 55, 60, 65, 70) * 3:
            response = client.get(url, {"offset": offset}, headers={"HX-Request": "true"})
            assert response.status_code == 200 and len(response.context["column"]["cards"]) == 25
    pages = {sql for sql in sent if sql.startswith("WITH page")}
    assert len(pages) == 1, pages
    [(generic, custom)] = plans("WITH page")
    assert custom <= 5 and generic >= 5, (generic, custom)  # prepared on the 6th run, generic from the 6th


@pytest.mark.parametrize("plan_mode", ["auto", "force_generic_plan"])
def test_closed_wons_open_deals_are_read_off_their_own_index_no_further_than_the_page(client, staff, coeo, plan_mode):
    # Open deals in a stage mapped to Closed Won, newest by win date: one range of
    # deal_won_open_stage_idx (migration 0024) whatever the planner guesses of the stage's share. Off
    # deal_won_at_idx with `stage_id + 0` it guessed 0.5 % of the open deals and, at 50,000 deals, read
    # and sorted whole stages off deal_board_include_idx.
    from datetime import timedelta

    from django.db.models import Q
    from django.db.models.functions import Coalesce
    from django.utils import timezone

    from dealflow.models import Deal, DealStatus

    client.force_login(staff)
    now = timezone.now()
    for index in range(40):  # distinct win dates, some with none but a stage change
        make.deal(coeo.stages.won, f"Verbal {index}", stage_change_time=now - timedelta(hours=index))
    make.many_deals(coeo.stages.lead, 200)
    make.deal(coeo.stages.won, "Won", status=DealStatus.WON, won_time=now - timedelta(minutes=90))
    url = reverse("dealflow:company_board", args=[coeo.company.slug])
    sent = []

    def record(execute, sql, params, *args):
        if "CROSS JOIN LATERAL" in sql:
            sent.append((sql, params))
        return execute(sql, params, *args)

    with connection.execute_wrapper(record):
        assert client.get(url).status_code == 200
    [(sql, params)] = sent
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dealflow_deal")
        cursor.execute(f"SET plan_cache_mode = {plan_mode}")
        numbered = sql.split("%s")  # as psycopg's server-side binding sends it: $1, $2...
        cursor.execute(
            "PREPARE first_pages AS " + "".join(f"{part}${n}" for n, part in enumerate(numbered[:-1], 1)) + numbered[-1]
        )
        execute = "EXECUTE first_pages" + (f"({', '.join(['%s'] * len(params))})" if params else "")
        execute, params = connection.ops.compose_sql(execute, params), None  # EXECUTE takes no bound parameters
        for _ in range(6):  # past the fifth run PostgreSQL may keep a generic plan
            cursor.execute(execute, params)
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {execute}", params)
        [([plan],)] = cursor.fetchall()
        cursor.execute(execute, params)
        rows = cursor.fetchall()
        cursor.execute("DEALLOCATE first_pages")
        cursor.execute("RESET plan_cache_mode")

    scans = []

    def walk(node):
        scans.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    own = [node for node in scans if node.get("Index Name") == "deal_won_open_stage_idx"]
    assert own and all(node["Actual Rows"] <= 26 for node in own), [
        (node["Node Type"], node.get("Index Name"), node["Actual Rows"]) for node in scans
    ]
    # The page is the one a plain ordering gives.
    won_at = Coalesce("won_time", "close_time", "stage_change_time", "update_time")
    expected = (
        Deal.objects.filter(integration=coeo.integration, is_archived=False)
        .filter(Q(status=DealStatus.OPEN, stage=coeo.stages.won) | Q(status=DealStatus.WON))
        .order_by(won_at.desc(nulls_last=True), "-id")
        .values_list("id", flat=True)[:26]  # a page and one more (is there a next page)
    )
    page = [deal_id for column, deal_id, _ in sorted(rows, key=lambda row: row[2]) if column == "closed_won"]
    assert page == list(expected)
