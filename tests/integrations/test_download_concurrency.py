"""The download fetches every entity at once (over real HTTP against the sandbox on loopback):
the cache ends exactly as the sequential, one-entity-after-the-other download left it, with never
more calls or tokens than it, within the plan's burst limit, and a failing listing stops the
others."""

from __future__ import annotations

import threading
import time
from contextlib import closing

import pytest

from dealflow.models import Activity, Deal, Organization, Owner, Person, Pipeline, Stage
from integrations.models import SyncErrorKind, SyncOutcome
from integrations.providers.pipedrive.pacing import WINDOW_SECONDS, BurstPacer, Interrupted
from integrations.providers.pipedrive.sandbox import Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread
from integrations.sync import download as download_module
from integrations.sync.prefetch import chains_ahead, pages_ahead
from integrations.sync.runner import sync_integration
from tests.integrations.conftest import connect

CACHED_MODELS = (Pipeline, Stage, Owner, Organization, Person, Deal, Activity)
PAGE_SIZE = 40
DEALS = 1_500  # dozens of deal pages of 40
SKIPPED_FIELDS = {"id", "integration", "synced_at"}


def cache_of(integration) -> dict:
    """Every cached row of the integration, keyed by model and remote id, links by remote id."""
    contents = {}
    for model in CACHED_MODELS:
        names = []
        for field in model._meta.concrete_fields:
            if field.name in SKIPPED_FIELDS:
                continue
            names.append(f"{field.name}__remote_id" if field.is_relation else field.name)
        rows = model.objects.filter(integration=integration).values(*names)
        contents[model.__name__] = {row["remote_id"]: row for row in rows}
    return contents


def sequential(monkeypatch):
    """Today's download: the entities one after the other."""

    def one_after_the_other(fetches, *, interrupt=None):
        for index, fetch in enumerate(fetches):
            with closing(pages_ahead(fetch)) as pages:
                for records, info in pages:
                    yield index, records, info

    monkeypatch.setattr(download_module, "chains_ahead", one_after_the_other)


def serve_two(sandbox: Sandbox, page_size: int = PAGE_SIZE):
    """Two integrations of one sandbox served over loopback: one syncs as today, one concurrently."""
    base_url, stop = serve_in_thread(sandbox)
    pair = []
    for slug in ("today", "concurrent"):
        connected = connect(sandbox, slug=slug)
        connected.integration.settings["api_base_url"] = base_url
        connected.integration.save()
        connected.page_size = page_size
        pair.append(connected)
    return pair, stop


@pytest.fixture
def two_served(db):
    pair, stop = serve_two(Sandbox("coeo", deals=DEALS, burst_limit=100_000))
    yield pair
    stop()


def over_http(connected, *, full: bool = False, on_progress=None):
    # No transport: the client talks to the served sandbox over a real socket, with real sleeps.
    return sync_integration(
        integration=connected.integration,
        full=full,
        on_progress=on_progress,
        client_options={"page_size": connected.page_size},
    )


def sync_both(monkeypatch, today, concurrent, *, full: bool):
    with monkeypatch.context() as patched:
        sequential(patched)
        before = over_http(today, full=full)
    after = over_http(concurrent, full=full)
    assert before.outcome == after.outcome == SyncOutcome.SUCCEEDED, (before.error, after.error)
    assert cache_of(concurrent.integration) == cache_of(today.integration)
    assert (after.created, after.updated, after.deleted) == (before.created, before.updated, before.deleted)
    # The contract: never more requests, never more tokens than the sequential download.
    assert after.api_calls <= before.api_calls
    assert after.token_cost <= before.token_cost
    return before, after


def listed_deals(sandbox: Sandbox) -> list[dict]:
    return [deal for deal in sandbox.deals() if not deal["is_archived"]]


def shape(sandbox: Sandbox, *, open_remainder: int, closed_remainder: int) -> None:
    """Add and win deals until the open deals and the closed ones (won, lost, deleted) each fill
    their last page of PAGE_SIZE with the given remainder: the worst case for a listing split by
    status is 1 each (every part ends in a page of one deal)."""
    while (len(listed_deals(sandbox)) - open_remainder - closed_remainder) % PAGE_SIZE:
        sandbox.add_deal(title="Shaping the remainder")
    while (sum(deal["status"] == "open" for deal in listed_deals(sandbox)) - open_remainder) % PAGE_SIZE:
        sandbox.win_deal(next(deal["id"] for deal in listed_deals(sandbox) if deal["status"] == "open"))


