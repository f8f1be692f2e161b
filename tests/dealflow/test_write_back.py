"""Write-back from the board over HTTP: each action's form posted to its URL (without htmx and
with), against the sandbox over loopback; a conflict; a Pipedrive refusal shown in the panel;
the permission matrix for every POST URL; the new deal form and the column's "+"."""

from decimal import Decimal

import pytest
from django.urls import reverse

from dealflow.models import Deal
from integrations.models import WriteBackEntry
from integrations.outbound.services import change_deal
from integrations.providers.pipedrive.sandbox.deal_writes import fail_writes
from tests.integrations.outbound import conftest as write_back
from tests.integrations.outbound.conftest import other_stage

# The write-back fixtures (a sandbox over loopback, Coeo synced from it, a user of each kind).
small_sandbox, world = write_back.small_sandbox, write_back.world

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def url(world, action, deal=None):
    deal = deal or world.deal
    return reverse(f"dealflow:deal_{action}", args=[world.company.slug, deal.remote_id])


def seen(deal) -> str:
    return deal.update_time.isoformat()


def fresh(deal) -> Deal:
    return Deal.objects.get(pk=deal.pk)


def test_the_deal_url_uses_the_crm_id_and_shows_the_forms_to_an_editor(client, world):
    client.force_login(world.editor)
    response = client.get(reverse("dealflow:deal", args=[world.company.slug, world.deal.remote_id]))

    assert response.status_code == 200
    page = response.content.decode()
    assert world.deal.title in page and 'name="stage_id"' in page and url(world, "won") in page
    assert f'value="{seen(world.deal)}"' in page  # the update_time the user saw travels with each form


def test_a_viewer_sees_the_deal_without_write_controls(client, world):
    client.force_login(world.viewer)
    page = client.get(reverse("dealflow:deal", args=[world.company.slug, world.deal.remote_id])).content.decode()

    assert world.deal.title in page
    assert 'name="stage_id"' not in page and url(world, "won") not in page and "column-add" not in page


def test_moving_a_stage_without_javascript_redirects_to_the_deal(client, world):
    client.force_login(world.editor)
    target = other_stage(world, world.deal)

    response = client.post(url(world, "stage"), {"stage_id": target["id"], "update_time": seen(world.deal)})

    assert response.status_code == 303
    assert response["Location"] == reverse("dealflow:deal", args=[world.company.slug, world.deal.remote_id])
    assert world.sandbox.deal(world.deal.remote_id)["stage_id"] == target["id"]
    assert fresh(world.deal).stage_remote_id == target["id"]
    page = client.get(response["Location"]).content.decode()
    assert "Stage changed." in page


def test_each_action_with_htmx_answers_with_the_panel_and_refreshes_the_board(client, world):
    client.force_login(world.editor)
    steps = [
        ("won", {}, "won"),
        ("reopen", {}, "open"),
        ("lost", {"lost_reason": "Budget cut"}, "lost"),
        ("reopen", {}, "open"),
    ]
    for action, data, status in steps:
        deal = fresh(world.deal)
        response = client.post(url(world, action), {**data, "update_time": seen(deal)}, headers=HTMX)
        assert response.status_code == 200 and response["HX-Trigger"] == "dealflow:synced", action
        assert 'role="status"' in response.content.decode()
        assert world.sandbox.deal(deal.remote_id)["status"] == status == fresh(deal).status
    assert world.sandbox.deal(world.deal.remote_id)["lost_reason"] is None  # reopening cleared it

    deal = fresh(world.deal)
    data = {
        "value": "2500.50",
        "currency": "eur",
        "expected_close_date": "2031-06-30",
        "owner_id": "",
        "update_time": seen(deal),
    }
    response = client.post(url(world, "edit"), data, headers=HTMX)

    assert response.status_code == 200
    remote = world.sandbox.deal(deal.remote_id)
    assert (remote["value"], remote["currency"], remote["expected_close_date"]) == (2500.5, "EUR", "2031-06-30")
    assert remote["owner_id"] == deal.owner_remote_id  # a blank owner is not sent
    assert fresh(deal).value == Decimal("2500.50")
    assert WriteBackEntry.objects.filter(outcome="succeeded").count() == 5


def test_a_stale_form_writes_nothing_and_says_what_changed(client, world):
    client.force_login(world.editor)
    world.sandbox.update_deal(world.deal.remote_id, title="Renamed in Pipedrive")

    response = client.post(url(world, "won"), {"update_time": seen(world.deal)})

    assert response.status_code == 409
    page = response.content.decode()
    assert "changed in the CRM after you opened it" in page and "Renamed in Pipedrive" in page
    assert world.sandbox.deal(world.deal.remote_id)["status"] == "open"
    assert WriteBackEntry.objects.get().outcome == "conflict"


