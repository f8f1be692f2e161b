"""A large insert on SQLite keeps the board totals and won months, the day totals, the search index, the overview's
marks and the planned activity flags with set-based statements instead of their row triggers
(dealflow/bulk_insert.py, each trigger set's `bulk_insert` in dealflow/triggers.py): the tables
stay exactly equal to their GROUP BY (the index to a scan, the flags to the activities, a new mark
per integration written), the triggers are back afterwards, and an insert that fails leaves the
triggers and the tables as they were.

The sync takes this path from write.SET_BASED_FROM new rows of a model on; the tests lower it to
one so that the sandbox's few hundred deals take it."""

import pytest
from django.db import DatabaseError, connection

from dealflow import board_totals, board_won_months
from dealflow.bulk_insert import insert_set_based
from dealflow.metrics import activity_flags, day_totals, overview_cache
from dealflow.models import Activity, Deal, MetricsMark, Organization, Person
from dealflow.triggers import bulk_insert_statements, trigger_sets
from integrations.models import SyncOutcome
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.sync import write
from tests.dealflow.metrics.test_activity_flags import assert_exact as assert_flags_exact
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
    return {name for trigger_set in trigger_sets() for name in trigger_set.bulk_insert}


def assert_exact():
    assert board_totals.table_rows() == board_totals.grouped_deals()
    assert board_won_months.table_rows() == board_won_months.grouped_deals()
    assert day_totals.table_rows() == day_totals.grouped_deals()
    assert_same_results()
    assert_flags_exact()


def marks() -> dict[int, int]:
    return dict(MetricsMark.objects.values_list("source", "mark"))


def test_every_insert_trigger_of_the_synced_tables_has_a_set_based_statement(db):
    """Else a large insert still runs it once per row."""
    for model in (Deal, Activity, Organization, Person):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND sql LIKE %s",
                [table, "% AFTER INSERT ON %"],
            )
            inserted = {name for (name,) in cursor.fetchall()}
        assert inserted and inserted == set(bulk_insert_statements(table)), table


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
    assert {"dealflow_deal", "dealflow_organization", "dealflow_person", "dealflow_activity"} <= set(done)
    assert Deal.objects.count() > 100
    assert triggers() == before
    flags = assert_flags_exact()
    assert True in flags.values() and False in flags.values()
    assert_exact()
    integration = connected.integration.pk
    cached = overview_cache.marks([integration])
    assert cached is not None and dict(cached[:2])[integration] is not None
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
    # A new deal and a planned activity for it inserted set-based again: the overview's key changes.
    monkeypatch.setattr(write, "SET_BASED_FROM", 1)
    added = sandbox.add_deal(title="Tredje affären")
    sandbox.add_activity(deal_id=added["id"], subject="Möte")
    before_marks = overview_cache.marks([integration])
    done.clear()
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    assert {"dealflow_deal", "dealflow_activity"} <= set(done)
    assert Deal.objects.get(title="Tredje affären").has_planned_activity
    assert overview_cache.marks([integration]) != before_marks
    assert triggers() == before
    assert_exact()


def test_a_failed_insert_leaves_the_triggers_and_tables_as_they_were(set_based):
    connected = connect(Sandbox("coeo", burst_limit=100_000))
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    before, totals, flags, marked = triggers(), board_totals.table_rows(), assert_flags_exact(), marks()
    months = board_won_months.table_rows()
    for model in (Deal, Activity):
        table = model._meta.db_table
        with pytest.raises(DatabaseError):  # every row again: their ids are taken
            insert_set_based(table, f"INSERT INTO {table} SELECT * FROM {table} WHERE %s", [True])
    assert triggers() == before
    assert board_totals.table_rows() == totals
    assert board_won_months.table_rows() == months
    assert assert_flags_exact() == flags
    assert marks() == marked
    assert activity_flags.triggers_present()
    assert_exact()
