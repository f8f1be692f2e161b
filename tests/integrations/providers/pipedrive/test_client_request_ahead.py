"""A listing asks for its next page as soon as it knows the cursor, and builds this page's records
while that request travels (PipedriveClient._pages, ahead=True): the same requests as reading one
page after the other, over real HTTP against the sandbox on 127.0.0.1."""

from __future__ import annotations

import math
import time

from integrations.providers.pipedrive import PipedriveClient

PAGE_SIZE = 40


def requests_made(live_sandbox, at_least: int) -> int:
    """The sandbox's count of requests, once it reaches `at_least` (or after 10 s)."""
    log = live_sandbox.sandbox.rate_limiter.log
    deadline = time.monotonic() + 10
    while len(log) < at_least and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(log)


def test_the_next_page_is_asked_for_while_this_one_is_read(live_sandbox):
    listed = [deal for deal in live_sandbox.sandbox.deals() if not deal["is_archived"]]
    with PipedriveClient(base_url=live_sandbox.base_url, api_token=live_sandbox.token, page_size=PAGE_SIZE) as client:
        deals = client.iter_deals()
        next(deals)  # one record of the first page taken, the other 39 not yet
        assert requests_made(live_sandbox, 2) == 2  # the second page is on its way; no third
        rest = list(deals)
    assert 1 + len(rest) == len(listed)
    assert requests_made(live_sandbox, 0) == math.ceil(len(listed) / PAGE_SIZE)  # one per page, no more


def test_a_listing_closed_early_makes_no_request_after_it_is_closed(live_sandbox):
    with PipedriveClient(base_url=live_sandbox.base_url, api_token=live_sandbox.token, page_size=PAGE_SIZE) as client:
        deals = client.iter_deals()
        next(deals)
        deals.close()  # waits for the page already asked for
        made = len(live_sandbox.sandbox.rate_limiter.log)
        time.sleep(0.2)
    assert made == len(live_sandbox.sandbox.rate_limiter.log) == 2
