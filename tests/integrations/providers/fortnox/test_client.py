"""The Fortnox client against the sandbox: MetaInformation paging, the 25-per-5-s pacing, 429
backoff, faults, and the base URL rule."""

import pytest

from integrations.providers.base import ErrorKind
from integrations.providers.fortnox.connection_rules import api_base_url, base_url_problem
from integrations.providers.fortnox.errors import FortnoxError
from integrations.providers.fortnox.pacing import Pacer
from integrations.providers.fortnox.sandbox.core import RATE_REQUESTS, RATE_WINDOW


def client_for(connected, **options):
    return connected.integration.provider_api.client(connected.integration, **connected.options(**options))


@pytest.mark.django_db
def test_invoices_are_read_over_every_page(connected):
    expected = len(connected.sandbox.companies["100001"].invoices)
    pages = []
    with client_for(connected, page_size=50) as client:
        invoices = list(client.iter_invoices(on_page=pages.append))
    assert len(invoices) == expected == len({invoice.document_number for invoice in invoices})
    assert [page.page_number for page in pages] == list(range(1, -(-expected // 50) + 1))
    assert [r for r in connected.sandbox.requests if r.startswith("GET /3/invoices")][-1].count("page=5") == 1


@pytest.mark.django_db
def test_requests_are_paced_to_25_per_5_seconds(connected):
    clock = connected.clock
    sent_at = []
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    with client_for(connected, page_size=5, pacer=pacer) as client:
        original = client._http.send

        def timed(request, **kwargs):
            sent_at.append(clock())
            return original(request, **kwargs)

        client._http.send = timed
        invoices = list(client.iter_invoices())
    assert len(sent_at) > RATE_REQUESTS and len(invoices) == 201
    for index in range(len(sent_at) - RATE_REQUESTS):
        assert sent_at[index + RATE_REQUESTS] - sent_at[index] >= RATE_WINDOW
    assert clock.sleeps and client.stats.rate_limited == 0  # paced: the sandbox never had to say 429


@pytest.mark.django_db
def test_unpaced_the_sandbox_answers_429_and_the_client_backs_off(connected):
    unpaced = Pacer(requests=1000, clock=connected.clock, sleep=connected.clock.sleep)
    with client_for(connected, page_size=5, pacer=unpaced) as client:
        invoices = list(client.iter_invoices())
    assert len(invoices) == 201 and client.stats.rate_limited > 0


@pytest.mark.django_db
def test_a_429_is_waited_out_and_the_request_repeated(connected):
    connected.sandbox.fail("/3/companyinformation", 429, times=2)
    with client_for(connected) as client:
        assert client.company_information().name == "Nordljus AB"
    assert client.stats.rate_limited == 2 and len(connected.clock.sleeps) == 2


@pytest.mark.django_db
def test_429s_that_do_not_stop_give_up_with_a_rate_limited_error(connected):
    connected.sandbox.fail("/3/companyinformation", 429)
    with client_for(connected, max_retries=3) as client, pytest.raises(FortnoxError) as raised:
        client.company_information()
    assert raised.value.kind is ErrorKind.RATE_LIMITED and client.stats.calls == 4


@pytest.mark.django_db
def test_a_404_is_not_retried(connected):
    with client_for(connected) as client, pytest.raises(FortnoxError) as raised:
        client.sie(2, 99)
    assert raised.value.kind is ErrorKind.NOT_FOUND and client.stats.calls == 1


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.fortnox.se", True),
        ("https://apps.fortnox.se", True),
        ("http://api.fortnox.se", False),
        ("https://api.fortnox.se.evil.example", False),
        ("https://user:pw@api.fortnox.se", False),
        ("https://api.fortnox.se/3/", False),
        ("http://127.0.0.1:8123", True),  # in FORTNOX_ALLOWED_BASE_URLS (tests' settings)
        ("http://10.0.0.5:8123", False),
    ],
)
def test_base_url_rule(url, allowed):
    assert (base_url_problem(url) == "") is allowed


def test_http_to_loopback_needs_the_allow_list(settings):
    settings.FORTNOX_ALLOWED_BASE_URLS = []
    settings.FORTNOX_API_BASE_URL = "http://127.0.0.1:8123"
    with pytest.raises(FortnoxError) as raised:
        api_base_url()
    assert "FORTNOX_ALLOWED_BASE_URLS" in str(raised.value)
