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
    assert texts[0] == texts[1] == texts[2]
    [cards] = texts[0]
    assert "= ANY(" in cards and '"next_activity__subject"' in cards
