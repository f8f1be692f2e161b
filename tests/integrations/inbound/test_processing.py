"""Processing stored events against the sandbox: each fetches the one record and applies it
through the one write path, whatever order events arrive in."""

import pytest

from dealflow.models import Deal, Person, Stage, StageChange, StageMapping
from integrations.inbound.processing import TryLater
from integrations.models import InboundEvent
from integrations.providers.pipedrive.records import Deal as DealRecord
from integrations.sync.apply import apply_records

DEAL = 1  # open, in stage 7 of pipeline 1 (coeo)


def cached(hooked, deal_id=DEAL) -> Deal:
    return Deal.objects.get(integration=hooked.integration, remote_id=deal_id)


def change(hooked, deal_id=DEAL, **fields):
    """Change a deal in the sandbox and store the webhook Pipedrive would send for it."""
    before = hooked.sandbox.deal(deal_id)
    after = hooked.sandbox.update_deal(deal_id, **fields)
    return hooked.store(hooked.payload("deal", "change", after, before))


def test_a_change_fetches_the_deal_and_applies_it_with_source_webhook(synced):
    event = change(synced, stage_id=9)
    assert synced.process(event) == InboundEvent.Outcome.APPLIED
    assert cached(synced).stage_remote_id == 9
    assert StageChange.objects.get(deal=cached(synced), to_stage_remote_id=9).source == StageChange.Source.WEBHOOK
    assert synced.deal_fetches(DEAL) == 1
    event.refresh_from_db()
    assert event.processed_at is not None and event.outcome == "applied"


def test_an_older_event_arriving_late_changes_nothing(synced):
    older = change(synced, stage_id=8)
    newer = change(synced, stage_id=9)
    # Processed newest first, each on its own (as if the older one had been delivered later).
    InboundEvent.objects.filter(pk=older.pk).update(batch="held")
    assert synced.process(newer) == "applied"
    InboundEvent.objects.filter(pk=older.pk).update(batch="")
    assert synced.process(older) == InboundEvent.Outcome.CURRENT
    assert cached(synced).stage_remote_id == 9
    assert synced.deal_fetches(DEAL) == 1  # the older event's update_time said it was stale


def test_an_older_event_without_update_time_refetches_and_keeps_the_newer_state(synced):
    older = change(synced, stage_id=8)
    payload = dict(older.payload, data=None)
    InboundEvent.objects.filter(pk=older.pk).update(payload=payload, batch="held")
    assert synced.process(change(synced, stage_id=9)) == "applied"
    InboundEvent.objects.filter(pk=older.pk).update(batch="")
    assert synced.process(older) == "applied"
    assert cached(synced).stage_remote_id == 9


def test_a_delete_takes_the_deal_off_the_board(synced):
    before = synced.sandbox.deal(DEAL)
    after = synced.sandbox.delete_deal(DEAL)
    event = synced.store(synced.payload("deal", "delete", after, before))
    assert event.action == "delete" and event.payload["data"] is None
    assert synced.process(event) == "applied"
    assert cached(synced).status == "deleted"


def test_a_deal_pipedrive_no_longer_has_is_removed(synced):
    before = synced.sandbox.deal(DEAL)
    synced.sandbox.purge_deal(DEAL)
    event = synced.store(synced.payload("deal", "delete", before, before))
    assert synced.process(event) == InboundEvent.Outcome.REMOVED
    assert not Deal.objects.filter(integration=synced.integration, remote_id=DEAL).exists()


def test_a_merge_removes_the_merged_deal_and_refreshes_the_one_kept(synced):
    kept = 2
    loser = synced.sandbox.deal(DEAL)
    synced.sandbox.delete_deal(DEAL)
    synced.sandbox.update_deal(kept, value=123456)
    payload = synced.payload("deal", "delete", loser, loser, merged_to_id=str(kept))
    assert synced.process(synced.store(payload)) == "applied"
    assert cached(synced).status == "deleted"
    assert cached(synced, kept).value == 123456


def test_a_deal_in_an_unknown_stage_refreshes_stages_and_pipelines_first(synced):
    stage = synced.sandbox.add_stage(1, "Juridisk granskning")
    assert not Stage.objects.filter(integration=synced.integration, remote_id=stage["id"]).exists()
    event = change(synced, stage_id=stage["id"])
    assert synced.process(event) == "applied"
    local = Stage.objects.get(integration=synced.integration, remote_id=stage["id"])
    assert cached(synced).stage == local  # linked, so the board puts it in a column
    assert StageMapping.objects.filter(stage=local).exists()  # a mapping suggestion for staff
    assert ("GET", "/api/v2/stages") in synced.transport.calls


