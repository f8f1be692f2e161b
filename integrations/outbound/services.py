"""Write-back services: change a deal, or create one, in the company's CRM.

Every change is checked against the deal as the user saw it: the deal is fetched first, and when
its update_time differs from the one the user's form carried, nothing is written and the user is
told what changed and when (the fetched deal is applied, so the board then shows it). Otherwise
only the fields that change are sent; the deal the CRM returns is applied at once through the one
write path (integrations/sync/apply.py, stage changes recorded as write-back), so the board shows
it without waiting for a sync. Each attempt leaves an audit entry (WriteBackEntry). A failed call
changes nothing in our database.

The provider is reached only through the integration's registry entry (Integration.provider_api).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from dealflow.models import Deal, StageChange
from integrations.models import Integration, WriteBackEntry
from integrations.outbound.describe import describe_changes
from integrations.providers.base import ProviderError, RemoteDeal
from integrations.redaction import redact
from integrations.services.api_budget import budget_spent_until, note_budget_spent
from integrations.sync.apply import apply_records

logger = logging.getLogger(__name__)

Action = WriteBackEntry.Action
Outcome = WriteBackEntry.Outcome
CANNOT_WRITE = (
    "This company's CRM connection cannot write changes (its credentials are missing or cannot be read); ask staff."
)
NOT_SUPPORTED = "This company's CRM does not support changes from the board."
BUDGET_SPENT = "The CRM's daily API budget for this company is spent (the sync stops too). Try again after {until}."


@dataclass(frozen=True)
class WriteResult:
    """What became of one write-back, in plain words for the user."""

    outcome: str  # a WriteBackEntry.Outcome, or "" when there was nothing to change
    message: str
    deal_remote_id: int | None = None
    changed_at: datetime | None = None  # a conflict: when the deal was changed at the CRM
    differences: list[str] = field(default_factory=list)  # a conflict: what changed, one line each

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.SUCCEEDED, "")


def change_deal(
    *, user, deal: Deal, action: str, changes: dict[str, Any], seen_update_time: datetime | None
) -> WriteResult:
    """Write `changes` (neutral field names, see RemoteDeal) to the cached `deal`'s CRM record."""
    integration = deal.integration
    audit = _Audit(user=user, integration=integration, action=action, deal_remote_id=deal.remote_id, title=deal.title)
    refusal = _cannot_write(integration)
    if refusal:
        return audit.failed(refusal, after=changes)
    provider = integration.provider_api
    current = None
    try:
        with provider.write_client(integration) as client:
            current = provider.fetch_deal(client, deal.remote_id)
            if current.update_time != seen_update_time:
                return _conflict(audit, integration, deal, current, changes)
            wanted = _wanted(current, changes)
            if not wanted:
                return WriteResult(outcome="", message="Nothing to change.", deal_remote_id=deal.remote_id)
            updated = provider.update_deal(client, deal.remote_id, wanted)
    except ProviderError as error:
        note_budget_spent(integration.pk, error)
        before = {name: current.fields.get(name) for name in changes} if current else {}
        return audit.failed(str(error), before=before, after=changes)
    apply_records(
        integration=integration, entity="deals", records=[updated.record], source=StageChange.Source.WRITE_BACK
    )
    audit.title = updated.title
    audit.record(
        Outcome.SUCCEEDED,
        before={name: current.fields.get(name) for name in wanted},
        after={name: updated.fields.get(name) for name in wanted},
    )
    return WriteResult(outcome=Outcome.SUCCEEDED, message=_done(action), deal_remote_id=updated.remote_id)


def create_deal(
    *, user, integration: Integration, fields: dict[str, Any], new_organization: str = "", new_person: str = ""
) -> WriteResult:
    """Create a deal from `fields` (neutral names; only those with values are sent), first creating
    the organization and person typed as new, if any."""
    audit = _Audit(user=user, integration=integration, action=Action.CREATE, title=fields.get("title", ""))
    asked = {**fields, "new_organization": new_organization, "new_person": new_person}
    refusal = _cannot_write(integration)
    if refusal:
        return audit.failed(refusal, after=asked)
    provider = integration.provider_api
    fields = dict(fields)
    try:
        with provider.write_client(integration) as client:
            if new_organization:
                fields["org_id"], record = provider.create_organization(client, new_organization)
                apply_records(integration=integration, entity="organizations", records=[record])
            if new_person:
                fields["person_id"], record = provider.create_person(client, new_person, fields.get("org_id"))
                apply_records(integration=integration, entity="persons", records=[record])
            created = provider.create_deal(client, fields)
    except ProviderError as error:
        note_budget_spent(integration.pk, error)
        return audit.failed(str(error), after=asked)
    apply_records(
        integration=integration, entity="deals", records=[created.record], source=StageChange.Source.WRITE_BACK
    )
    audit.deal_remote_id = created.remote_id
    audit.record(Outcome.SUCCEEDED, after={name: created.fields.get(name) for name in fields})
    return WriteResult(
        outcome=Outcome.SUCCEEDED, message=f"Created “{created.title}”.", deal_remote_id=created.remote_id
    )


