"""Incremental syncs pick up every kind of upstream change, and a no-op sync writes nothing."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealflow.models import Deal, DealStatus, Stage, StageChange, StageMapping
from dealflow.stages import MappingTarget
from integrations.models import SyncOutcome
from integrations.providers.pipedrive.costs import TOKEN_COSTS

pytestmark = pytest.mark.django_db

CACHE_TABLES = ("dealflow_",)


@pytest.fixture
def synced(connected):
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    return connected


def open_deal(sandbox, *, stage_name=None):
    stages = {s["id"]: s["name"] for s in sandbox.stages()}
    return next(
        d
        for d in sandbox.deals()
        if d["status"] == "open"
        and not d["is_archived"]
        and (stage_name is None or stages[d["stage_id"]] == stage_name)
    )


def local(remote_id):
    return Deal.objects.get(remote_id=remote_id)


def cache_writes(queries):
    return [
        q["sql"]
        for q in queries
        if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE") and any(t in q["sql"] for t in CACHE_TABLES)
    ]


def test_no_op_sync_writes_nothing_and_costs_one_list_call_per_entity(synced):
    with CaptureQueriesContext(connection) as queries:
        run = synced.sync()
    assert run.outcome == SyncOutcome.SUCCEEDED
    assert cache_writes(queries.captured_queries) == []
    assert (run.created, run.updated, run.deleted) == (0, 0, 0)
    assert run.unchanged > 0
    # dealFields, pipelines, stages, users, organizations, persons, deals, archived deals, activities
    assert run.api_calls == 9
    list_calls = [
        "/api/v2/dealFields",
        "/api/v2/pipelines",
        "/api/v2/stages",
        "/v1/users",
        "/api/v2/organizations",
        "/api/v2/persons",
        "/api/v2/deals",
        "/api/v2/deals/archived",
        "/api/v2/activities",
    ]
    assert run.token_cost == sum(TOKEN_COSTS[("GET", path)] for path in list_calls)


def test_edited_and_new_deals(synced):
    sandbox = synced.sandbox
    edited = open_deal(sandbox)
    sandbox.update_deal(edited["id"], title="Renamed deal", value=12345)
    new = sandbox.add_deal(title="Brand new deal", value=999)

    run = synced.sync()

    assert (run.created, run.updated, run.deleted) == (1, 1, 0)
    assert local(edited["id"]).title == "Renamed deal"
    assert local(edited["id"]).value == Decimal("12345")
    assert local(new["id"]).title == "Brand new deal"
    assert local(new["id"]).stage.remote_id == new["stage_id"]


def test_moved_deal_records_a_stage_change(synced):
    sandbox = synced.sandbox
    deal = open_deal(sandbox, stage_name="Bokat möte")
    target = next(s for s in sandbox.stages() if s["name"] == "Offert")
    moved = sandbox.move_deal(deal["id"], target["id"])

    synced.sync()

    change = StageChange.objects.get()
    assert change.deal == local(deal["id"])
    assert (change.from_stage.name, change.to_stage.name) == ("Bokat möte", "Offert")
    assert (change.from_stage_remote_id, change.to_stage_remote_id) == (deal["stage_id"], target["id"])
    assert change.changed_at.strftime("%Y-%m-%dT%H:%M:%SZ") == moved["stage_change_time"]
    assert local(deal["id"]).stage.name == "Offert"


def test_won_deleted_and_archived_deals(synced):
    sandbox = synced.sandbox
    open_deals = [d for d in sandbox.deals() if d["status"] == "open" and not d["is_archived"]]
    won, deleted, archived = open_deals[:3]
    sandbox.win_deal(won["id"])
    sandbox.delete_deal(deleted["id"])
    sandbox.archive_deal(archived["id"])

    run = synced.sync()

    assert local(won["id"]).status == DealStatus.WON and local(won["id"]).won_time is not None
    assert local(deleted["id"]).status == DealStatus.DELETED
    assert local(archived["id"]).is_archived
    assert (run.updated, run.deleted) == (2, 1)


def test_renamed_stage_keeps_its_mapping(synced):
    sandbox = synced.sandbox
    stage = next(s for s in sandbox.stages() if s["name"] == "Inbjuden")
    mapping = StageMapping.objects.get(stage__remote_id=stage["id"])
    mapping.target, mapping.is_confirmed = MappingTarget.LEAD, True
    mapping.save()
    sandbox.rename_stage(stage["id"], "Förhandling inbjuden")  # a name the rules would map elsewhere

    synced.sync()

    mapping.refresh_from_db()
    assert mapping.stage.name == "Förhandling inbjuden"
    assert (mapping.target, mapping.is_confirmed) == (MappingTarget.LEAD, True)


def test_new_stages_get_a_suggestion_or_stay_unmapped(synced):
    sandbox = synced.sandbox
    pipeline_id = sandbox.pipelines()[0]["id"]
    suggested = sandbox.add_stage(pipeline_id, "Demo bokad")
    unknown = sandbox.add_stage(pipeline_id, "Kaffe med VD")
    deal = sandbox.add_deal(title="In an unmapped stage", stage_id=unknown["id"])

    synced.sync()

    assert StageMapping.objects.get(stage__remote_id=suggested["id"]).target == MappingTarget.MEETING
    unmapped = StageMapping.objects.get(stage__remote_id=unknown["id"])
    assert (unmapped.target, unmapped.is_confirmed) == (MappingTarget.UNMAPPED, False)
    assert local(deal["id"]).stage == Stage.objects.get(remote_id=unknown["id"])  # kept, not dropped


def test_second_sync_after_changes_is_a_no_op_again(synced):
    synced.sandbox.add_deal(title="One more")
    synced.sync()
    run = synced.sync()
    assert (run.created, run.updated, run.deleted) == (0, 0, 0)
