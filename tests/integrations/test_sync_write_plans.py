"""How the write's big statements run: foreign keys resolved by joins (not a sub-query per staged
row) and, on PostgreSQL, no JIT compilation during the write."""

import pytest
from django.db import connection

from dealflow.models import Deal
from integrations.models import SyncOutcome
from integrations.providers.pipedrive.specs import entity_specs

pytestmark = pytest.mark.django_db

PER_ROW_PLAN = {"sqlite": "CORRELATED SCALAR SUBQUERY", "postgresql": "SubPlan"}


def deal_insert_plan(staged: bool = True) -> str:
    deals = next(spec for spec in entity_specs() if spec.key == "deals")
    upsert = deals.staged_in("plan")
    sql = upsert.apply_sql(new=True)
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(upsert.drop_sql)
        for statement in upsert.create_sql:
            cursor.execute(statement)
        try:
            cursor.execute(explain + sql, ["2026-01-01 00:00:00", True])
            return "\n".join(str(row) for row in cursor.fetchall())
        finally:
            cursor.execute(upsert.drop_sql)


def test_the_deals_insert_resolves_its_foreign_keys_without_a_sub_query_per_row():
    plan = deal_insert_plan()
    assert PER_ROW_PLAN[connection.vendor] not in plan, plan
    for table in ("dealflow_organization", "dealflow_person", "dealflow_stage", "dealflow_pipeline"):
        assert table in plan or connection.vendor == "postgresql", plan  # SQLite names each probe


def test_deals_are_linked_to_what_arrived_and_left_empty_for_what_did_not(connected):
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    deals = Deal.objects.filter(integration=connected.integration)
    # One row per remote deal (a join that matched twice would have failed the unique constraint
    # or doubled rows), each linked exactly where its remote id names a cached row.
    assert deals.count() == len({deal["id"] for deal in connected.sandbox.deals()})
    for deal in deals.select_related("organization", "person", "stage", "pipeline", "owner"):
        for field, remote in (
            ("organization", "org_remote_id"),
            ("person", "person_remote_id"),
            ("stage", "stage_remote_id"),
            ("pipeline", "pipeline_remote_id"),
            ("owner", "owner_remote_id"),
        ):
            target = getattr(deal, field)
            if getattr(deal, remote) is None:
                assert target is None
            elif target is not None:
                assert target.remote_id == getattr(deal, remote)
                assert target.integration_id == deal.integration_id
    assert deals.exclude(organization=None).exists() and deals.exclude(person=None).exists()


def test_the_write_runs_without_jit_and_puts_the_setting_back(connected, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's JIT")
    seen = []

    def note_jit(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "dealflow_deal" '):
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('jit')")
                seen.append(cursor.fetchone()[0])
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit')")
        (before,) = cursor.fetchone()
    with connection.execute_wrapper(note_jit):
        assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    assert seen == ["off"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit')")
        assert cursor.fetchone()[0] == before
