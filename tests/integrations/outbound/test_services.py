"""The write-back services against the sandbox over loopback HTTP: each action, a conflict, each
kind of Pipedrive error, and the audit trail; nothing changes locally when Pipedrive fails."""

from datetime import timedelta
from decimal import Decimal

import pytest

from dealflow.models import Deal, StageChange
from integrations.models import WriteBackEntry
from integrations.outbound.services import change_deal, create_deal
from integrations.providers.pipedrive.sandbox.deal_writes import fail_writes
from tests.integrations.outbound.conftest import other_stage

pytestmark = pytest.mark.django_db


def cached(deal) -> Deal:
    return Deal.objects.select_related("stage", "integration").get(pk=deal.pk)


def test_a_stage_change_is_written_applied_at_once_and_audited(world):
    deal, target = world.deal, other_stage(world, world.deal)

    result = change_deal(
        user=world.editor,
        deal=deal,
        action="stage",
        changes={"stage_id": target["id"]},
        seen_update_time=deal.update_time,
    )

    assert result.ok, result.message
    assert world.sandbox.deal(deal.remote_id)["stage_id"] == target["id"]
    fresh = cached(deal)
    assert fresh.stage_remote_id == target["id"] and fresh.update_time > deal.update_time
    change = StageChange.objects.filter(deal=fresh).latest("id")
    assert change.source == StageChange.Source.WRITE_BACK and change.to_stage.remote_id == target["id"]
    entry = WriteBackEntry.objects.get()
    assert (entry.outcome, entry.action, entry.username, entry.company) == (
        "succeeded",
        "stage",
        "edith",
        world.company,
    )
    assert entry.before == {"stage_id": deal.stage_remote_id} and entry.after == {"stage_id": target["id"]}


def test_won_lost_with_reason_reopen_and_edit(world):
    deal = world.deal
    for action, changes, expected in (
        ("won", {"status": "won"}, {"status": "won"}),
        ("reopen", {"status": "open"}, {"status": "open", "lost_reason": None}),
        (
            "lost",
            {"status": "lost", "lost_reason": "Too expensive"},
            {"status": "lost", "lost_reason": "Too expensive"},
        ),
        ("reopen", {"status": "open"}, {"status": "open"}),
        (
            "edit",
            {
                "value": Decimal("12345.50"),
                "currency": "EUR",
                "expected_close_date": deal.add_time.date() + timedelta(days=90),
            },
            {
                "value": 12345.5,
                "currency": "EUR",
                "expected_close_date": str(deal.add_time.date() + timedelta(days=90)),
            },
        ),
    ):
        seen = cached(deal)
        result = change_deal(
            user=world.staff, deal=seen, action=action, changes=changes, seen_update_time=seen.update_time
        )
        assert result.ok, (action, result.message)
        remote = world.sandbox.deal(deal.remote_id)
        assert {name: remote[name] for name in expected} == expected, action
        assert cached(deal).status == remote["status"]
    assert cached(deal).value == Decimal("12345.50") and cached(deal).currency == "EUR"
    assert list(WriteBackEntry.objects.order_by("id").values_list("action", "outcome")) == [
        ("won", "succeeded"),
        ("reopen", "succeeded"),
        ("lost", "succeeded"),
        ("reopen", "succeeded"),
        ("edit", "succeeded"),
    ]


def test_a_deal_changed_since_it_was_seen_is_not_written(world):
    deal, target = world.deal, other_stage(world, world.deal)
    world.sandbox.update_deal(deal.remote_id, value=777)  # someone else, in Pipedrive

    result = change_deal(
        user=world.editor,
        deal=deal,
        action="stage",
        changes={"stage_id": target["id"]},
        seen_update_time=deal.update_time,
    )

    assert result.outcome == "conflict" and not result.ok
    assert world.sandbox.deal(deal.remote_id)["stage_id"] == deal.stage_remote_id  # nothing written
    assert any(line.startswith("Value: ") and line.endswith("→ 777") for line in result.differences), result.differences
    assert result.changed_at > deal.update_time
    assert cached(deal).value == 777  # the board now shows the deal as it is
    entry = WriteBackEntry.objects.get()
    assert entry.outcome == "conflict" and "Value" in entry.error


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (
            400,
            "Validation failed: value: Expected number, received string",
            "Pipedrive refused the change: Validation failed",
        ),
        (403, "You do not have permission to edit this deal", "Pipedrive refused access (HTTP 403)"),
        (404, "Deal not found", "no such deal any more"),
    ],
)
def test_pipedrive_refusals_are_plain_words_and_change_nothing_here(world, status, message, expected):
    deal, target = world.deal, other_stage(world, world.deal)
    fail_writes(world.sandbox, status=status, message=message)
    before = (
        Deal.objects.filter(integration=world.integration)
        .order_by("pk")
        .values_list("pk", "stage_id", "update_time", "value")
    )
    before = list(before)

    result = change_deal(
        user=world.editor,
        deal=deal,
        action="stage",
        changes={"stage_id": target["id"]},
        seen_update_time=deal.update_time,
    )

    assert result.outcome == "failed" and expected in result.message, result.message
    if status == 400:
        assert message in result.message
    assert world.sandbox.deal(deal.remote_id)["stage_id"] == deal.stage_remote_id
    after = (
        Deal.objects.filter(integration=world.integration)
        .order_by("pk")
        .values_list("pk", "stage_id", "update_time", "value")
    )
    assert list(after) == before and not StageChange.objects.filter(source=StageChange.Source.WRITE_BACK).exists()
    entry = WriteBackEntry.objects.get()
    assert entry.outcome == "failed" and expected in entry.error


