"""What the webhook receiver does with one request: authenticate it, bound it, read it, store the
event once and queue its processing. It never calls the provider, so it answers in milliseconds.

Every refusal stores nothing (a rejected request is only counted on the endpoint, for the admin).
"""

import base64
import binascii
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from integrations.models import InboundEvent, WebhookEndpoint

from .endpoints import note_event, note_rejected
from .tasks import process_inbound_event_task

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    message: str


def receive(
    *, provider: str, url_key: str, authorization: str, content_length: str | None, read: Callable[[int], bytes]
) -> Answer:
    endpoint = (
        WebhookEndpoint.objects.select_related("integration")
        .filter(url_key=url_key, integration__provider=provider)
        .first()
    )
    if endpoint is None:
        return Answer(404, "Unknown webhook address.")
    if not _authenticated(endpoint, authorization):
        note_rejected(endpoint.integration_id)
        return Answer(401, "Authentication required.")
    if _declared_length(content_length) > MAX_BODY_BYTES:
        return Answer(413, "The body is larger than 256 KB.")
    body = read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:  # no or a false Content-Length: what was actually sent counts
        return Answer(413, "The body is larger than 256 KB.")
    try:
        payload = json.loads(body)
    except ValueError:
        return Answer(400, "The body is not JSON.")
    if not isinstance(payload, dict) or not isinstance(payload.get("meta"), dict):
        return Answer(400, "The body has no meta object.")
    integration = endpoint.integration
    try:
        event = integration.provider_api.parse_webhook(payload)
    except ValueError as error:
        return Answer(400, str(error))
    with transaction.atomic():  # one write transaction (one commit) per delivery
        note_event(integration.pk)
        if not event.entity:
            return Answer(200, "Ignored: not an object the board keeps.")
        return _store(integration, event, payload)


def _store(integration, event, payload: dict) -> Answer:
    try:
        with transaction.atomic():
            stored = InboundEvent.objects.create(
                integration=integration,
                event_id=event.event_id,
                entity=event.entity,
                action=event.action,
                entity_id=event.entity_id,
                payload=payload,
            )
    except IntegrityError:
        return Answer(200, "Already received.")
    transaction.on_commit(lambda: _queue(stored.pk), robust=True)
    return Answer(200, "Received.")


def _queue(event_pk: int) -> None:
    # A short countdown lets the other events of a burst for the same record arrive, so the first
    # task to run takes them all and fetches the record once (processing.claim_batch).
    # No publish retries: with the broker down the answer must not wait; the event stays stored and
    # pending, and the next event for the record (or the periodic sync) brings the board up to date.
    process_inbound_event_task.apply_async(args=[event_pk], countdown=settings.WEBHOOK_COALESCE_SECONDS, retry=False)


def _declared_length(content_length: str | None) -> int:
    try:
        return int(content_length or 0)
    except ValueError:
        return 0


def _authenticated(endpoint: WebhookEndpoint, authorization: str) -> bool:
    """HTTP basic auth against the endpoint's credentials, compared in constant time."""
    credentials = endpoint.credentials or {}
    expected_user = str(credentials.get("user") or "")
    expected_password = str(credentials.get("password") or "")
    user, password = _basic(authorization)
    same_user = hmac.compare_digest(user.encode(), expected_user.encode())
    same_password = hmac.compare_digest(password.encode(), expected_password.encode())
    return bool(expected_user and expected_password) and same_user and same_password


def _basic(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password
