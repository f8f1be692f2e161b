"""A lease in the database: at most one sync per integration at a time.

Taking, renewing and releasing are each one conditional UPDATE on the integration's SyncState row, which is
atomic on SQLite and PostgreSQL alike. A lease expires on its own, so a worker that dies while
holding one blocks its integration only until `expires_at`; and the holder's host and process id
are recorded, so a holder that died on this host (SIGKILL, OOM) is seen dead at once.
"""

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from integrations.models import Integration, SyncState

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
    taken = SyncState.objects.filter(free, integration_id=integration_id).update(
        sync_lease_owner=owner,
        sync_lease_expires_at=now + ttl,
        sync_lease_host=socket.gethostname(),
        sync_lease_pid=os.getpid(),
    )
    return Lease(integration_id=integration_id, owner=owner, ttl=ttl) if taken else None


def renew_lease(lease: Lease) -> bool:
    """Push the expiry out again; False if the lease was lost (expired and taken over)."""
    return bool(
        SyncState.objects.filter(integration_id=lease.integration_id, sync_lease_owner=lease.owner).update(
            sync_lease_expires_at=timezone.now() + lease.ttl
        )
    )


FREE = {"sync_lease_owner": "", "sync_lease_expires_at": None, "sync_lease_host": "", "sync_lease_pid": None}


def release_lease(lease: Lease) -> None:
    SyncState.objects.filter(integration_id=lease.integration_id, sync_lease_owner=lease.owner).update(**FREE)


def force_release(*, integration: Integration) -> bool:
    """Free the lease whoever holds it (`manage.py release_sync_lease`); False if it was free."""
    return bool(SyncState.objects.filter(integration_id=integration.pk).exclude(sync_lease_owner="").update(**FREE))


def holder_is_dead(integration: Integration) -> bool:
    """The lease is held by a process on this host that no longer runs. A holder on another
    host cannot be checked from here: its lease expires instead."""
    state = integration.sync_state
    if not state.sync_lease_owner or state.sync_lease_host != socket.gethostname():
        return False
    return state.sync_lease_pid is not None and not _process_alive(state.sync_lease_pid)


def release_dead_lease(integration: Integration) -> bool:
    """Free the lease if its holder is dead; True if this call freed it."""
    if not holder_is_dead(integration):
        return False
    owner = integration.sync_state.sync_lease_owner
    return bool(SyncState.objects.filter(integration_id=integration.pk, sync_lease_owner=owner).update(**FREE))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:  # a killed child its parent has not reaped yet is a zombie: dead all the same
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def lease_is_held(*, integration: Integration) -> bool:
    state = integration.sync_state
    return (
        bool(state.sync_lease_owner)
        and state.sync_lease_expires_at is not None
        and state.sync_lease_expires_at > timezone.now()
        and not holder_is_dead(integration)
    )
