"""Activities sync like the other records: all at first, then what changed since the last sync
(updated_since), deleted ones removed; over real HTTP against the sandbox. Hostile activity data
is fitted or skipped, never failing the sync."""

from datetime import date, time

import pytest

from dealflow.models import Activity, Deal
from integrations.models import SyncOutcome

pytestmark = pytest.mark.django_db


def remote_activities(sandbox) -> dict[int, dict]:
    return {row["id"]: row for row in sandbox.activities() if not row["is_deleted"]}


def succeeded(run):
    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    return run


def an_open_deal(sandbox) -> dict:
    return next(d for d in sandbox.deals() if d["status"] == "open" and not d["is_archived"])


def test_first_sync_copies_every_activity_with_its_deal(served):
    succeeded(served.sync())

    remote = remote_activities(served.sandbox)
    assert len(remote) > 100
    local = {activity.remote_id: activity for activity in Activity.objects.select_related("deal", "owner")}
    assert set(local) == set(remote)
    for remote_id, row in remote.items():
        activity = local[remote_id]
        assert (activity.subject, activity.type, activity.done) == (row["subject"], row["type"], row["done"])
        assert activity.due_date == date.fromisoformat(row["due_date"])
        assert activity.due_time == (time.fromisoformat(row["due_time"]) if row["due_time"] else None)
        assert activity.deal.remote_id == activity.deal_remote_id == row["deal_id"]
        assert activity.owner.remote_id == row["owner_id"]
        assert (activity.marked_as_done_time is not None) == row["done"]


def test_incremental_sync_asks_for_changes_only_and_applies_them(served):
    succeeded(served.sync())
    sandbox = served.sandbox
    deal = an_open_deal(sandbox)
    upcoming = next(row for row in remote_activities(sandbox).values() if not row["done"])
    added = sandbox.add_activity(subject="Board meeting", type="meeting", deal_id=deal["id"], due_date="2030-01-02")
    sandbox.update_activity(upcoming["id"], done=True)
    requests = []
    original = sandbox.wsgi_app.respond

    def recording(environ):
        requests.append((environ["PATH_INFO"], environ.get("QUERY_STRING", "")))
        return original(environ)

    sandbox.wsgi_app.respond = recording
    run = succeeded(served.sync())

    activity_queries = [query for path, query in requests if path == "/api/v2/activities"]
    assert activity_queries and all("updated_since=" in query for query in activity_queries)
    assert (run.created, run.updated, run.deleted) == (1, 1, 0)
    new = Activity.objects.get(remote_id=added["id"])
    assert (new.subject, new.done, new.due_date) == ("Board meeting", False, date(2030, 1, 2))
    assert new.deal == Deal.objects.get(remote_id=deal["id"])
    done = Activity.objects.get(remote_id=upcoming["id"])
    assert done.done and done.marked_as_done_time is not None

    # Nothing changed since: nothing written.
    assert succeeded(served.sync()).created == 0


def test_a_deleted_activity_is_removed(served):
    succeeded(served.sync())
    sandbox = served.sandbox
    gone = next(iter(remote_activities(sandbox)))
    sandbox.delete_activity(gone)

    # Pipedrive lists no deleted activities, so the full sync's reconciliation removes it (as for
    # persons and organizations); the nightly full sync runs it.
    run = succeeded(served.sync(full=True))

    assert run.deleted == 1
    assert not Activity.objects.filter(remote_id=gone).exists()
    assert Activity.objects.count() == len(remote_activities(sandbox))


def test_an_activity_listed_as_deleted_is_removed_by_an_incremental_sync(served):
    succeeded(served.sync())
    sandbox = served.sandbox
    gone = next(iter(remote_activities(sandbox)))
    # A listing that does carry the deleted flag (as a webhook's or another API version's would).
    row = sandbox.store.activities[gone]
    sandbox.store.activities[gone] = _Listed(row, is_deleted=True, update_time=sandbox.store.stamp())

    run = succeeded(served.sync())

    assert run.deleted == 1
    assert not Activity.objects.filter(remote_id=gone).exists()


class _Listed(dict):
    """A deleted activity that the sandbox's listing still serves: its filter reads is_deleted
    through __getitem__, the JSON response the dict's own items."""

    def __getitem__(self, key):
        return False if key == "is_deleted" else super().__getitem__(key)


def test_hostile_activity_data_is_fitted_or_skipped(served):
    succeeded(served.sync())
    sandbox = served.sandbox
    store = sandbox.store
    ids = sorted(remote_activities(sandbox))[:4]
    hostile = {
        ids[0]: {"subject": {"text": "an object"}, "due_date": "2026-02-30", "due_time": "25:99"},
        ids[1]: {"subject": "x\x00" * 400, "type": "t" * 200, "deal_id": "abc", "owner_id": 2**70},
        ids[2]: {"done": "yes", "marked_as_done_time": "yesterday", "add_time": 12},
        ids[3]: {"deal_id": 10**9},  # a deal that is not (yet) cached
    }
    for activity_id, fields in hostile.items():
        store.activities[activity_id].update(fields, update_time=store.stamp())
    store.activities[10_000] = {**store.activities[ids[3]], "id": None, "update_time": store.stamp()}

    run = succeeded(served.sync())

    assert (run.updated, run.skipped) == (4, 1)  # the one without an id is skipped and counted
    rows = {activity.remote_id: activity for activity in Activity.objects.filter(remote_id__in=ids)}
    assert rows[ids[0]].subject == '{"text": "an object"}'
    assert rows[ids[0]].due_date is None and rows[ids[0]].due_time is None
    assert rows[ids[1]].subject == "x" * 250 and len(rows[ids[1]].type) == 64  # cut to 500, NULs dropped
    assert rows[ids[1]].deal is None and rows[ids[1]].deal_remote_id is None
    assert rows[ids[1]].owner_remote_id is None
    assert rows[ids[2]].done is False and rows[ids[2]].marked_as_done_time is None
    assert rows[ids[3]].deal is None and rows[ids[3]].deal_remote_id == 10**9
