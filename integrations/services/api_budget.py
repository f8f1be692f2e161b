"""The integration's daily API budget, one for the sync, webhook processing and write-back: when
any of them is told the budget is spent, all of them stop calling the provider until it resets
(SyncState.sync_blocked_until), so a burst of board actions or webhooks cannot push the account
further past its limit than the sync would."""

from datetime import datetime, timedelta

from django.utils import timezone

from integrations.models import SyncState
from integrations.providers.base import ErrorKind, ProviderError
from integrations.services.sync_state import update_state

# When the provider does not say when its budget resets.
DEFAULT_BUDGET_PAUSE = timedelta(hours=1)


def budget_spent_until(integration_id: int) -> datetime | None:
    """When calls may start again, if the budget is spent now; None while calls may be made."""
    until = SyncState.objects.filter(integration_id=integration_id).values_list("sync_blocked_until", flat=True).first()
    return until if until and until > timezone.now() else None


def note_budget_spent(integration_id: int, error: ProviderError) -> bool:
    """Record a spent budget from a provider error; whether the error said so."""
    if not (error.kind is ErrorKind.RATE_LIMITED and error.budget_exhausted):
        return False
    pause = timedelta(seconds=error.reset_seconds) if error.reset_seconds else DEFAULT_BUDGET_PAUSE
    update_state(integration_id, sync_blocked_until=timezone.now() + pause)
    return True