def test_a_rate_limited_write_says_try_again_later(world):
    deal = world.deal
    fail_writes(world.sandbox, status=429, message="Request over limit", times=10)

    result = change_deal(
        user=world.editor, deal=deal, action="won", changes={"status": "won"}, seen_update_time=deal.update_time
    )

    assert result.outcome == "failed" and "limiting requests" in result.message
    assert world.sandbox.deal(deal.remote_id)["status"] == "open" and cached(deal).status == "open"


def test_a_write_that_times_out_says_so_and_changes_nothing_here(world, monkeypatch):
    from integrations.providers.pipedrive import writes

    monkeypatch.setattr(writes, "WRITE_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setitem(writes.WRITE_CLIENT_OPTIONS, "max_retries", 0)
    deal = world.deal
    fail_writes(world.sandbox, delay_seconds=1.0)

    result = change_deal(
        user=world.editor, deal=deal, action="won", changes={"status": "won"}, seen_update_time=deal.update_time
    )

    assert result.outcome == "failed" and "did not answer in time" in result.message
    assert cached(deal).status == "open" and cached(deal).update_time == deal.update_time


def test_a_new_deal_with_a_new_organization_and_person(world):
    stage = world.deal.stage
    result = create_deal(
        user=world.editor,
        integration=world.integration,
        fields={"title": "Ny affär", "stage_id": stage.remote_id, "value": Decimal("5000"), "currency": "SEK"},
        new_organization="Nya Kunden AB",
        new_person="Nina Ny",
    )

    assert result.ok, result.message
    remote = world.sandbox.deal(result.deal_remote_id)
    assert (remote["title"], remote["stage_id"], remote["value"]) == ("Ny affär", stage.remote_id, 5000)
    created = Deal.objects.select_related("organization", "person").get(
        integration=world.integration, remote_id=result.deal_remote_id
    )
    assert created.organization.name == "Nya Kunden AB" and created.person.name == "Nina Ny"
    assert created.person.organization == created.organization
    entry = WriteBackEntry.objects.get()
    assert (entry.action, entry.outcome, entry.deal_remote_id) == ("create", "succeeded", result.deal_remote_id)


def test_a_new_deal_pipedrive_refuses_is_not_created_here(world):
    count = Deal.objects.count()
    result = create_deal(user=world.editor, integration=world.integration, fields={"title": "X", "stage_id": 999_999})

    assert result.outcome == "failed" and "Stage with id 999999 not found" in result.message
    assert Deal.objects.count() == count


def test_nothing_to_change_writes_nothing(world):
    deal = world.deal
    result = change_deal(
        user=world.editor, deal=deal, action="reopen", changes={"status": "open"}, seen_update_time=deal.update_time
    )

    assert result.ok and result.message == "Nothing to change."
    assert world.sandbox.deal(deal.remote_id)["update_time"] == deal.update_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not WriteBackEntry.objects.exists()


def test_the_audit_is_read_only_in_the_admin(client, world):
    from django.contrib.auth.models import User
    from django.urls import reverse

    deal = world.deal
    change_deal(
        user=world.editor, deal=deal, action="won", changes={"status": "won"}, seen_update_time=deal.update_time
    )
    entry = WriteBackEntry.objects.get()
    client.force_login(User.objects.create_superuser("root", "root@example.com", None))

    listing = client.get(reverse("admin:integrations_writebackentry_changelist"))
    page = client.get(reverse("admin:integrations_writebackentry_change", args=[entry.pk]))

    assert listing.status_code == 200 and deal.title in listing.content.decode()
    assert page.status_code == 200 and "status: open → won" in page.content.decode()
    assert client.get(reverse("admin:integrations_writebackentry_add")).status_code == 403
    assert (
        client.post(reverse("admin:integrations_writebackentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert WriteBackEntry.objects.filter(pk=entry.pk, outcome="succeeded").exists()


def test_a_connection_without_a_token_says_so_and_sends_nothing(world):
    world.integration.credentials = {"api_token": ""}
    world.integration.save()
    deal = Deal.objects.select_related("integration").get(pk=world.deal.pk)

    result = change_deal(
        user=world.editor, deal=deal, action="won", changes={"status": "won"}, seen_update_time=deal.update_time
    )

    assert result.outcome == "failed" and "credentials are missing" in result.message
    assert world.sandbox.deal(deal.remote_id)["status"] == "open"


def test_a_spent_daily_budget_is_shared_with_the_sync_and_stops_later_writes(world):
    from integrations.services.api_budget import budget_spent_until

    deal = world.deal
    world.sandbox.spend_budget(world.sandbox.rate_limiter.daily_budget)
    first = change_deal(
        user=world.editor, deal=deal, action="won", changes={"status": "won"}, seen_update_time=deal.update_time
    )
    assert first.outcome == "failed" and "daily API budget" in first.message
    assert budget_spent_until(world.integration.pk) is not None  # the sync waits for the reset too

    # The budget resets at Pipedrive, but this integration waits until the time it was told.
    world.sandbox.rate_limiter.spent = 0
    calls = world.sandbox.rate_limiter.spent
    second = change_deal(
        user=world.editor, deal=deal, action="won", changes={"status": "won"}, seen_update_time=deal.update_time
    )
    assert second.outcome == "failed" and "Try again after" in second.message
    assert world.sandbox.rate_limiter.spent == calls  # nothing was sent
    assert world.sandbox.deal(deal.remote_id)["status"] == "open" and cached(deal).status == "open"
    assert WriteBackEntry.objects.filter(outcome="failed").count() == 2
