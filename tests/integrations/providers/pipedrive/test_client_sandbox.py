"""PipedriveClient against the sandbox in-process (httpx.WSGITransport)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from integrations.providers.pipedrive import ErrorKind, PipedriveClient, PipedriveError
from integrations.providers.pipedrive.costs import token_cost
from integrations.providers.pipedrive.errors import RETRYABLE_KINDS
from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN
from integrations.providers.pipedrive.sandbox.seed import COEO
from tests.sandbox_fixtures import SANDBOX_BASE_URL


def listed(sandbox, *, archived=False, statuses=("open", "won", "lost", "deleted")):
    return {d["id"] for d in sandbox.deals() if d["is_archived"] == archived and d["status"] in statuses}


def make_client(sandbox, fake_clock, **kwargs):
    kwargs.setdefault("page_size", 50)
    return PipedriveClient(
        base_url=SANDBOX_BASE_URL,
        api_token=DEFAULT_TOKEN,
        transport=sandbox.transport(),
        sleep=fake_clock.sleep,
        **kwargs,
    )


# -- iterators over several pages ---------------------------------------------------------


def test_iter_deals_streams_every_page_and_reports_progress(sandbox, sandbox_client):
    pages = []
    deals = list(sandbox_client.iter_deals(on_page=pages.append))

    assert {deal.id for deal in deals} == listed(sandbox)
    assert len(deals) == len({deal.id for deal in deals})
    assert len(pages) > 3
    assert [page.page_number for page in pages] == list(range(1, len(pages) + 1))
    assert pages[-1].records_so_far == len(deals)
    assert all(page.resource == "deals" and page.records_on_page <= 50 for page in pages)
    assert [deal.update_time for deal in deals] == sorted(deal.update_time for deal in deals)


def test_deal_records_are_typed(sandbox_client):
    deal = next(d for d in sandbox_client.iter_deals(statuses=("won",)) if d.custom_fields)
    assert isinstance(deal.value, Decimal) and deal.currency == "SEK"
    assert deal.won_time is not None and deal.won_time.tzinfo is UTC
    assert deal.status == "won" and deal.raw["id"] == deal.id
    assert all(len(key) == 40 for key in deal.custom_fields)


@pytest.mark.parametrize(
    ("method", "page_size", "expected"),
    [
        ("iter_stages", 4, lambda s: {x["id"] for x in s.stages() if not x["is_deleted"]}),
        ("iter_pipelines", 1, lambda s: {x["id"] for x in s.pipelines()}),
        ("iter_persons", 20, lambda s: {x["id"] for x in s.persons()}),
        ("iter_organizations", 20, lambda s: {x["id"] for x in s.organizations()}),
        ("iter_deal_fields", 4, lambda s: {x["field_code"] for x in s.deal_fields()}),
        ("iter_users", 1, lambda s: {x["id"] for x in s.users()}),
    ],
)
def test_other_iterators_return_everything(sandbox, fake_clock, method, page_size, expected):
    with make_client(sandbox, fake_clock, page_size=page_size) as client:
        pages = []
        records = list(getattr(client, method)(on_page=pages.append))
    keys = {getattr(record, "key", None) or record.id for record in records}
    assert keys == expected(sandbox)
    if method != "iter_users":  # v1 /users has no paging: one response holds every user
        assert len(pages) >= 2
    assert pages[-1].records_so_far == len(records)


def test_coeo_stages_keep_their_order_and_rot_settings(sandbox_client):
    stages = [s for s in sandbox_client.iter_stages() if s.pipeline_id == 1]
    names = [s.name for s in sorted(stages, key=lambda s: s.order_nr)]
    assert names == [spec.name for spec in COEO.pipelines[0][1]]
    assert any(s.is_deal_rot_enabled and s.days_to_rotten for s in stages)


def test_current_user_and_single_deal(sandbox, sandbox_client):
    me = sandbox_client.get_current_user()
    assert (me.company_name, me.company_domain, me.id) == ("Coeo AB", "coeo", 1)
    deal = sandbox_client.get_deal(7)
    assert deal.raw == sandbox.deal(7)


# -- filters ------------------------------------------------------------------------------


def test_deleted_deals_only_when_asked(sandbox, sandbox_client):
    without_deleted = {d.id for d in sandbox_client.iter_deals(statuses=("open", "won", "lost"))}
    only_deleted = list(sandbox_client.iter_deals(statuses=("deleted",)))

    assert without_deleted == listed(sandbox, statuses=("open", "won", "lost"))
    assert only_deleted and all(d.is_deleted and d.status == "deleted" for d in only_deleted)
    assert {d.id for d in only_deleted} == listed(sandbox, statuses=("deleted",))


def test_updated_since_is_inclusive_and_sees_mutations(sandbox, sandbox_client):
    moved = sandbox.move_deal(3, stage_id=5)
    won = sandbox.win_deal(4)
    since = datetime.fromisoformat(moved["update_time"].replace("Z", "+00:00"))

    changed = list(sandbox_client.iter_deals(updated_since=since))

    assert {d.id for d in changed} >= {3, 4}
    assert all(d.update_time >= since for d in changed)
    assert since.strftime("%Y-%m-%dT%H:%M:%SZ") == moved["update_time"] < won["update_time"]


def test_pipeline_filter(sandbox, sandbox_client):
    deals = list(sandbox_client.iter_deals(pipeline_id=2))
    expected = {d["id"] for d in sandbox.deals() if d["pipeline_id"] == 2 and not d["is_archived"]}
    assert deals and {d.id for d in deals} == expected


def test_archived_deals_live_apart(sandbox, sandbox_client):
    archived = sandbox.archive_deal(1)
    regular = {d.id for d in sandbox_client.iter_deals()}
    in_archive = list(sandbox_client.iter_archived_deals())

    assert 1 not in regular
    assert {d.id for d in in_archive} == listed(sandbox, archived=True)
    assert all(d.is_archived for d in in_archive)
    since = datetime.fromisoformat(archived["update_time"].replace("Z", "+00:00"))
    assert [d.id for d in sandbox_client.iter_archived_deals(updated_since=since)] == [1]


def test_persons_and_organizations_updated_since(sandbox_client):
    persons = list(sandbox_client.iter_persons())
    cutoff = sorted(p.update_time for p in persons)[len(persons) // 2]
    recent = list(sandbox_client.iter_persons(updated_since=cutoff))
    assert {p.id for p in recent} == {p.id for p in persons if p.update_time >= cutoff}
    orgs = list(sandbox_client.iter_organizations(updated_since=cutoff))
    assert orgs and all(o.update_time >= cutoff and o.address for o in orgs)


def test_naive_updated_since_is_refused(sandbox_client):
    with pytest.raises(ValueError, match="timezone-aware"):
        list(sandbox_client.iter_deals(updated_since=datetime(2026, 1, 1)))


# -- errors -------------------------------------------------------------------------------


def test_wrong_token_is_auth_error(sandbox, fake_clock):
    client = PipedriveClient(base_url=SANDBOX_BASE_URL, api_token="wrong", transport=sandbox.transport())
    with pytest.raises(PipedriveError) as caught:
        client.get_current_user()
    assert caught.value.kind is ErrorKind.AUTH and caught.value.status_code == 401
    assert caught.value.kind not in RETRYABLE_KINDS and "token" in str(caught.value)


def test_missing_deal_is_not_found(sandbox_client):
    with pytest.raises(PipedriveError) as caught:
        sandbox_client.get_deal(999_999)
    assert caught.value.kind is ErrorKind.NOT_FOUND and caught.value.status_code == 404


def test_server_error_is_retried_then_succeeds(sandbox, sandbox_client, fake_clock):
    sandbox.set_faults(server_errors=2)
    assert sandbox_client.get_deal(5).id == 5
    assert len(fake_clock.sleeps) == 2


def test_persistent_server_error_gives_up_as_transient(sandbox, fake_clock):
    sandbox.set_faults(error_rate=1.0)
    with make_client(sandbox, fake_clock, max_retries=3) as client, pytest.raises(PipedriveError) as caught:
        client.get_deal(5)
    assert caught.value.kind is ErrorKind.TRANSIENT and caught.value.kind in RETRYABLE_KINDS
    assert caught.value.status_code == 500 and len(fake_clock.sleeps) == 3
    assert client.stats.calls == 4


def test_backoff_is_bounded_by_total_wait(sandbox, fake_clock):
    sandbox.set_faults(error_rate=1.0)
    with make_client(sandbox, fake_clock, max_retries=50, max_total_wait=10.0) as client:
        with pytest.raises(PipedriveError):
            client.get_deal(5)
    assert sum(fake_clock.sleeps) <= 10.0


def test_malformed_page_is_bad_response(sandbox, sandbox_client):
    sandbox.set_faults(fail_page=("deals", 2))
    seen = []
    with pytest.raises(PipedriveError) as caught:
        for deal in sandbox_client.iter_deals():
            seen.append(deal)
    assert caught.value.kind is ErrorKind.BAD_RESPONSE and caught.value.kind not in RETRYABLE_KINDS
    assert "Body starts" in str(caught.value)
    assert len(seen) == 50


def test_wrong_shaped_listed_record_is_skipped_and_counted(sandbox, sandbox_client):
    """One unreadable row never fails the listing: it is counted, the others come through."""
    before = {deal.id for deal in sandbox_client.iter_deals(sort_by="add_time")}
    sandbox.store.deals[2].id = "not-a-number"
    after = {deal.id for deal in sandbox_client.iter_deals(sort_by="add_time")}
    assert 2 in before and after == before - {2}
    assert sandbox_client.stats.unreadable_records == 1


def test_dropped_connection_is_retried(sandbox, sandbox_client, fake_clock):
    sandbox.set_faults(drop_connection=1)
    assert sandbox_client.get_deal(5).id == 5
    assert len(fake_clock.sleeps) == 1


def test_dropped_connection_every_time_is_transient(sandbox, fake_clock):
    sandbox.set_faults(drop_connection=True)
    with make_client(sandbox, fake_clock, max_retries=2) as client, pytest.raises(PipedriveError) as caught:
        client.get_deal(5)
    assert caught.value.kind is ErrorKind.TRANSIENT and caught.value.status_code is None


def test_cdn_html_403_is_rate_limited_without_retry(sandbox, sandbox_client, fake_clock):
    sandbox.set_faults(cdn_block=True)
    with pytest.raises(PipedriveError) as caught:
        sandbox_client.get_deal(5)
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.status_code == 403
    assert "CDN" in str(caught.value) and fake_clock.sleeps == []


def test_limit_over_500_is_bad_request(sandbox, sandbox_client):
    with pytest.raises(PipedriveError) as caught:
        sandbox_client._get("/api/v2/deals", {"limit": 501})
    assert caught.value.kind is ErrorKind.BAD_REQUEST and caught.value.status_code == 400
    assert "limit" in str(caught.value)


def test_malformed_updated_since_is_bad_request(sandbox_client):
    with pytest.raises(PipedriveError) as caught:
        sandbox_client._get("/api/v2/deals", {"updated_since": "yesterday"})
    assert caught.value.kind is ErrorKind.BAD_REQUEST


# -- rate limits --------------------------------------------------------------------------


def test_429_waits_for_the_reset_then_recovers(sandbox, sandbox_client, fake_clock):
    sandbox.set_rate_limits(burst_limit=3)
    deals = list(sandbox_client.iter_deals())

    assert {d.id for d in deals} == listed(sandbox)
    assert fake_clock.sleeps, "the burst limit should have been hit"
    assert all(2.0 <= wait <= 2.5 for wait in fake_clock.sleeps)  # x-ratelimit-reset is 2 s


def test_429_gives_up_after_bounded_retries(sandbox, fake_clock):
    sandbox.set_rate_limits(burst_limit=0)
    with make_client(sandbox, fake_clock, max_retries=2) as client, pytest.raises(PipedriveError) as caught:
        client.get_deal(2)
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.kind in RETRYABLE_KINDS
    assert not caught.value.budget_exhausted and len(fake_clock.sleeps) == 2
    assert all(2.0 <= wait <= 2.5 for wait in fake_clock.sleeps)


def test_429_reset_beyond_total_wait_raises_at_once(sandbox, fake_clock):
    sandbox.set_rate_limits(burst_limit=1, burst_window_seconds=120)
    with make_client(sandbox, fake_clock, max_total_wait=90.0) as client:
        client.get_deal(1)
        with pytest.raises(PipedriveError) as caught:
            client.get_deal(2)
    assert caught.value.kind is ErrorKind.RATE_LIMITED and fake_clock.sleeps == []


def test_daily_budget_exhaustion_stops_at_once(sandbox, sandbox_client, fake_clock):
    sandbox.set_rate_limits(daily_budget=25)
    with pytest.raises(PipedriveError) as caught:
        list(sandbox_client.iter_deals())
    error = caught.value
    assert error.budget_exhausted and error.kind is ErrorKind.RATE_LIMITED
    assert error.reset_seconds > 3600 and "budget" in str(error)
    assert fake_clock.sleeps == [] and sandbox_client.stats.calls == 3


def test_calls_and_token_cost_are_counted(sandbox, sandbox_client):
    pages = []
    list(sandbox_client.iter_deals(on_page=pages.append))
    list(sandbox_client.iter_stages())
    sandbox_client.get_deal(1)
    sandbox_client.get_current_user()

    expected = len(pages) * 10 + 5 + 1 + 2
    assert sandbox_client.stats.calls == len(pages) + 3
    assert sandbox_client.stats.token_cost == expected == sandbox.rate_limiter.spent
    assert token_cost("GET", "/api/v2/deals/123") == 1
