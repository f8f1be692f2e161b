"""A sync that writes many rows leaves the database with fresh planner statistics for the tables
it wrote (integrations/sync/analyze.py); a small one does not spend time on them. SQLite and
PostgreSQL."""

import pytest
from django.db import connection

from integrations.models import SyncOutcome
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.sync import analyze
from tests.integrations.conftest import connect

pytestmark = pytest.mark.django_db


def has_statistics(table: str) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if not cursor.fetchone():
                return False
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        else:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s", [table])
        return cursor.fetchone()[0] > 0


def clear_statistics() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone():
                cursor.execute("DELETE FROM sqlite_stat1")
        else:
            cursor.execute("DELETE FROM pg_statistic WHERE starelid = 'dealflow_deal'::regclass")


def test_a_large_sync_analyzes_the_tables_it_wrote_and_a_small_one_does_not(monkeypatch):
    connected = connect(Sandbox("coeo", burst_limit=100_000, deals=300))
    clear_statistics()
    monkeypatch.setattr(analyze, "LARGE_WRITE", 10_000)
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    assert not has_statistics("dealflow_deal")

    connected.sandbox.add_deal(title="One more")
    monkeypatch.setattr(analyze, "LARGE_WRITE", 100)
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED  # one deal: small
    assert not has_statistics("dealflow_deal")

    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED  # rewrites nothing: small
    assert not has_statistics("dealflow_deal")

    for deal in connected.sandbox.deals()[:150]:
        connected.sandbox.update_deal(deal["id"], title=f"{deal['title']} (renamed)")
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    assert has_statistics("dealflow_deal") and has_statistics("dealflow_boardtotal")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's ANALYZE reads only indexes")
def test_analyze_skips_the_cached_records_json_columns_on_postgresql(monkeypatch):
    monkeypatch.setattr(analyze, "LARGE_WRITE", 1)
    connected = connect(Sandbox("coeo", burst_limit=100_000))
    clear_statistics()
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname FROM pg_stats WHERE tablename = 'dealflow_deal'")
        analyzed = {name for (name,) in cursor.fetchall()}
    assert {"title", "status", "stage_id", "integration_id"} <= analyzed
    assert not {"raw", "custom_fields", "label_ids"} & analyzed


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's pg_trgm indexes have no segments")
@pytest.mark.django_db(transaction=True)
def test_a_large_sync_leaves_the_search_indexes_in_one_segment_each(monkeypatch):
    """Each write transaction adds a segment to SQLite's FTS5 search indexes; a phrase of common
    trigrams reads them segment by segment (30-60 ms in seven at 400k deals, 2-3 ms in one)."""
    from dealflow.models import Deal
    from tests.dealflow.test_search_segments import segments

    monkeypatch.setattr(analyze, "LARGE_WRITE", 10_000)
    connected = connect(Sandbox("coeo", burst_limit=100_000, deals=300))
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    for deal in connected.sandbox.deals()[:150]:
        connected.sandbox.update_deal(deal["id"], title=f"{deal['title']} (renamed)")
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    assert segments(Deal) > 1  # small writes: left to FTS5's own merging

    monkeypatch.setattr(analyze, "LARGE_WRITE", 100)
    for deal in connected.sandbox.deals()[150:]:
        connected.sandbox.update_deal(deal["id"], title=f"{deal['title']} (renamed)")
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    assert segments(Deal) == 1
    assert Deal.objects.filter(title__endswith="(renamed)").count() == 300
