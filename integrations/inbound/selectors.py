"""Reads about an integration's webhooks: their state for staff (admin, command) and whether the
board may call itself live (dealflow/freshness.py)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from integrations.models import InboundEvent, Integration, WebhookEndpoint


@dataclass(frozen=True)
class WebhookState:
    registered: bool
    objects: tuple[str, ...]
    registered_at: datetime | None
    checked_at: datetime | None
    check_ok: bool
    check_message: str
    last_event_at: datetime | None
    events_today: int
    rejected_requests: int
    last_rejected_at: datetime | None


def webhook_state(integration: Integration, *, now: datetime | None = None) -> WebhookState:
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.filter(integration=integration).first()
    if endpoint is None:
        return WebhookState(False, (), None, None, False, "", None, 0, 0, None)
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    events_today = InboundEvent.objects.filter(integration=integration, received_at__gte=midnight).count()
    return WebhookState(
        registered=endpoint.registered_at is not None,
        objects=tuple(sorted(endpoint.remote_ids)),
        registered_at=endpoint.registered_at,
        checked_at=endpoint.checked_at,
        check_ok=endpoint.check_ok,
        check_message=endpoint.check_message,
        last_event_at=endpoint.last_event_at,
        events_today=events_today,
        rejected_requests=endpoint.rejected_requests,
        last_rejected_at=endpoint.last_rejected_at,
    )


def webhooks_live(endpoint: WebhookEndpoint | None, *, now: datetime) -> bool:
    """Healthy: registered, and an event arrived recently or the last check found them all there."""
    if endpoint is None or endpoint.registered_at is None:
        return False
    recent = timedelta(minutes=settings.WEBHOOK_LIVE_MINUTES)
    if endpoint.last_event_at is not None and now - endpoint.last_event_at <= recent:
        return True
    return endpoint.check_ok and endpoint.checked_at is not None and now - endpoint.checked_at <= timedelta(days=2)
