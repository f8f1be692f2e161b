"""Deal custom field definitions are stored by the sync, so one record is parsed from the database
alone: no call to Pipedrive's /dealFields."""

import pytest

from dealflow.models import CustomFieldDefinition, Deal
from integrations.models import SyncOutcome
from integrations.providers.pipedrive import records
from integrations.providers.pipedrive.client import PipedriveClient
from integrations.providers.pipedrive.custom_fields import fetch_custom_fields, stored_custom_fields
from integrations.providers.pipedrive.provider import PipedriveProvider
from integrations.sync.apply import apply_records

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(connected):
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    return connected


def deal_spec(specs):
    return next(spec for spec in specs if spec.key == "deals")


def test_the_sync_stores_a_row_per_custom_field_with_its_options(synced):
    custom = {f["field_code"]: f for f in synced.sandbox.deal_fields() if f["is_custom_field"]}
    stored = CustomFieldDefinition.objects.filter(integration=synced.integration)

    assert {row.key: (row.name, row.field_type) for row in stored} == {
        code: (f["field_name"], f["field_type"]) for code, f in custom.items()
    }
    enum = next(f for f in custom.values() if f["options"])
    assert stored.get(key=enum["field_code"]).options == [[o["id"], o["label"]] for o in enum["options"]]


def test_a_renamed_field_is_stored_renamed_by_the_next_sync(synced):
    field = next(f for f in synced.sandbox.deal_fields() if f["is_custom_field"])
    synced.sandbox.rename_deal_field(field["field_code"], "Leadkälla")

    assert synced.sync().outcome == SyncOutcome.SUCCEEDED

    assert CustomFieldDefinition.objects.get(key=field["field_code"]).name == "Leadkälla"


def test_a_single_deal_is_parsed_from_the_database_alone(synced, django_assert_num_queries):
    payload = next(d for d in synced.sandbox.deals() if d["custom_fields"])
    provider = synced.integration.provider_api

    with django_assert_num_queries(1):  # the stored definitions; nothing else, no HTTP client at all
        specs = provider.stored_specs(synced.integration)
    columns = deal_spec(specs).columns(records.Deal.from_api(payload))

    # Named and labelled exactly as the sync stored the same deal, with the same fingerprint salt
    # (so a webhook's deal is not seen as changed by the next sync only for that).
    assert columns["custom_fields"] == Deal.objects.get(remote_id=payload["id"]).custom_fields
    fetched = fetch_custom_fields(provider.client(synced.integration, transport=synced.sandbox.transport()), print)
    assert deal_spec(specs).fingerprint_salt == fetched.version


def test_applying_a_deal_never_calls_pipedrive(synced, monkeypatch):
    def no_calls(*args, **kwargs):
        raise AssertionError("called Pipedrive")

    monkeypatch.setattr(PipedriveClient, "iter_deal_fields", no_calls)
    monkeypatch.setattr(PipedriveProvider, "client", no_calls)
    deal_id = next(d["id"] for d in synced.sandbox.deals() if d["custom_fields"])
    named_by_sync = Deal.objects.get(remote_id=deal_id).custom_fields
    payload = synced.sandbox.update_deal(deal_id, title="Renamed by a webhook")

    tally = apply_records(integration=synced.integration, entity="deals", records=[records.Deal.from_api(payload)])

    assert tally.updated == 1
    deal = Deal.objects.get(remote_id=deal_id)
    assert deal.title == "Renamed by a webhook" and deal.custom_fields == named_by_sync != {}


def test_no_stored_definitions_parse_with_the_hashes_kept(connected, django_assert_num_queries):
    with django_assert_num_queries(1):
        custom_fields = stored_custom_fields(connected.integration.pk)
    assert custom_fields.named({"b365bd504e03df682066f7ad624d1858d47f315e": 2}) == {
        "b365bd504e03df682066f7ad624d1858d47f315e": 2
    }
