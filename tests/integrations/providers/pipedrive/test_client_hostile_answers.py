"""The client against answers meant to trip it: redirects, a broken gzip body, a refused or
hanging connection, and a pasted token with an invisible character. Every one ends as a
PipedriveError that names no token."""

from __future__ import annotations

import socket
import threading
import traceback

import httpx
import pytest

from integrations.providers.pipedrive import ErrorKind, PipedriveClient, PipedriveError
from integrations.providers.pipedrive.connection import check_connection
from integrations.providers.pipedrive.responses import _json_or_none
from tests.sandbox_fixtures import SANDBOX_BASE_URL

TOKEN = "tok-HOSTILE-3e5f7a9b1c2d"


def no_token_in(error: PipedriveError) -> bool:
    text = str(error) + repr(error) + "".join(traceback.format_exception(error))
    return TOKEN not in text and TOKEN.upper() not in text


def client_for(handler, **options) -> PipedriveClient:
    return PipedriveClient(
        base_url=SANDBOX_BASE_URL,
        api_token=TOKEN,
        transport=httpx.MockTransport(handler),
        sleep=lambda seconds: None,
        **options,
    )


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_an_error_and_is_not_followed(status):
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(status, headers={"location": f"https://attacker.example/?t={TOKEN}"})

    with pytest.raises(PipedriveError) as caught:
        client_for(handler).get_current_user()
    assert len(seen) == 1 and all("attacker" not in url for url in seen)
    assert f"HTTP {status}" in str(caught.value) and "redirect" in str(caught.value)
    assert no_token_in(caught.value) and "attacker" not in str(caught.value)


def test_a_body_that_claims_gzip_and_is_not():
    def handler(request):
        return httpx.Response(200, headers={"content-encoding": "gzip"}, content=b"not gzip " + TOKEN.encode())

    with pytest.raises(PipedriveError) as caught:
        client_for(handler, max_retries=0).get_current_user()
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert no_token_in(caught.value)


@pytest.mark.parametrize("pasted", [TOKEN + "\u200b", TOKEN + " x", "tök-" + TOKEN])
def test_a_malformed_token_fails_before_any_request_without_repeating_it(pasted):
    with pytest.raises(PipedriveError) as caught:
        PipedriveClient(base_url=SANDBOX_BASE_URL, api_token=pasted)
    assert pasted not in "".join(traceback.format_exception(caught.value))
    assert "enter it again" in str(caught.value)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_names_the_url_not_the_token():
    base_url = f"http://127.0.0.1:{closed_port()}"
    with PipedriveClient(base_url=base_url, api_token=TOKEN, max_retries=0) as client:
        with pytest.raises(PipedriveError) as caught:
            client.get_current_user()
    assert base_url in str(caught.value) and no_token_in(caught.value)


@pytest.fixture
def hanging_server():
    """Accepts connections and never answers; counts them."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


class Stored:
    """What check_connection needs of an integration."""

    def __init__(self, base_url):
        self.settings = {"company_domain": "coeo", "api_base_url": base_url}
        self.credentials, self.credentials_are_readable = {"api_token": TOKEN}, True


def test_the_quick_check_tries_a_hanging_upstream_once(hanging_server):
    base_url, accepted = hanging_server
    report = check_connection(integration=Stored(base_url))
    assert not report.ok and "did not answer in time" in report.message
    assert len(accepted) == 1  # one attempt: no retries, no 20 s timeouts in a row


def test_the_quick_check_fails_fast_on_a_refused_connection():
    base_url = f"http://127.0.0.1:{closed_port()}"
    report = check_connection(integration=Stored(base_url))
    assert not report.ok and base_url in report.message and TOKEN not in report.message


@pytest.mark.parametrize("number", [2**64, 10**25, -(2**70)])
def test_an_integer_past_64_bits_is_read_exactly_not_rounded_to_a_float(number):
    """orjson, the fast decoder, would read these as floats (2**64 -> 1.8446744073709552e+19)."""
    body = f'{{"data": [{{"id": 1, "value": {number}, "title": "Big"}}]}}'.encode()
    decoded = _json_or_none(httpx.Response(200, content=body, headers={"content-type": "application/json"}))

    value = decoded["data"][0]["value"]
    assert type(value) is int
    assert value == number