def test_a_pipedrive_refusal_is_shown_in_the_panel_and_changes_nothing(client, world):
    client.force_login(world.editor)
    fail_writes(world.sandbox, status=400, message="Validation failed: stage_id: Stage is locked")
    target = other_stage(world, world.deal)

    response = client.post(
        url(world, "stage"), {"stage_id": target["id"], "update_time": seen(world.deal)}, headers=HTMX
    )

    assert response.status_code == 200 and "HX-Trigger" not in response
    assert "Pipedrive refused the change: Validation failed: stage_id: Stage is locked." in response.content.decode()
    assert fresh(world.deal).stage_remote_id == world.deal.stage_remote_id
    assert fresh(world.deal).update_time == world.deal.update_time


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("stage", {"stage_id": "999999"}),  # not a stage of the deal's pipeline
        ("stage", {"stage_id": "abc"}),
        ("edit", {"value": "lots"}),
        ("edit", {"currency": "euro"}),
        ("edit", {"expected_close_date": "31/12/2030"}),
        ("edit", {"owner_id": "424242"}),
        ("won", {"update_time": "yesterday"}),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(client, world, action, data):
    client.force_login(world.editor)
    calls = world.sandbox.rate_limiter.spent

    response = client.post(url(world, action), {"update_time": seen(world.deal), **data})

    assert response.status_code == 400
    assert 'class="notice notice--error"' in response.content.decode()
    assert world.sandbox.rate_limiter.spent == calls  # nothing asked of Pipedrive
    assert not WriteBackEntry.objects.exists()


ACTIONS = ["stage", "won", "lost", "reopen", "edit"]


@pytest.mark.parametrize("who", ["anonymous", "outsider", "viewer", "editor", "staff"])
@pytest.mark.parametrize("action", [*ACTIONS, "new"])
def test_permission_matrix(client, world, who, action):
    if who != "anonymous":
        client.force_login(getattr(world, who))
    target = url(world, action) if action != "new" else reverse("dealflow:new_deal", args=[world.company.slug])
    data = {
        "update_time": seen(world.deal),
        "stage_id": other_stage(world, world.deal)["id"],
        "lost_reason": "No budget",
        "value": "10",
        "title": "Matrix deal",
    }
    if action == "reopen":  # a deal to reopen: won in Pipedrive, as the board knows
        change_deal(
            user=world.staff,
            deal=world.deal,
            action="won",
            changes={"status": "won"},
            seen_update_time=world.deal.update_time,
        )
        data["update_time"] = seen(fresh(world.deal))
    entries = WriteBackEntry.objects.count()
    before = world.sandbox.deal(world.deal.remote_id)

    response = client.post(target, data)

    expected = {"anonymous": 302, "outsider": 404, "viewer": 403, "editor": 303, "staff": 303}[who]
    assert response.status_code == expected, response.content[:300]
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    wrote = world.sandbox.deal(world.deal.remote_id) != before or action == "new" and len(world.sandbox.deals()) > 40
    assert wrote == (expected == 303)
    assert WriteBackEntry.objects.count() - entries == (expected == 303)


def test_another_companys_deal_is_404_even_for_its_editor(client, world):
    from tests import factories as make

    other = make.company("Other")
    other.editors.add(world.editor)
    client.force_login(world.editor)

    response = client.post(
        reverse("dealflow:deal_won", args=[other.slug, world.deal.remote_id]), {"update_time": seen(world.deal)}
    )

    assert response.status_code == 404 and world.sandbox.deal(world.deal.remote_id)["status"] == "open"


def test_the_column_plus_opens_the_new_deal_form_preset_to_its_first_stage(client, world):
    client.force_login(world.editor)
    board = client.get(reverse("dealflow:company_board", args=[world.company.slug])).content.decode()
    new_url = reverse("dealflow:new_deal", args=[world.company.slug])
    assert f'href="{new_url}?stage=' in board

    lead = world.sandbox.stages()[0]
    page = client.get(new_url, {"stage": lead["id"]}, headers=HTMX).content.decode()

    assert f'<option value="{lead["id"]}" selected>' in page
    assert 'value="SEK"' in page  # the company's currency


def test_a_new_deal_from_the_board(client, world):
    client.force_login(world.editor)
    stage = world.sandbox.stages()[1]
    data = {
        "title": "Ny kund",
        "stage_id": stage["id"],
        "value": "15000",
        "currency": "SEK",
        "new_organization": "Ny Kund AB",
    }

    response = client.post(reverse("dealflow:new_deal", args=[world.company.slug]), data)

    assert response.status_code == 303
    created = Deal.objects.select_related("organization").get(integration=world.integration, title="Ny kund")
    assert response["Location"] == reverse("dealflow:deal", args=[world.company.slug, created.remote_id])
    assert created.stage_remote_id == stage["id"] and created.organization.name == "Ny Kund AB"
    assert world.sandbox.deal(created.remote_id)["value"] == 15000


def test_a_new_deal_without_a_title_is_refused(client, world):
    client.force_login(world.editor)
    count = len(world.sandbox.deals())

    response = client.post(reverse("dealflow:new_deal", args=[world.company.slug]), {"title": " "})

    assert response.status_code == 400 and len(world.sandbox.deals()) == count