def test_a_burst_for_one_deal_costs_one_fetch(synced):
    events = [change(synced, title=f"Version {number}") for number in range(5)]
    outcomes = [synced.process(event) for event in events]
    assert outcomes == ["applied", "done", "done", "done", "done"]
    assert synced.deal_fetches(DEAL) == 1
    assert cached(synced).title == "Version 4"
    assert set(InboundEvent.objects.values_list("outcome", flat=True)) == {"applied"}


def test_two_tasks_never_take_the_same_event(synced):
    event = change(synced, title="Once")
    InboundEvent.objects.filter(pk=event.pk).update(batch="another-task")
    assert synced.process(event) == "taken"
    assert synced.deal_fetches(DEAL) == 0


def test_our_own_writes_echo_changes_nothing(synced):
    """Write-back applies Pipedrive's answer at once; the webhook that follows finds it current."""
    before = synced.sandbox.deal(DEAL)
    after = synced.sandbox.update_deal(DEAL, stage_id=9)  # what a PATCH does
    apply_records(
        integration=synced.integration,
        entity="deals",
        records=[DealRecord.from_api(after)],
        source=StageChange.Source.WRITE_BACK,
    )
    changes = list(StageChange.objects.values_list("id", "source"))
    row = Deal.objects.filter(pk=cached(synced).pk).values().get()
    echo = synced.store(synced.payload("deal", "change", after, before))
    assert synced.process(echo) == InboundEvent.Outcome.CURRENT
    assert synced.deal_fetches(DEAL) == 0
    # An echo whose payload lacks update_time is fetched, and still changes nothing.
    bare = synced.payload("deal", "change", after, before)
    bare["data"] = {"id": DEAL}
    assert synced.process(synced.store(bare)) == "applied"
    assert list(StageChange.objects.values_list("id", "source")) == changes
    assert Deal.objects.filter(pk=cached(synced).pk).values().get() == row


def test_a_person_event_fetches_the_person(synced):
    person = synced.sandbox.store.persons[1]
    before = dict(person)
    person.update(name="Eva Larsson-Berg", update_time=synced.sandbox.store.stamp())
    event = synced.store(synced.payload("person", "change", dict(person), before))
    assert synced.process(event) == "applied"
    assert Person.objects.get(integration=synced.integration, remote_id=1).name == "Eva Larsson-Berg"
    assert synced.transport.calls == [("GET", "/api/v2/persons/1")]


def test_a_deal_at_an_unknown_person_fetches_the_person_first(synced):
    store = synced.sandbox.store
    new_id = max(store.persons) + 1
    store.persons[new_id] = {**store.persons[1], "id": new_id, "name": "Ny Kontakt", "update_time": store.stamp()}
    event = change(synced, person_id=new_id)
    assert synced.process(event) == "applied"
    assert cached(synced).person.name == "Ny Kontakt"


def test_stage_events_refresh_stages_and_pipelines(synced):
    before = synced.sandbox.stages()[0]
    after = synced.sandbox.rename_stage(before["id"], "Nya leads")
    event = synced.store(synced.payload("stage", "change", after, before))
    assert synced.process(event) == InboundEvent.Outcome.REFRESHED
    assert Stage.objects.get(integration=synced.integration, remote_id=before["id"]).name == "Nya leads"


def test_a_transient_failure_releases_the_events_for_a_retry(synced):
    event = change(synced, title="Later")
    synced.sandbox.set_faults(server_errors=True)
    with pytest.raises(TryLater):
        synced.process(event)
    event.refresh_from_db()
    assert (event.batch, event.processed_at) == ("", None)
    synced.sandbox.reset_faults()
    assert synced.process(event) == "applied"
    assert cached(synced).title == "Later"


def test_a_permanent_failure_is_recorded_token_free(synced):
    event = change(synced, title="Never")
    synced.sandbox.api_tokens = frozenset({"another-token"})
    assert synced.process(event) == InboundEvent.Outcome.FAILED
    event.refresh_from_db()
    assert "rejected" in event.error and "sandbox-token" not in event.error
    assert cached(synced).title != "Never"


def test_a_spent_daily_budget_stops_webhook_fetches_as_it_stops_the_sync(synced):
    from integrations.services.api_budget import budget_spent_until

    event = change(synced, stage_id=9)
    synced.sandbox.spend_budget(synced.sandbox.rate_limiter.daily_budget)
    assert synced.process(event) == InboundEvent.Outcome.FAILED
    until = budget_spent_until(synced.integration.pk)
    assert until is not None  # the sync, write-back and later events now wait for the reset
    event.refresh_from_db()
    assert "budget" in event.error and cached(synced).stage_remote_id != 9

    fetches = synced.deal_fetches(DEAL)
    later = change(synced, stage_id=8)
    assert synced.process(later) == InboundEvent.Outcome.FAILED
    assert synced.deal_fetches(DEAL) == fetches  # not even tried while the budget is spent
