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
