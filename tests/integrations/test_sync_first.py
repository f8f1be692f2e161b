"""A first sync copies the sandbox exactly."""

from collections import Counter
from decimal import Decimal

import pytest

from dealflow.models import Deal, Organization, Owner, Person, Pipeline, Stage, StageMapping
from dealflow.stages import MappingTarget
from integrations.models import SyncOutcome, SyncRun

pytestmark = pytest.mark.django_db


def remote_deal_summary(sandbox):
    return Counter((d["stage_id"], d["status"], d["is_archived"]) for d in sandbox.deals())


def local_deal_summary(integration):
    rows = Deal.objects.filter(integration=integration).values_list("stage_remote_id", "status", "is_archived")
    return Counter(rows)


def test_first_sync_matches_the_sandbox(connected):
    sandbox, integration = connected.sandbox, connected.integration

    run = connected.sync()

    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    assert local_deal_summary(integration) == remote_deal_summary(sandbox)
    remote_values = {d["id"]: (Decimal(str(d["value"])), d["currency"], d["title"]) for d in sandbox.deals()}
    local_values = {
        remote_id: (value, currency, title)
        for remote_id, value, currency, title in Deal.objects.values_list("remote_id", "value", "currency", "title")
    }
    assert local_values == remote_values
    assert Stage.objects.count() == len(sandbox.stages())
    assert Pipeline.objects.count() == len(sandbox.pipelines())
    assert Owner.objects.count() == len(sandbox.users())
    assert Organization.objects.count() == len(sandbox.organizations())
    assert Person.objects.count() == len(sandbox.persons())
    total = sum(
        len(rows)
        for rows in (
            sandbox.stages(),
            sandbox.pipelines(),
            sandbox.users(),
            sandbox.organizations(),
            sandbox.persons(),
            sandbox.deals(),
            sandbox.activities(),
        )
    )
    assert (run.created, run.updated, run.deleted, run.unchanged) == (total, 0, 0, 0)
    assert run.api_calls > 0 and run.token_cost > 0


def test_first_sync_links_deals_to_cached_rows(connected):
    connected.sync()
    for deal in Deal.objects.select_related("stage", "pipeline", "owner", "organization", "person"):
        assert deal.stage.remote_id == deal.stage_remote_id
        assert deal.pipeline.remote_id == deal.pipeline_remote_id
        assert deal.owner.remote_id == deal.owner_remote_id
        assert (deal.organization.remote_id if deal.organization else None) == deal.org_remote_id
        assert (deal.person.remote_id if deal.person else None) == deal.person_remote_id


def test_custom_fields_are_keyed_by_field_name(connected):
    connected.sync()
    names = {f["field_name"] for f in connected.sandbox.deal_fields() if f.get("is_custom_field")}
    keys = set().union(*(set(d.custom_fields) for d in Deal.objects.all()))
    assert keys and keys <= names


def test_option_fields_hold_their_labels(connected):
    connected.sync()
    source = next(f for f in connected.sandbox.deal_fields() if f["field_name"] == "Källa")
    labels = {option["label"] for option in source["options"]}
    stored = {d.custom_fields.get("Källa") for d in Deal.objects.all()} - {None}
    assert stored and stored <= labels


def test_a_renamed_custom_field_renames_it_on_every_deal(connected):
    connected.sync()
    source = next(f for f in connected.sandbox.deal_fields() if f["field_name"] == "Källa")
    connected.sandbox.rename_deal_field(source["field_code"], "Leadkälla")

    run = connected.sync()

    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    assert not Deal.objects.filter(custom_fields__has_key="Källa").exists()
    assert Deal.objects.filter(custom_fields__Leadkälla="Webb").exists()


def test_every_stage_gets_a_mapping_suggested_by_the_rules(connected):
    connected.sync()
    mappings = {m.stage.name: m for m in StageMapping.objects.select_related("stage")}
    assert len(mappings) == Stage.objects.count()
    assert mappings["Bokat möte"].target == MappingTarget.MEETING
    assert mappings["Bokat möte"].suggested_target == MappingTarget.MEETING
    assert not mappings["Bokat möte"].is_confirmed
    assert mappings["Inbjuden"].target == MappingTarget.UNMAPPED
    assert all(m.integration_id == connected.integration.pk for m in mappings.values())


def test_run_and_integration_record_the_sync(connected):
    run = connected.sync()
    integration = connected.integration
    integration.refresh_from_db()
    assert SyncRun.objects.get() == run
    assert run.kind == SyncRun.Kind.INCREMENTAL and run.finished_at >= run.started_at
    assert run.progress.startswith("Done:")
    assert integration.sync_state.last_sync_outcome == SyncOutcome.SUCCEEDED
    assert integration.sync_state.last_successful_sync_at == run.finished_at
    assert set(integration.sync_state.sync_marks) == {
        "organizations",
        "persons",
        "deals",
        "archived_deals",
        "activities",
        "custom_fields_version",
    }
    assert integration.sync_state.sync_lease_owner == ""