@pytest.mark.parametrize(
    ("deals", "open_remainder", "closed_remainder"),
    [
        (30, 5, 1),  # every listing fits in one page or two
        (400, 1, 1),  # each status's last page holds one deal
        (400, 0, 0),  # every page full
        (900, 1, PAGE_SIZE - 1),
    ],
)
def test_never_more_calls_or_tokens_than_the_sequential_download(
    db, monkeypatch, deals, open_remainder, closed_remainder
):
    """First sync, incremental syncs (short and long) and a full resync, over varied sizes and the
    worst-case remainders per status: the cache as the sequential download leaves it, with no more
    calls and no more tokens."""
    sandbox = Sandbox("coeo", deals=deals, burst_limit=100_000)
    shape(sandbox, open_remainder=open_remainder, closed_remainder=closed_remainder)
    (today, concurrent), stop = serve_two(sandbox)
    try:
        sync_both(monkeypatch, today, concurrent, full=False)  # the first sync: everything
        assert cache_of(concurrent.integration)["Deal"]  # not two empty caches

        open_deals = [deal for deal in listed_deals(sandbox) if deal["status"] == "open"]
        sandbox.win_deal(open_deals[0]["id"])
        sandbox.lose_deal(open_deals[1]["id"])
        sandbox.delete_deal(open_deals[2]["id"])
        sandbox.add_deal(title="Arrived later")
        _, after = sync_both(monkeypatch, today, concurrent, full=False)  # a short incremental sync
        assert (after.created, after.updated, after.deleted) != (0, 0, 0)

        for deal in listed_deals(sandbox)[: 5 * PAGE_SIZE // 2]:  # a long one: several pages of changes
            sandbox.update_deal(deal["id"], title="Renamed")
        shape(sandbox, open_remainder=open_remainder, closed_remainder=closed_remainder)
        sync_both(monkeypatch, today, concurrent, full=False)

        sandbox.purge_deal(open_deals[-1]["id"])
        sync_both(monkeypatch, today, concurrent, full=True)
        assert not Deal.objects.filter(integration=concurrent.integration, remote_id=open_deals[-1]["id"]).exists()
    finally:
        stop()


def test_deals_edited_while_the_listings_run_are_cached_as_they_end(two_served, monkeypatch):
    """A deal that moves (to another status, to the top of the update_time order) while the
    listings run is listed again at the end: nothing is missed, nothing unseen is removed."""
    today, concurrent = two_served
    sandbox = today.sandbox
    ids = [d["id"] for d in sandbox.deals() if d["status"] == "open" and not d["is_archived"]]
    edits = iter([("win_deal", ids[0]), ("lose_deal", ids[1]), ("update_deal", ids[2]), ("delete_deal", ids[3])])
    pages_seen = 0

    def edit_while_listing(line):
        nonlocal pages_seen
        if line.startswith("deals:"):
            pages_seen += 1
            if pages_seen % 3 == 0 and (edit := next(edits, None)):
                name, deal_id = edit
                extra = {"title": "Edited while listing"} if name == "update_deal" else {}
                getattr(sandbox, name)(deal_id, **extra)

    run = over_http(concurrent, full=True, on_progress=edit_while_listing)
    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    assert next(edits, None) is None  # every edit happened during the listing
    with monkeypatch.context() as patched:
        sequential(patched)
        assert over_http(today, full=True).outcome == SyncOutcome.SUCCEEDED  # after the edits
    assert cache_of(concurrent.integration) == cache_of(today.integration)
    # The next incremental sync (from the marks this one left) has nothing to add.
    run = over_http(concurrent)
    assert run.outcome == SyncOutcome.SUCCEEDED and run.created == run.updated == 0


def windows_over(log, limit: int) -> list[tuple[float, int]]:
    """Each request (any answer) with the number of requests in the WINDOW_SECONDS it opened, if
    that is over `limit`."""
    times = sorted(moment for moment, _ in log)
    return [
        (start, count)
        for i, start in enumerate(times)
        if (count := sum(1 for moment in times[i:] if moment < start + WINDOW_SECONDS)) > limit
    ]


def test_a_lite_plan_is_never_sent_more_than_20_requests_in_any_2_seconds(db):
    sandbox = Sandbox("coeo", deals=600, burst_limit=20)
    base_url, stop = serve_in_thread(sandbox)
    try:
        connected = connect(sandbox)
        connected.integration.settings["api_base_url"] = base_url
        connected.integration.save()
        connected.page_size = 25  # ~70 calls: several windows' worth at 20 per 2 s
        run = over_http(connected, full=True)
    finally:
        stop()
    log = list(sandbox.rate_limiter.log)
    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    assert len(log) == run.api_calls > 2 * 20
    assert [status for _, status in log if status != 200] == []  # not one 429
    assert windows_over(log, 20) == []


def test_a_lowered_limit_is_waited_out_by_every_chain(two_served, monkeypatch):
    """Another user of the token (or a plan change) leaves fewer requests than the client paced
    for: the 429s are waited out (x-ratelimit-reset) and the sync ends as the sequential one."""
    today, concurrent = two_served
    sandbox = today.sandbox
    with monkeypatch.context() as patched:
        sequential(patched)
        assert over_http(today).outcome == SyncOutcome.SUCCEEDED

    deal_pages = 0

    def lower_for_a_while(line):
        nonlocal deal_pages
        deal_pages += line.startswith("deals:")
        if deal_pages == 1:
            sandbox.set_rate_limits(burst_limit=6)
        elif deal_pages == 8:
            sandbox.set_rate_limits(burst_limit=100_000)

    run = over_http(concurrent, on_progress=lower_for_a_while)
    assert run.outcome == SyncOutcome.SUCCEEDED, run.error
    assert 429 in [status for _, status in sandbox.rate_limiter.log]
    assert cache_of(concurrent.integration) == cache_of(today.integration)


def test_a_failing_chain_stops_the_others_and_the_run_records_it(two_served):
    _, concurrent = two_served
    sandbox = concurrent.sandbox
    sandbox.set_faults(fail_page=("deals", 2))  # a malformed page: not retried
    threads_before = threading.active_count()
    run = over_http(concurrent)
    requests_at_the_end = len(sandbox.rate_limiter.log)
    time.sleep(0.5)
    assert run.outcome == SyncOutcome.FAILED and run.error_kind == SyncErrorKind.BAD_RESPONSE
    assert not Deal.objects.filter(integration=concurrent.integration).exists()  # nothing written
    assert len(sandbox.rate_limiter.log) == requests_at_the_end  # no chain went on
    assert threading.active_count() == threads_before


def test_a_lost_lease_stops_every_chain(two_served, monkeypatch):
    from integrations.sync import runner

    _, concurrent = two_served
    sandbox = concurrent.sandbox
    renewals = []

    def renew_lease(lease):  # lost on the fifth page, while every chain is listing
        renewals.append(lease)
        return len(renewals) < 5

    monkeypatch.setattr(runner, "renew_lease", renew_lease)
    monkeypatch.setattr(runner, "PROGRESS_EVERY_SECONDS", 0.0)
    threads_before = threading.active_count()
    run = over_http(concurrent)
    requests_at_the_end = len(sandbox.rate_limiter.log)
    time.sleep(0.5)
    assert run.error_kind == SyncErrorKind.LEASE_LOST
    assert len(sandbox.rate_limiter.log) == requests_at_the_end
    assert threading.active_count() == threads_before


def test_one_failing_chain_ends_chains_ahead_and_wakes_the_waiting_ones():
    pacer = BurstPacer(limit=1)
    pacer.acquire()  # the one slot is taken: the second chain waits for it
    woken = []

    def failing(on_page):
        yield 1
        raise RuntimeError("401 from Pipedrive")

    def waiting(on_page):
        try:
            pacer.acquire()
        except Interrupted:
            woken.append(True)
            raise
        yield 2

    with pytest.raises(RuntimeError, match="401"):
        list(chains_ahead([failing, waiting], interrupt=pacer.interrupt))
    assert woken == [True]


def test_the_pacer_frees_a_slot_two_seconds_after_the_answer():
    now = [0.0]
    pacer = BurstPacer(limit=2, clock=lambda: now[0])
    pacer.acquire()
    pacer.acquire()
    now[0] = 0.3
    pacer.release({"x-ratelimit-limit": "2", "x-ratelimit-remaining": "1"})
    assert pacer._in_flight + len(pacer._expiries) == 2  # still held: Pipedrive may count it late
    now[0] = 0.3 + WINDOW_SECONDS
    pacer.release({"x-ratelimit-limit": "80"})
    pacer.acquire()  # the first slot is free again, and the plan's limit learned
    assert pacer.limit == 80


def test_short_listings_cost_what_they_did(connected):
    """An incremental sync with nothing new lists each entity once: the same calls as before."""
    assert connected.sync().outcome == SyncOutcome.SUCCEEDED
    run = connected.sync()
    assert run.api_calls == 9  # dealFields, 8 entities, one page each
