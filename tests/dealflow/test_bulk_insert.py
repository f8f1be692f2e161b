"""A large insert on SQLite keeps the board totals, the day totals and the search index with
set-based statements instead of their row triggers (dealflow/bulk_insert.py): the tables stay
exactly equal to their GROUP BY (and the index to a scan), the triggers are back afterwards, and
an insert that fails leaves the triggers and the tables as they were.

The sync takes this path from write.SET_BASED_FROM new rows of a model on; the tests lower it to
one so that the sandbox's few hundred deals take it."""

import pytest
from django.db import DatabaseError, connection

from dealflow import board_totals
from dealflow.bulk_insert import SET_BASED, insert_set_based
from dealflow.metrics import day_totals
from dealflow.models import Deal
from integrations.models import SyncOutcome
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.sync import write
from tests.dealflow.test_search_index import assert_same_results
from tests.integrations.conftest import connect

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's totals triggers are set-based already"),
]


def triggers() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {name for (name,) in cursor.fetchall()}


def replaced_triggers() -> set[str]:
    return {name for replaced in SET_BASED.values() for name in replaced}


def assert_exact():
    assert board_totals.table_rows() == board_totals.grouped_deals()
    assert day_totals.table_rows() == day_totals.grouped_deals()
    assert_same_results()


@pytest.fixture
def set_based(monkeypatch):
    monkeypatch.setattr(write, "SET_BASED_FROM", 1)


def test_a_full_sync_inserts_set_based_and_keeps_every_derived_table_exact(set_based, monkeypatch):
    done = []  # the tables whose set-based insert succeeded (a failure falls back to one row at a time)

    def insert(table, *args):
        insert_set_based(table, *args)
        done.append(table)

    monkeypatch.setattr(write, "insert_set_based", insert)
    before = triggers()
    assert replaced_triggers() <= before
    connected = connect(Sandbox("coeo", burst_limit=100_000))
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    assert {"dealflow_deal", "dealflow_organization", "dealflow_person"} <= set(done)
    assert Deal.objects.count() > 100
    assert triggers() == before
    assert_exact()
    # The triggers are back and working: an incremental sync's few new and changed rows.
    sandbox = connected.sandbox
    first, second = [deal for deal in sandbox.deals() if deal["status"] == "open"][:2]
    sandbox.win_deal(first["id"])
    sandbox.update_deal(second["id"], title="Omdöpt ÖREBRO affär", value=1234.5)
    sandbox.add_deal(title="Ny affär")
    monkeypatch.setattr(write, "SET_BASED_FROM", 10_000)
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    assert Deal.objects.filter(title="Ny affär").exists()
    assert_exact()


def test_a_failed_insert_leaves_the_triggers_and_tables_as_they_were(set_based):
    connected = connect(Sandbox("coeo", burst_limit=100_000))
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    before, totals = triggers(), board_totals.table_rows()
    table = Deal._meta.db_table
    with pytest.raises(DatabaseError):  # every deal again: their ids are taken
        insert_set_based(table, f"INSERT INTO {table} SELECT * FROM {table} WHERE %s", [True])
    assert triggers() == before
    assert board_totals.table_rows() == totals
    assert_exact()