# -- the steps ----------------------------------------------------------------------------


def _cannot_write(integration: Integration) -> str:
    if not integration.provider_api.supports_write_back:
        return NOT_SUPPORTED
    # Unreadable, or stored but blank (a client refuses an empty token with a ValueError).
    if not integration.credentials_are_readable or not any(integration.credentials.values()):
        return CANNOT_WRITE
    spent_until = budget_spent_until(integration.pk)
    if spent_until:
        return BUDGET_SPENT.format(until=timezone.localtime(spent_until).strftime("%Y-%m-%d %H:%M"))
    return ""


def _wanted(current: RemoteDeal, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes that change something, with empty values left out (never sent as null)."""
    wanted = {
        name: value
        for name, value in changes.items()
        if value is not None and value != "" and current.fields.get(name) != value
    }
    if "lost_reason" in wanted:
        wanted["status"] = "lost"  # a lost reason may only be sent with status lost
    return wanted


def _conflict(audit, integration, deal: Deal, current: RemoteDeal, changes: dict) -> WriteResult:
    differences = describe_changes(integration, deal, current)
    # The board then shows the deal as it is now (the one write path keeps whichever is newer).
    apply_records(integration=integration, entity="deals", records=[current.record])
    audit.record(
        Outcome.CONFLICT,
        before={name: current.fields.get(name) for name in changes},
        after=changes,
        error="Changed at the CRM since the user saw it: " + "; ".join(differences),
    )
    return WriteResult(
        outcome=Outcome.CONFLICT,
        message="This deal was changed in the CRM after you opened it, so nothing was written. It now shows"
        " as it is; make your change again if it still applies.",
        deal_remote_id=deal.remote_id,
        changed_at=current.update_time,
        differences=differences,
    )


def _done(action: str) -> str:
    return {
        Action.STAGE: "Stage changed.",
        Action.WON: "Marked won.",
        Action.LOST: "Marked lost.",
        Action.REOPEN: "Reopened.",
        Action.EDIT: "Saved.",
    }.get(action, "Saved.")


# -- the audit trail ----------------------------------------------------------------------


class _Audit:
    def __init__(self, *, user, integration: Integration, action: str, deal_remote_id=None, title: str = "") -> None:
        self.user = user
        self.integration = integration
        self.action = action
        self.deal_remote_id = deal_remote_id
        self.title = title

    def failed(self, message: str, *, before: dict | None = None, after: dict | None = None) -> WriteResult:
        self.record(Outcome.FAILED, before=before or {}, after=after or {}, error=message)
        return WriteResult(outcome=Outcome.FAILED, message=message, deal_remote_id=self.deal_remote_id)

    def record(self, outcome: str, *, before: dict | None = None, after: dict | None = None, error: str = "") -> None:
        integration = self.integration
        secrets = (
            integration.provider_api.secrets(integration.credentials) if integration.credentials_are_readable else ()
        )
        if outcome == Outcome.FAILED:
            logger.warning(
                "Write-back %s of deal %s failed: %s", self.action, self.deal_remote_id, redact(error, *secrets)
            )
        WriteBackEntry.objects.create(
            user=self.user if getattr(self.user, "pk", None) else None,
            username=getattr(self.user, "username", ""),
            company_id=self.integration.company_id,
            integration=self.integration,
            action=self.action,
            deal_remote_id=self.deal_remote_id,
            deal_title=(self.title or "")[:500],
            before=_jsonable(before or {}),
            after=_jsonable(after or {}),
            outcome=outcome,
            error=redact(error, *secrets),
        )


def _jsonable(values: dict) -> dict:
    def plain(value):
        if isinstance(value, Decimal | date):
            return str(value)
        return value

    return {name: plain(value) for name, value in values.items()}
