"""The benchmarks' sandbox (cache_pages=True) answers exactly what the plain one answers, request
for request: bodies, cursors, headers, rate-limit counters, token costs, errors and faults."""

import io
import json

import pytest

from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN, Sandbox, endpoints

LISTINGS = ("/api/v2/deals", "/api/v2/deals/archived", "/api/v2/persons", "/api/v2/organizations", "/api/v2/activities")


def twins() -> tuple[Sandbox, Sandbox]:
    # The same seed and a clock that stands still: the rate-limit headers depend on nothing else.
    return tuple(
        Sandbox("coeo", deals=1_200, burst_limit=1_000_000, clock=lambda: 0.0, cache_pages=cached)
        for cached in (False, True)
    )


def get(sandbox: Sandbox, path: str, query: str = "") -> tuple[int, dict, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_X_API_TOKEN": DEFAULT_TOKEN,
        "wsgi.input": io.BytesIO(),
    }
    return sandbox.wsgi_app.respond(environ)


def walk(sandbox: Sandbox, path: str, limit: int = 500) -> list[tuple[int, dict, bytes]]:
    """Every page of a listing, each asked for twice (the benchmark's warm-up, then its sync)."""
    answers, cursor = [], None
    while True:
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        answers += [get(sandbox, path, query), get(sandbox, path, query)]
        status, _, payload = answers[-1]
        cursor = json.loads(payload)["additional_data"]["next_cursor"] if status == 200 else None
        if not cursor:
            return answers


def test_every_listing_page_is_answered_byte_for_byte_the_same():
    plain, cached = twins()
    for path in LISTINGS:
        assert walk(cached, path) == walk(plain, path)
    assert len(walk(plain, "/api/v2/deals")) > 4  # several pages, each twice


def test_a_page_is_built_once_until_the_store_changes(monkeypatch):
    _, cached = twins()
    built = []
    real = endpoints.list_deals
    monkeypatch.setattr(endpoints, "list_deals", lambda *args, **kw: built.append(1) or real(*args, **kw))
    first = get(cached, "/api/v2/deals", "limit=100")
    assert get(cached, "/api/v2/deals", "limit=100")[2] == first[2] and len(built) == 1
    assert get(cached, "/api/v2/deals", "limit=100&sort_by=update_time")[2] != first[2] and len(built) == 2

    deal = json.loads(first[2])["data"][0]
    cached.control("update_deal", {"deal_id": deal["id"], "title": "Renamed"})
    again = get(cached, "/api/v2/deals", "limit=100")
    assert len(built) == 3 and json.loads(again[2])["data"][0]["title"] == "Renamed"


def test_faults_errors_and_token_costs_are_still_per_request():
    plain, cached = twins()
    answers = {}
    for sandbox in (plain, cached):
        got = [get(sandbox, "/api/v2/deals", "limit=500")]
        sandbox.set_faults(malformed_body=1)
        got.append(get(sandbox, "/api/v2/deals", "limit=500"))  # the cached page, cut in half
        sandbox.set_faults(server_errors=1)
        got.append(get(sandbox, "/api/v2/deals", "limit=500"))
        got.append(get(sandbox, "/api/v2/deals", "limit=0"))  # refused, never cached
        got.append(get(sandbox, "/api/v2/deals", "limit=0"))
        got.append(get(sandbox, "/api/v2/deals", "limit=500"))
        answers[sandbox.page_cache is not None] = got
    assert answers[True] == answers[False]
    statuses = [status for status, _, _ in answers[True]]
    assert statuses == [200, 200, 500, 400, 400, 200]
    assert len(answers[True][1][2]) < len(answers[True][0][2])  # the malformed answer
    assert answers[True][5][2] == answers[True][0][2]
    remaining = [headers.get("x-ratelimit-remaining") for _, headers, _ in answers[True]]
    assert len(set(remaining)) > 1, remaining  # each request counted, cached or not


@pytest.mark.parametrize("cache_pages", [False, True])
def test_the_plain_sandbox_keeps_no_cache(cache_pages):
    sandbox = Sandbox("coeo", deals=10, cache_pages=cache_pages)
    assert (sandbox.page_cache is not None) is cache_pages
