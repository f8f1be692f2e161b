"""The sandbox delivers v2 webhooks over real HTTP: the documented shape, basic auth, Pipedrive's
retries (scaled down), and the drop, duplicate, delay and reorder switches."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from integrations.providers.pipedrive.sandbox import DEFAULT_TOKEN, Sandbox
from integrations.providers.pipedrive.sandbox.server import serve_in_thread

WAIT = 30  # an upper bound for a stuck thread, not a performance threshold


class Receiver:
    """A loopback HTTP server recording every POST; `statuses` answers the first ones."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.arrived:
                    receiver.requests.append({"auth": self.headers.get("Authorization"), "body": body})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pipedrive/key/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count):
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.requests) >= count, WAIT), self.requests
        return self.requests


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def sandbox(receiver):
    sandbox = Sandbox("coeo")
    sandbox.set_webhook_faults(time_scale=0.001)
    sandbox.webhooks.add(
        {
            "subscription_url": receiver.url,
            "event_action": "*",
            "event_object": "deal",
            "name": "test",
            "version": "2.0",
            "user_id": 1,
            "http_auth_user": "hook-user",
            "http_auth_password": "hook-password",
        }
    )
    return sandbox


def test_a_control_change_is_delivered_in_the_v2_shape_with_basic_auth(sandbox, receiver):
    before = sandbox.deal(1)
    after = sandbox.move_deal(1, 9)
    (request,) = receiver.wait_for(1)
    assert request["auth"] == "Basic " + base64.b64encode(b"hook-user:hook-password").decode()
    body = request["body"]
    assert set(body) == {"data", "previous", "meta"}
    assert body["data"] == after
    assert body["previous"]["stage_id"] == before["stage_id"] and "title" not in body["previous"]
    meta = body["meta"]
    assert (meta["action"], meta["entity"], meta["entity_id"], meta["version"]) == ("change", "deal", "1", "2.0")
    assert meta["attempt"] == 1 and meta["change_source"] in ("app", "api") and meta["id"]


def test_a_delete_has_no_data(sandbox, receiver):
    sandbox.delete_deal(1)
    body = receiver.wait_for(1)[0]["body"]
    assert body["meta"]["action"] == "delete" and body["data"] is None and body["previous"]["id"] == 1


def test_an_api_write_is_delivered_too(sandbox, receiver):
    base_url, stop = serve_in_thread(sandbox)
    try:
        response = httpx.patch(
            f"{base_url}/api/v2/deals/1", json={"value": 4200}, headers={"x-api-token": DEFAULT_TOKEN}
        )
        assert response.status_code == 200
        body = receiver.wait_for(1)[0]["body"]
    finally:
        stop()
    assert body["data"]["value"] == 4200
    assert set(body["previous"]) == {"value", "update_time"} and body["previous"]["value"] != 4200


def test_failures_are_retried_three_times_with_the_same_event_id(sandbox, receiver):
    receiver.statuses = [500, 503, 404, 500]
    sandbox.move_deal(1, 9)
    requests = receiver.wait_for(4)
    assert sandbox.webhooks.delivery.wait_idle(WAIT)
    assert [r["body"]["meta"]["attempt"] for r in requests] == [1, 2, 3, 4]
    assert len({r["body"]["meta"]["id"] for r in requests}) == 1
    assert len(receiver.requests) == 4  # no fifth attempt


def test_drop_loses_deliveries(sandbox, receiver):
    sandbox.set_webhook_faults(drop=1)
    sandbox.update_deal(1, title="lost")
    sandbox.update_deal(1, title="delivered")
    (request,) = receiver.wait_for(1)
    assert sandbox.webhooks.delivery.wait_idle(WAIT)
    assert request["body"]["data"]["title"] == "delivered"
    assert sandbox.webhooks.delivery.dropped == 1


def test_duplicate_sends_each_event_twice(sandbox, receiver):
    sandbox.set_webhook_faults(duplicate=True)
    sandbox.update_deal(1, title="twice")
    first, second = receiver.wait_for(2)
    assert first["body"]["meta"]["id"] == second["body"]["meta"]["id"]


def test_reorder_sends_newest_first(sandbox, receiver):
    sandbox.set_webhook_faults(reorder=2)
    sandbox.update_deal(1, title="first")
    sandbox.update_deal(1, title="second")
    requests = receiver.wait_for(2)
    assert [r["body"]["data"]["title"] for r in requests] == ["second", "first"]


def test_delay_holds_deliveries_back(sandbox, receiver):
    sandbox.set_webhook_faults(delay_seconds=0.2)
    sandbox.update_deal(1, title="late")
    assert not receiver.requests  # not sent at once: the delivery waits in the queue
    assert receiver.wait_for(1)[0]["body"]["data"]["title"] == "late"


def test_registration_is_validated_as_pipedrive_does(sandbox):
    base_url, stop = serve_in_thread(sandbox)
    try:
        headers = {"x-api-token": DEFAULT_TOKEN}
        good = {"subscription_url": "https://x.example/h", "event_action": "*", "event_object": "deal", "name": "n"}
        for bad in ({**good, "event_action": "updated"}, {**good, "version": "3.0"}, {**good, "user_id": 999}, {}):
            assert httpx.post(f"{base_url}/v1/webhooks", json=bad, headers=headers).status_code == 400
        created = httpx.post(f"{base_url}/v1/webhooks", json=good, headers=headers)
        assert created.status_code == 201 and created.json()["data"]["version"] == "2.0"
        listed = httpx.get(f"{base_url}/v1/webhooks", headers=headers).json()["data"]
        assert created.json()["data"]["id"] in [hook["id"] for hook in listed]
        hook_id = created.json()["data"]["id"]
        assert httpx.delete(f"{base_url}/v1/webhooks/{hook_id}", headers=headers).status_code == 200
        assert httpx.delete(f"{base_url}/v1/webhooks/{hook_id}", headers=headers).status_code == 404
    finally:
        stop()


def test_new_contacts_are_delivered_too(sandbox, receiver):
    sandbox.webhooks.registered[1]["event_object"] = "*"
    org = sandbox.store.add_organization("Ny Kund AB")
    sandbox.store.add_person("Nina Ny", org_id=org["id"])
    requests = receiver.wait_for(2)
    assert [(r["body"]["meta"]["entity"], r["body"]["meta"]["action"]) for r in requests] == [
        ("organization", "create"),
        ("person", "create"),
    ]
