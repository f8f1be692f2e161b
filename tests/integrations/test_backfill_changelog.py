"""GET /v1/deals/{id}/changelog: the sandbox serves it in Pipedrive's documented shape, from the
seed and from later changes, behind the same token and budget as its other endpoints; the
provider reads a deal's stage changes from it over loopback HTTP, page by page, counting 20 tokens
a page."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import jsonschema
import pytest

from integrations.providers.base import ErrorKind, ProviderError
from integrations.providers.pipedrive.client import PipedriveClient
from integrations.providers.pipedrive.provider import PipedriveProvider
from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN, Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread
from tests.integrations.providers.pipedrive.openapi_schema import response_schema

HEADERS = {"x-api-token": DEFAULT_TOKEN}


@pytest.fixture
def served():
    sandbox = Sandbox("coeo", deals=30, burst_limit=100_000)
    base_url, stop = serve_in_thread(sandbox)
    yield sandbox, base_url
    stop()


def changelog(base_url: str, deal_id: int, **params) -> httpx.Response:
    return httpx.get(f"{base_url}/v1/deals/{deal_id}/changelog", params=params, headers=HEADERS)


def moved_deal(sandbox: Sandbox) -> dict:
    """A seeded deal that passed through more than two stages."""
    for deal in sandbox.deals():
        entries = [e for e in sandbox.changelog.entries(deal["id"]) if e["field_key"] == "stage_id"]
        if len(entries) >= 2:
            return deal
    raise AssertionError("no seeded deal moved twice")


def test_the_changelog_matches_pipedrive_s_documented_shape(pipedrive_openapi, served):
    sandbox, base_url = served
    deal = moved_deal(sandbox)
    response = changelog(base_url, deal["id"])
    assert response.status_code == 200
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(response.headers)
    body = response.json()
    schema = response_schema(pipedrive_openapi["v1"], "/deals/{id}/changelog", "get")
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(body))
    assert not errors, errors[:3]
    keys = [entry["field_key"] for entry in body["data"]]
    assert "stage_id" in keys and {"title", "value"} <= set(keys)
    times = [entry["time"] for entry in body["data"]]
    assert times == sorted(times, reverse=True), "newest first"
    for entry in body["data"]:
        datetime.strptime(entry["time"], "%Y-%m-%d %H:%M:%S")
    last = next(entry for entry in body["data"] if entry["field_key"] == "stage_id")
    assert int(last["new_value"]) == deal["stage_id"]
    assert last["time"] == deal["stage_change_time"].replace("T", " ").removesuffix("Z")


def test_the_changelog_is_the_same_for_the_same_seed():
    first, second = Sandbox("coeo", deals=30), Sandbox("coeo", deals=30)
    for deal_id in first.store.deals:
        assert first.changelog.entries(deal_id) == second.changelog.entries(deal_id)
    assert Sandbox("acme", deals=30).changelog.entries(3) != first.changelog.entries(3)


def test_it_pages_by_cursor_and_refuses_a_bad_cursor_or_limit(served):
    sandbox, base_url = served
    deal = moved_deal(sandbox)
    every = changelog(base_url, deal["id"]).json()["data"]
    served_entries, cursor = [], None
    while True:
        body = changelog(base_url, deal["id"], limit=1, **({"cursor": cursor} if cursor else {})).json()
        served_entries += body["data"]
        cursor = body["additional_data"]["next_cursor"]
        if cursor is None:
            break
    assert served_entries == every and len(every) >= 3
    assert changelog(base_url, deal["id"], cursor="not-a-cursor").status_code == 400
    assert changelog(base_url, deal["id"], limit=0).status_code == 400


def test_it_needs_the_token_costs_20_and_answers_429_when_the_budget_is_spent(served):
    sandbox, base_url = served
    assert httpx.get(f"{base_url}/v1/deals/1/changelog").status_code == 401
    assert changelog(base_url, 99_999).status_code == 404
    left = int(changelog(base_url, 1).headers["x-daily-requests-left"])
    assert int(changelog(base_url, 2).headers["x-daily-requests-left"]) == left - 20
    sandbox.set_rate_limits(daily_budget=sandbox.rate_limiter.spent + 19)
    refused = changelog(base_url, 3)
    assert refused.status_code == 429 and refused.headers["x-daily-requests-left"] == "19"


def test_moves_through_the_control_api_and_write_back_appear_in_it(served):
    sandbox, base_url = served
    deal = sandbox.deal(1)
    moved = httpx.post(f"{base_url}/_sandbox/move_deal", json={"deal_id": 1, "stage_id": 7}, headers=HEADERS)
    assert moved.status_code == 200
    newest = changelog(base_url, 1).json()["data"][0]
    assert (newest["field_key"], newest["old_value"], newest["new_value"]) == (
        "stage_id",
        str(deal["stage_id"]),
        "7",
    )
    patched = httpx.patch(f"{base_url}/api/v2/deals/1", json={"stage_id": 8, "title": "Renamed"}, headers=HEADERS)
    assert patched.status_code == 200
    entries = changelog(base_url, 1).json()["data"]
    changed = {(e["field_key"], e["old_value"], e["new_value"]) for e in entries if e["time"] == entries[0]["time"]}
    assert changed == {("stage_id", "7", "8"), ("title", deal["title"], "Renamed")}


def test_the_provider_reads_stage_changes_page_by_page_over_loopback(served):
    sandbox, base_url = served
    deal = moved_deal(sandbox)
    logged = [e for e in sandbox.changelog.entries(deal["id"]) if e["field_key"] == "stage_id"]
    pages = -(-len(sandbox.changelog.entries(deal["id"])) // 2)
    with PipedriveClient(base_url=base_url, api_token=DEFAULT_TOKEN, page_size=2) as client:
        changes = list(PipedriveProvider().iter_stage_changes(client, deal["id"]))
        assert (client.stats.calls, client.stats.token_cost) == (pages, 20 * pages)
        with pytest.raises(ProviderError) as gone:
            list(PipedriveProvider().iter_stage_changes(client, 99_999))
    assert gone.value.kind is ErrorKind.NOT_FOUND and DEFAULT_TOKEN not in str(gone.value)
    assert [(c.from_stage_id, c.to_stage_id) for c in changes] == [
        (int(e["old_value"]), int(e["new_value"])) for e in logged
    ]
    assert changes[0].changed_at == datetime.strptime(logged[0]["time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert all(not change.problem for change in changes)
