"""The one write path (integrations/sync/apply.py): a webhook's record and the sync share one rule,
so a sync that read a page before a newer change was applied never reverts it."""

import pytest

from dealflow.models import Deal, Person, StageChange
from integrations.models import SyncOutcome
from integrations.providers.pipedrive import records
from integrations.sync.apply import apply_records
from integrations.sync.runner import sync_integration

pytestmark = pytest.mark.django_db

WEBHOOK = StageChange.Source.WEBHOOK


@pytest.fixture
def synced(connected):
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    return connected


def open_deal(sandbox) -> dict:
    return next(d for d in sandbox.deals() if d["status"] == "open" and not d["is_archived"])


def other_stages(sandbox, deal: dict) -> list[int]:
    same_pipeline = (s for s in sandbox.stages() if s["pipeline_id"] == deal["pipeline_id"])
    return [s["id"] for s in same_pipeline if s["id"] != deal["stage_id"]]


def from_webhook(connected, payload: dict):
    return apply_records(
        integration=connected.integration, entity="deals", records=[records.Deal.from_api(payload)], source=WEBHOOK
    )


def moves(remote_id: int) -> list[tuple]:
    return list(
        StageChange.objects.filter(deal__remote_id=remote_id)
        .order_by("id")
        .values_list("from_stage_remote_id", "to_stage_remote_id", "source")
    )


def test_a_webhook_change_applied_while_a_sync_runs_survives_the_sync_write(synced):
    sandbox = synced.sandbox
    deal = open_deal(sandbox)
    was, read_by_sync, moved_by_webhook = deal["stage_id"], *other_stages(sandbox, deal)[:2]
    sandbox.move_deal(deal["id"], stage_id=read_by_sync)  # what the sync's page will hold

    def webhook_between_download_and_write(line: str) -> None:
        if line == "Saving changes":  # every page downloaded, nothing written yet
            newer = sandbox.move_deal(deal["id"], stage_id=moved_by_webhook)
            assert from_webhook(synced, newer).updated == 1

    client_options = {"transport": sandbox.transport(), "page_size": 50, "sleep": synced.sleeps.append}
    run = sync_integration(
        integration=synced.integration, on_progress=webhook_between_download_and_write, client_options=client_options
    )

    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    cached = Deal.objects.get(remote_id=deal["id"])
    assert cached.stage_remote_id == moved_by_webhook and cached.stage.remote_id == moved_by_webhook
    # The sync's older move (was -> read_by_sync) was not written, so it is not recorded either.
    assert moves(deal["id"]) == [(was, moved_by_webhook, WEBHOOK)]
    assert synced.sync().outcome == SyncOutcome.SUCCEEDED  # and the next sync agrees
    assert Deal.objects.get(remote_id=deal["id"]).stage_remote_id == moved_by_webhook


def test_a_stage_change_applied_through_the_write_path_keeps_its_source(synced):
    deal = open_deal(synced.sandbox)
    target = other_stages(synced.sandbox, deal)[0]

    tally = from_webhook(synced, synced.sandbox.move_deal(deal["id"], stage_id=target))

    assert tally.updated == 1
    cached = Deal.objects.get(remote_id=deal["id"])
    assert cached.stage.remote_id == target  # linked, not only its remote id
    assert moves(deal["id"]) == [(deal["stage_id"], target, WEBHOOK)]


def test_an_older_version_applied_after_a_newer_one_changes_nothing(synced):
    deal = open_deal(synced.sandbox)
    first, second = other_stages(synced.sandbox, deal)[:2]
    older = synced.sandbox.move_deal(deal["id"], stage_id=first)
    newer = synced.sandbox.move_deal(deal["id"], stage_id=second)

    from_webhook(synced, newer)
    from_webhook(synced, older)  # a late, out-of-order delivery

    assert Deal.objects.get(remote_id=deal["id"]).stage_remote_id == second
    assert moves(deal["id"]) == [(deal["stage_id"], second, WEBHOOK)]


def test_a_record_that_arrives_late_is_linked_to_the_rows_pointing_at_it(synced):
    deal = Deal.objects.exclude(person=None).first()
    person_remote_id = deal.person_remote_id
    Person.objects.filter(remote_id=person_remote_id).delete()  # as if it had not arrived yet
    payload = next(p for p in synced.sandbox.persons() if p["id"] == person_remote_id)

    tally = apply_records(
        integration=synced.integration, entity="persons", records=[records.Person.from_api(payload)], source=WEBHOOK
    )

    assert tally.created == 1
    assert Deal.objects.get(pk=deal.pk).person.remote_id == person_remote_id


def test_an_unknown_entity_is_refused_and_changes_nothing(synced):
    with pytest.raises(ValueError, match="No entity 'invoices'"):
        apply_records(integration=synced.integration, entity="invoices", records=[], source=WEBHOOK)


def test_a_webhook_payload_with_nan_is_stored_like_a_synced_one(synced):
    """A webhook's JSON is not decoded by the Pipedrive client, so its NaN is a plain float: the
    payload is walked before orjson (which would write null) encodes it."""
    deal = {**open_deal(synced.sandbox), "value": float("nan"), "update_time": "2030-01-01T00:00:00Z"}
    deal["custom_fields"] = {"odd": float("inf")}

    assert from_webhook(synced, deal).updated == 1

    raw = Deal.objects.get(remote_id=deal["id"]).raw
    assert raw["value"] == "nan" and raw["custom_fields"] == {"odd": "inf"}
