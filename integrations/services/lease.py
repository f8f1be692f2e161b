"""A lease in the database: at most one sync per integration at a time.

Taking, renewing and releasing are each one conditional UPDATE on the Integration row, which is
atomic on SQLite and PostgreSQL alike. A lease expires on its own, so a worker that dies while
holding one blocks its integration only until `expires_at`.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from integrations.models import Integration

DEFAULT_TTL = timedelta(minutes=15)


@dataclass(frozen=True)
class Lease:
    integration_id: int
    owner: str
    ttl: timedelta


def new_lease_owner() -> str:
    return uuid.uuid4().hex


def acquire_lease(*, integration_id: int, owner: str | None = None, ttl: timedelta = DEFAULT_TTL) -> Lease | None:
    """Take the lease if it is free or expired; None if someone else holds it."""
    owner = owner or new_lease_owner()
    now = timezone.now()
    free = Q(sync_lease_owner="") | Q(sync_lease_expires_at__isnull=True) | Q(sync_lease_expires_at__lte=now)
    taken = Integration.objects.filter(free, pk=integration_id).update(
        sync_lease_owner=owner, sync_lease_expires_at=now + ttl
    )
    return Lease(integration_id=integration_id, owner=owner, ttl=ttl) if taken else None


def renew_lease(lease: Lease) -> bool:
    """Push the expiry out again; False if the lease was lost (expired and taken over)."""
    return bool(
        Integration.objects.filter(pk=lease.integration_id, sync_lease_owner=lease.owner).update(
            sync_lease_expires_at=timezone.now() + lease.ttl
        )
    )


def release_lease(lease: Lease) -> None:
    Integration.objects.filter(pk=lease.integration_id, sync_lease_owner=lease.owner).update(
        sync_lease_owner="", sync_lease_expires_at=None
    )


def lease_is_held(*, integration: Integration) -> bool:
    return bool(integration.sync_lease_owner) and (
        integration.sync_lease_expires_at is not None and integration.sync_lease_expires_at > timezone.now()
    )
