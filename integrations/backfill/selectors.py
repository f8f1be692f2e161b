"""Reads for the stage history backfill: the deals still to read, the estimate shown before
starting, and the progress."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from dealflow.models import Deal, DealStatus, StageChange
from integrations.models import Integration, StageHistoryBackfill


def deals_needing_history(integration: Integration) -> QuerySet[Deal]:
    """The deals whose stage history the cache may lack, oldest row first.

    A deal needs it when it is not deleted, has not been read yet (no DealHistoryBackfill mark),
    has changed stage at least once (Pipedrive's stage_change_time later than its add_time: a deal
    never moved has no history to read), and the cache may have missed some of those moves: it has
    no recorded stage change, or it was added before the integration was connected, so the first
    sync found it mid-life and whatever happened before its first recorded change was never seen.
    A deal added since then with a recorded change was seen from its first stage on.
    """
    recorded = StageChange.objects.filter(deal_id=OuterRef("pk"))
    return (
        Deal.objects.filter(integration=integration, history_backfill__isnull=True, stage_change_time__gt=F("add_time"))
        .exclude(status=DealStatus.DELETED)
        .filter(Q(add_time__lt=integration.created_at) | ~Exists(recorded))
        .order_by("pk")
    )


def tokens_per_day(integration: Integration) -> int:
    """The backfill's share of the daily API budget, in tokens."""
    return integration.daily_api_budget * integration.backfill_budget_share // 100


@dataclass(frozen=True)
class Estimate:
    deals: int
    cost_per_deal: int
    tokens: int
    tokens_per_day: int
    days: int | None  # None when the share is too small for a single call


def estimate(integration: Integration) -> Estimate:
    """What reading every deal still to do costs, and how many days it takes at the share (a deal
    whose log runs over several pages costs more: this counts one page a deal)."""
    cost = integration.provider_api.stage_history_call_cost
    deals = deals_needing_history(integration).count()
    per_day = tokens_per_day(integration)
    calls_per_day = per_day // cost if cost else 0
    days = math.ceil(deals / calls_per_day) if calls_per_day else (0 if not deals else None)
    return Estimate(deals=deals, cost_per_deal=cost, tokens=deals * cost, tokens_per_day=per_day, days=days)


def progress_of(integration: Integration) -> StageHistoryBackfill:
    """The integration's progress row, or an unsaved one in its first state when it never ran."""
    found = StageHistoryBackfill.objects.filter(integration_id=integration.pk).first()
    return found or StageHistoryBackfill(integration_id=integration.pk)
