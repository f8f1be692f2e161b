"""Hostile Pipedrive data: every value is fitted to its column, flagged and counted, and one bad
record never fails the others. Runs on SQLite and (scripts/with-postgres) PostgreSQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from dealflow.models import Deal, Stage
from integrations.models import Integration, SyncOutcome, SyncState
from integrations.sync.clean import OUT_OF_RANGE_KEY

pytestmark = pytest.mark.django_db

MONEY_FIELD = "Odd money"


def edit_deal(sandbox, deal_id, **fields):
    """Set fields on a sandbox deal, whatever their type, and stamp it as changed."""
    row = sandbox.store.deals[deal_id]
    for name, value in fields.items():
        setattr(row, name, value)
    row.update_time = sandbox.store.stamp()


def hostile_deals(sandbox) -> dict[int, dict]:
    ids = sorted(sandbox.store.deals)[:9]
    hostile = {
        ids[0]: {"value": 1e16, "title": "Nul\x00title", "lost_reason": {"id": 3, "text": "x\x00"}},
        ids[1]: {"value": float("nan"), "probability": -1, "label_ids": ["x", 7]},
        ids[2]: {"value": float("inf"), "probability": 40000, "expected_close_date": "2026-02-30"},
        ids[3]: {"value": 99999999999999999, "currency": "XXXX"},
        ids[4]: {"value": "lots", "custom_fields": {"odd": {"value": "abc", "currency": "ZZZZ\x00"}}},
        ids[5]: {"value": -1e300, "custom_fields": {"odd": float("nan"), "k\x00ey": "v"}},
        ids[6]: {"custom_fields": ["not", "an", "object"], "add_time": "yesterday"},
        ids[7]: {"value": "9999999999999999.999", "owner_id": 2**70},
        ids[8]: {"value": 1234.5},  # a good deal among them
    }
    for deal_id, fields in hostile.items():
        edit_deal(sandbox, deal_id, **fields)
    return hostile


def test_hostile_deal_values_are_fitted_flagged_and_counted(connected):
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    hostile = hostile_deals(connected.sandbox)
    ids = list(hostile)

    run = connected.sync()

    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    assert (run.updated, run.skipped) == (9, 0)
    deals = {deal.remote_id: deal for deal in Deal.objects.filter(remote_id__in=ids)}
    assert len(deals) == 9
    for deal_id in [*ids[:6], ids[7]]:  # value out of range (or not a number): stored as 0 and flagged
        assert deals[deal_id].value == 0, deal_id
        assert "value" in deals[deal_id].raw[OUT_OF_RANGE_KEY], deal_id
    assert deals[ids[8]].value == Decimal("1234.50") and OUT_OF_RANGE_KEY not in deals[ids[8]].raw
    assert deals[ids[0]].title == "Nultitle" and "\x00" not in deals[ids[0]].lost_reason
    assert '"id": 3' in deals[ids[0]].lost_reason  # an object where text belongs: its JSON
    assert deals[ids[1]].probability is None and deals[ids[1]].label_ids == [7]
    assert deals[ids[2]].probability is None and deals[ids[2]].expected_close_date is None
    assert deals[ids[1]].raw[OUT_OF_RANGE_KEY] == ["value", "probability"]
    assert deals[ids[3]].currency == "XXX"
    assert deals[ids[4]].custom_fields == {"odd": {"value": "abc", "currency": "ZZZZ"}}
    assert deals[ids[5]].custom_fields == {"odd": "nan", "key": "v"}
    assert float(deals[ids[5]].raw["value"]) == -1e300  # the payload keeps what Pipedrive sent
    assert deals[ids[6]].custom_fields == {} and deals[ids[6]].add_time is None
    assert deals[ids[7]].owner_remote_id is None
    # seven values, two probabilities, one owner id
    assert run.values_out_of_range == 10
    assert "10 values out of range" in run.progress


def test_hostile_stage_numbers_are_fitted(connected):
    sandbox = connected.sandbox
    stage = next(iter(sandbox.store.stages.values()))
    stage.update(order_nr=2**40, deal_probability=40000, days_to_rotten=-1, name="Ny\x00 stage")
    stage["update_time"] = sandbox.store.stamp()

    run = connected.sync(full=True)

    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    cached = Stage.objects.get(remote_id=stage["id"])
    assert (cached.order_nr, cached.deal_probability, cached.days_to_rotten) == (2**31 - 1, 32767, None)
    assert cached.name == "Ny stage"
    assert sorted(cached.raw[OUT_OF_RANGE_KEY]) == ["days_to_rotten", "deal_probability", "order_nr"]


def test_a_record_whose_id_cannot_be_stored_is_skipped_and_reported(connected):
    sandbox = connected.sandbox
    sandbox.store.add_deal(title="Fine")
    row = sandbox.store.deals.pop(max(sandbox.store.deals))
    row.id = 2**64
    sandbox.store.deals[row.id] = row
    sandbox.store.stamp()

    run = connected.sync(full=True)

    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    assert run.skipped == 1 and run.skipped_ids == {"deals": [2**64]}
    assert Deal.objects.count() == len(sandbox.deals()) - 1


@pytest.mark.parametrize("bad_id", ["x", None, {"id": 1}])
def test_a_listed_record_without_a_usable_id_is_skipped_and_counted(connected, bad_id):
    sandbox = connected.sandbox
    sandbox.store.add_deal(title="No usable id")
    row = sandbox.store.deals[max(sandbox.store.deals)]
    row.id = bad_id  # the sandbox serves it as it is, among the good deals
    sandbox.store.stamp()

    run = connected.sync(full=True)

    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    assert run.skipped == 1
    assert Deal.objects.count() == len(sandbox.deals()) - 1
    assert not Deal.objects.filter(title="No usable id").exists()


def test_board_panel_and_export_show_hostile_deals(connected, client, django_user_model):
    hostile_deals(connected.sandbox)
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    client.force_login(django_user_model.objects.create_user("boss", password="x", is_staff=True))
    slug = connected.integration.company.slug
    assert client.get(reverse("dealflow:board"), follow=True).status_code == 200
    assert client.get(reverse("dealflow:company_board", args=[slug])).status_code == 200
    for deal in Deal.objects.all():
        assert client.get(reverse("dealflow:deal", args=[slug, deal.remote_id])).status_code == 200, deal.raw


def test_a_future_update_time_moves_the_mark_no_further_than_the_run_start(connected):
    connected.sync(full=True)
    sandbox = connected.sandbox
    deal_id = sorted(sandbox.store.deals)[0]
    sandbox.store.deals[deal_id].update_time = "2099-01-01T00:00:00Z"
    sandbox.store.stamp()

    run = connected.sync(full=True)

    mark = datetime.fromisoformat(Integration.objects.get(pk=connected.integration.pk).sync_state.sync_marks["deals"])
    assert mark <= run.started_at + timedelta(minutes=5)
    other = sorted(sandbox.store.deals)[1]
    sandbox.store.update_deal(other, title="Changed after the future-dated deal")
    connected.sync()
    assert Deal.objects.get(remote_id=other).title == "Changed after the future-dated deal"


def test_a_full_sync_repairs_a_mark_in_the_future(connected):
    connected.sync(full=True)
    SyncState.objects.filter(integration_id=connected.integration.pk).update(
        sync_marks={**connected.integration.sync_state.sync_marks, "deals": "2099-01-01T00:00:00Z"}
    )
    connected.integration.refresh_from_db()
    run = connected.sync(full=True)

    mark = datetime.fromisoformat(Integration.objects.get(pk=connected.integration.pk).sync_state.sync_marks["deals"])
    assert mark <= run.started_at + timedelta(minutes=5)
    assert mark.astimezone(UTC).year < 2099


def test_nan_and_infinity_are_kept_as_text_in_the_stored_payload(connected):
    """The canonical encoding is orjson's, which writes NaN as null: the client marks what it
    decodes (fingerprint.NonFinite) so the payload keeps "nan"/"inf", as with the json module."""
    sandbox = connected.sandbox
    assert connected.sync(full=True).outcome == SyncOutcome.SUCCEEDED
    ids = sorted(sandbox.store.deals)[:2]
    edit_deal(sandbox, ids[0], value=float("nan"), custom_fields={"odd": float("-inf")})
    edit_deal(sandbox, ids[1], value=float("inf"), title="Ünïcode")

    assert connected.sync().outcome == SyncOutcome.SUCCEEDED

    raw = dict(Deal.objects.filter(remote_id__in=ids).values_list("remote_id", "raw"))
    assert raw[ids[0]]["value"] == "nan" and raw[ids[0]]["custom_fields"] == {"odd": "-inf"}
    assert raw[ids[1]]["value"] == "inf" and raw[ids[1]]["title"] == "Ünïcode"
    again = connected.sync(full=True)  # the same payloads: the same fingerprints
    assert (again.outcome, again.updated, again.created) == (SyncOutcome.SUCCEEDED, 0, 0)
