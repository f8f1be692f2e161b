"""Fixtures for webhooks in: a synced integration with a webhook endpoint, payloads in the
sandbox's documented v2 shape, and a transport that counts the calls processing makes."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from django.urls import reverse

from integrations.inbound.endpoints import ensure_endpoint
from integrations.inbound.processing import process_event
from integrations.models import InboundEvent, WebhookEndpoint

WEBHOOK = {"id": 7, "owner_id": 1, "user_id": 1}


class CountingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        return self.inner.handle_request(request)


@dataclass
class Hooked:
    connected: object
    endpoint: WebhookEndpoint
    transport: CountingTransport
    sent: list = field(default_factory=list)

    @property
    def integration(self):
        return self.connected.integration

    @property
    def sandbox(self):
        return self.connected.sandbox

    @property
    def url(self) -> str:
        return reverse("inbound:receive", kwargs={"provider": "pipedrive", "key": self.endpoint.url_key})

    def auth(self, user=None, password=None) -> str:
        credentials = self.endpoint.credentials
        pair = f"{user or credentials['user']}:{password or credentials['password']}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def payload(self, obj, action, current, previous=None, **meta) -> dict:
        body = self.sandbox.webhooks.payload(WEBHOOK, obj, action, current, previous)
        body["meta"].update(meta)
        return body

    def post(self, client, body, *, auth=None, **extra):
        import json

        data = body if isinstance(body, bytes | str) else json.dumps(body)
        headers = {} if auth is False else {"HTTP_AUTHORIZATION": auth or self.auth()}
        return client.post(self.url, data=data, content_type="application/json", **headers, **extra)

    def store(self, body) -> InboundEvent:
        """Store an event as the receiver does (without queueing), for processing tests."""
        from integrations.inbound.receiver import _store

        event = self.integration.provider_api.parse_webhook(body)
        _store(self.integration, event, body)
        return InboundEvent.objects.get(integration=self.integration, event_id=event.event_id)

    def process(self, event: InboundEvent) -> str:
        return process_event(event.pk, transport=self.transport, sleep=lambda seconds: None)

    def deal_fetches(self, deal_id: int) -> int:
        return self.transport.calls.count(("GET", f"/api/v2/deals/{deal_id}"))


@pytest.fixture
def hooked(connected) -> Hooked:
    """An integration with its webhook endpoint (the cache is empty: see `synced`)."""
    endpoint = ensure_endpoint(connected.integration)
    return Hooked(connected=connected, endpoint=endpoint, transport=CountingTransport(connected.sandbox.transport()))


def new_event_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def synced(hooked) -> Hooked:
    """`hooked`, with the cache filled by a full sync first."""
    hooked.connected.sync(full=True)
    return hooked
