"""SQLite's write lock during a sync: staged outside it, applied briefly, and a busy database ends recorded.

These tests run on a real database file (the test database copied with VACUUM INTO), since the
lock is a file lock that a second sqlite3 connection competes for.
"""

import logging
import sqlite3

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from dealflow.models import Deal
from integrations.models import SyncOutcome, SyncRun
from integrations.providers.pipedrive import records
from integrations.providers.pipedrive.specs import entity_specs
from integrations.sync import locking
from integrations.sync.diff import diff_page
from integrations.sync.runner import sync_integration
from integrations.sync.staging import Staging, temp_only_transaction
from tests.integrations.conftest import connect

BUSY_TIMEOUT = 0.2  # seconds the sync's connection waits for the lock, instead of 20


@pytest.fixture
def file_db(transactional_db, tmp_path):
    """Point Django's connection at a file copy of the test database for the test's duration."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    path = tmp_path / "db.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(path)])
    settings_dict = connection.settings_dict
    saved = settings_dict["NAME"], settings_dict["OPTIONS"].get("timeout"), connection.connection
    # The in-memory test database lives as long as its connection: keep that one aside, unclosed.
    connection.connection = None
    settings_dict["NAME"], settings_dict["OPTIONS"]["timeout"] = str(path), BUSY_TIMEOUT
    yield path
    connection.close()
    settings_dict["NAME"], settings_dict["OPTIONS"]["timeout"], connection.connection = saved


class Writer:
    """A second connection to the database file, as the web server or beat would have."""

    def __init__(self, path) -> None:
        self.db = sqlite3.connect(path, timeout=0, isolation_level=None)

    def can_write(self) -> bool:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return False
        self.db.execute("UPDATE portfolio_portfoliocompany SET name = name")
        self.db.execute("COMMIT")
        return True

    def hold_lock(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")


@pytest.fixture
def other(file_db):
    writer = Writer(file_db)
    yield writer
    writer.release()
    writer.db.close()


@pytest.fixture
def coeo(file_db, coeo_sandbox):
    return connect(coeo_sandbox)


def sync(coeo, *, page_size=50, on_progress=None):
    options = {"transport": coeo.sandbox.transport(), "page_size": page_size, "sleep": coeo.sleeps.append}
    return sync_integration(integration=coeo.integration, on_progress=on_progress, client_options=options)


def test_staging_leaves_the_database_writable_meanwhile(coeo, other):
    deals = next(spec for spec in entity_specs() if spec.key == "deals")
    page = [records.Deal.from_api(payload) for payload in coeo.sandbox.deals()[:20]]
    changes, tally = diff_page(deals, coeo.integration.pk, page, cached=False)
    with Staging() as staging:
        with temp_only_transaction():
            staging.add(deals, changes, tally)
            assert other.can_write()  # the temp database is written; the main one is not locked
        with transaction.atomic():  # what the project's transactions do (BEGIN IMMEDIATE): the probe sees it
            assert not other.can_write()
    assert not Deal.objects.exists()


def test_the_write_transaction_runs_the_same_statements_however_many_pages(coeo):
    """The rows are staged per page outside it; inside, one set-based statement per model and kind."""

    def statements_in_write(integration, page_size):
        with CaptureQueriesContext(connection) as queries:
            run = sync(integration, page_size=page_size)
        assert run.outcome == SyncOutcome.SUCCEEDED, run.error
        sqls = [query["sql"] for query in queries.captured_queries]
        begin = max(at for at, sql in enumerate(sqls) if sql.startswith("BEGIN IMMEDIATE"))
        # The transaction ends before the run is recorded (COMMIT is not a captured query).
        end = next(at for at in range(begin, len(sqls)) if 'UPDATE "integrations_syncrun"' in sqls[at])
        return end - begin

    small_pages = statements_in_write(coeo, 10)
    coeo.integration.delete()  # and its cache: the next first sync starts from the same state
    assert statements_in_write(connect(coeo.sandbox), 100) == small_pages


def test_a_sync_that_cannot_start_ends_recorded_as_busy(coeo, other, monkeypatch, caplog):
    pauses = []
    monkeypatch.setattr(locking, "pause", pauses.append)
    other.hold_lock()

    with caplog.at_level(logging.WARNING, logger="integrations.sync.runner"):
        run = sync(coeo)

    assert (run.outcome, run.error_kind, run.pk) == (SyncOutcome.FAILED, "db_busy", None)
    assert "database was busy" in run.error and len(pauses) == locking.ATTEMPTS - 1
    assert "could not start" in caplog.text
    other.release()
    assert not SyncRun.objects.exists() and not Deal.objects.exists()
    assert sync(coeo).outcome == SyncOutcome.SUCCEEDED


def test_a_write_that_cannot_get_the_lock_leaves_the_cache_and_ends_recorded(coeo, other, monkeypatch):
    # Another writer takes the lock as the sync is about to write, and lets go only once the sync
    # has given up and waits to record its run.
    monkeypatch.setattr(locking, "pause", lambda seconds: other.release())

    def on_progress(line):
        if line == "Saving changes":
            other.hold_lock()

    run = sync(coeo, on_progress=on_progress)

    run.refresh_from_db()
    assert (run.outcome, run.error_kind) == (SyncOutcome.FAILED, "db_busy")
    assert not Deal.objects.exists()
    coeo.integration.refresh_from_db()
    assert coeo.integration.sync_state.sync_marks == {} and coeo.integration.sync_state.sync_lease_owner == ""
    assert sync(coeo).outcome == SyncOutcome.SUCCEEDED and Deal.objects.exists()
