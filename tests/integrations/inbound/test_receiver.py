"""The receiver: every refusal answers its status and stores nothing; a good event is stored once
and its processing queued after commit, without a call to Pipedrive."""

import io

import pytest

from dealflow.models import Deal
from integrations.inbound.receiver import MAX_BODY_BYTES, receive
from integrations.models import InboundEvent, WebhookEndpoint


@pytest.fixture
def deal_payload(hooked):
    deal = hooked.sandbox.update_deal(1, title="Renamed in Pipedrive")
    return hooked.payload("deal", "change", deal, {**deal, "title": "Before"})


def nothing_stored(hooked):
    return not InboundEvent.objects.exists() and not Deal.objects.filter(title="Renamed in Pipedrive").exists()


def rejected(hooked) -> int:
    return WebhookEndpoint.objects.get(pk=hooked.integration.pk).rejected_requests


def test_a_good_event_is_stored_and_queued_after_commit(
    client, hooked, deal_payload, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = hooked.post(client, deal_payload)
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert (event.entity, event.action, event.entity_id) == ("deals", "change", 1)
    assert event.event_id == deal_payload["meta"]["id"]
    assert len(callbacks) == 1
    assert hooked.transport.calls == []  # nothing asked of Pipedrive inside the request
    assert WebhookEndpoint.objects.get(pk=hooked.integration.pk).last_event_at is not None


def test_no_auth_is_401_and_stores_nothing(client, hooked, deal_payload):
    response = hooked.post(client, deal_payload, auth=False)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert nothing_stored(hooked)
    assert rejected(hooked) == 1


@pytest.mark.parametrize(
    "user, password", [("intruder", None), (None, "wrong-password"), (None, ""), ("", "")], ids=str
)
def test_wrong_auth_is_401_and_stores_nothing(client, hooked, deal_payload, user, password):
    response = hooked.post(client, deal_payload, auth=hooked.auth(user, password) if password != "" else "Basic Og==")
    assert response.status_code == 401
    assert nothing_stored(hooked)
    assert rejected(hooked) == 1


@pytest.mark.parametrize("authorization", ["Bearer abc", "Basic not-base64!", "Basic " + "w6k=", "garbage"])
def test_malformed_auth_headers_are_401(client, hooked, deal_payload, authorization):
    assert hooked.post(client, deal_payload, auth=authorization).status_code == 401
    assert nothing_stored(hooked)


def test_unknown_url_is_404_and_stores_nothing(client, hooked, deal_payload):
    response = client.post(
        "/hooks/pipedrive/not-a-key-at-all-0123/",
        data=deal_payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=hooked.auth(),
    )
    assert response.status_code == 404
    assert nothing_stored(hooked)
    assert rejected(hooked) == 0


def test_another_providers_path_is_404(client, hooked, deal_payload):
    url = hooked.url.replace("/pipedrive/", "/fortnox/")
    response = client.post(url, data=deal_payload, content_type="application/json", HTTP_AUTHORIZATION=hooked.auth())
    assert response.status_code == 404
    assert nothing_stored(hooked)


def test_a_2_mb_body_is_413_and_stores_nothing(client, hooked, deal_payload):
    deal_payload["data"]["title"] = "x" * (2 * 1024 * 1024)
    assert hooked.post(client, deal_payload).status_code == 413
    assert nothing_stored(hooked)


def test_the_bytes_read_count_when_no_length_is_declared(hooked):
    """A body sent without (or with a false) Content-Length is bounded by what is actually read."""
    body = io.BytesIO(b'{"meta": {}, "pad": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}')
    answer = receive(
        provider="pipedrive",
        url_key=hooked.endpoint.url_key,
        authorization=hooked.auth(),
        content_length=None,
        read=body.read,
    )
    assert answer.status == 413
    assert not InboundEvent.objects.exists()


def test_not_json_is_400(client, hooked):
    assert hooked.post(client, b"{not json").status_code == 400
    assert hooked.post(client, b"\xff\xfe").status_code == 400
    assert nothing_stored(hooked)


@pytest.mark.parametrize("body", [{}, {"data": {}}, {"meta": None}, {"meta": "x"}, [], "meta"], ids=repr)
def test_no_meta_is_400(client, hooked, body):
    assert hooked.post(client, body).status_code == 400
    assert nothing_stored(hooked)


def test_meta_without_an_event_id_is_400(client, hooked, deal_payload):
    del deal_payload["meta"]["id"]
    assert hooked.post(client, deal_payload).status_code == 400
    assert nothing_stored(hooked)


def test_an_unknown_entity_is_200_and_stores_nothing(client, hooked, deal_payload, django_capture_on_commit_callbacks):
    deal_payload["meta"]["entity"] = "product"
    with django_capture_on_commit_callbacks() as callbacks:
        response = hooked.post(client, deal_payload)
    assert response.status_code == 200  # so Pipedrive does not retry it
    assert nothing_stored(hooked)
    assert callbacks == []


def test_a_repeated_event_id_is_200_and_does_nothing(client, hooked, deal_payload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = hooked.post(client, deal_payload)
        deal_payload["meta"]["attempt"] = 2
        again = hooked.post(client, deal_payload)
    assert (first.status_code, again.status_code) == (200, 200)
    assert InboundEvent.objects.count() == 1
    assert len(callbacks) == 1


def test_only_post_is_allowed(client, hooked):
    assert client.get(hooked.url, HTTP_AUTHORIZATION=hooked.auth()).status_code == 405
    assert client.put(hooked.url, HTTP_AUTHORIZATION=hooked.auth()).status_code == 405


def test_ids_and_timestamps_are_read_as_strings_or_numbers(client, hooked, deal_payload):
    deal_payload["meta"].update(id=987654, entity_id=1, timestamp=1764000000)
    assert hooked.post(client, deal_payload).status_code == 200
    event = InboundEvent.objects.get()
    assert (event.event_id, event.entity_id) == ("987654", 1)
