"""An integration's webhook endpoint: created with a fresh URL key and basic-auth credentials, and
its state written only by targeted UPDATEs (like SyncState), so concurrent requests never race."""

import secrets

from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from integrations.models import Integration, WebhookEndpoint

# token_urlsafe(n) draws n random bytes: 16 for the URL key (22 characters), 24 for the user and
# 32 (256 bits) for the password; the floors are 16 characters and 128 bits.
URL_KEY_BYTES = 16
USER_BYTES = 12
PASSWORD_BYTES = 32


def new_credentials() -> dict[str, str]:
    return {"user": f"dealflow-{secrets.token_urlsafe(USER_BYTES)}", "password": secrets.token_urlsafe(PASSWORD_BYTES)}


def ensure_endpoint(integration: Integration) -> WebhookEndpoint:
    """The integration's endpoint, created with a new URL key and credentials the first time."""
    endpoint, _ = WebhookEndpoint.objects.get_or_create(
        integration=integration,
        defaults={"url_key": secrets.token_urlsafe(URL_KEY_BYTES), "credentials": new_credentials()},
    )
    return endpoint


def webhook_url(endpoint: WebhookEndpoint) -> str:
    path = reverse("inbound:receive", kwargs={"provider": endpoint.integration.provider, "key": endpoint.url_key})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _update(integration_id: int, **fields) -> None:
    WebhookEndpoint.objects.filter(integration_id=integration_id).update(**fields)


def note_event(integration_id: int) -> None:
    _update(integration_id, last_event_at=timezone.now())


def note_rejected(integration_id: int) -> None:
    _update(integration_id, rejected_requests=F("rejected_requests") + 1, last_rejected_at=timezone.now())


def note_registered(integration_id: int, remote_ids: dict[str, int], message: str) -> None:
    now = timezone.now()
    _update(
        integration_id, remote_ids=remote_ids, registered_at=now, checked_at=now, check_ok=True, check_message=message
    )


def note_check(integration_id: int, *, remote_ids: dict[str, int], ok: bool, message: str) -> None:
    _update(integration_id, remote_ids=remote_ids, checked_at=timezone.now(), check_ok=ok, check_message=message)


def note_unregistered(integration_id: int) -> None:
    _update(
        integration_id,
        remote_ids={},
        registered_at=None,
        checked_at=timezone.now(),
        check_ok=False,
        check_message="Unregistered.",
    )
