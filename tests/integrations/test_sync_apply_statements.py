"""The apply runs a model's INSERT for new rows and its upsert for the others only when rows of
that kind were staged: an empty upsert still fires the table's statement triggers (PostgreSQL)
and scans the staging table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import SyncOutcome
from integrations.providers.pipedrive.sandbox import Sandbox
from tests.integrations.conftest import connect

pytestmark = pytest.mark.django_db


def deal_writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "dealflow_deal" ')]


def test_a_first_sync_inserts_the_deals_without_an_empty_upsert():
    connected = connect(Sandbox("coeo", burst_limit=100_000))
    with CaptureQueriesContext(connection) as captured:
        assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    writes = deal_writes(captured.captured_queries)
    assert len(writes) == 1 and "ON CONFLICT" not in writes[0]


def test_a_sync_of_changed_deals_only_upserts():
    connected = connect(Sandbox("coeo", burst_limit=100_000))
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    deal = next(deal for deal in connected.sandbox.deals() if deal["status"] == "open")
    connected.sandbox.update_deal(deal["id"], title="Renamed")
    with CaptureQueriesContext(connection) as captured:
        assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    writes = deal_writes(captured.captured_queries)
    assert len(writes) == 1 and "ON CONFLICT" in writes[0]
