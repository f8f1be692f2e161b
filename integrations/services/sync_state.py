"""Writes to an integration's SyncState: targeted UPDATEs only, never a save of the whole row, so
concurrent writers (a sync, the dispatcher, the admin) each change only their own columns."""

from django.utils import timezone

from integrations.models import SyncState


def update_state(integration_id: int, **fields) -> int:
    """Set `fields` on the integration's sync state; how many rows changed (0 or 1)."""
    return SyncState.objects.filter(integration_id=integration_id).update(**fields)


def flag_attention(integration_id: int, *, reason: str) -> None:
    """A sync failed in a way retrying cannot fix: stop scheduled syncs until someone acts."""
    update_state(integration_id, attention_reason=reason, attention_since=timezone.now())


def clear_attention(integration_id: int) -> None:
    SyncState.objects.filter(integration_id=integration_id, attention_since__isnull=False).update(
        attention_reason="", attention_since=None
    )
