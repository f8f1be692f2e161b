"""Processing stored webhook events: fetch the record an event is about and apply it through the
one write path (integrations/sync/apply.py), where an older update_time never overwrites a newer
one, so events may arrive in any order and a sync may run beside.

The payload is partial, so a deal, person or organization event fetches the record (one GET); a
record the provider no longer has is removed; a delete the provider still answers for (a deleted
deal within 30 days) is applied as it is, which takes it off the board. An event whose record's
update_time is no newer than the cache (our own write-back's echo, a late duplicate) fetches
nothing. A burst of events for one record is claimed as one batch by the first task that runs, so
it costs one fetch. Stage and pipeline events, and a record in a stage or at a contact the cache
does not know, refresh what is missing first.
"""

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from dealflow.models import Deal, Organization, Person, Stage, StageChange
from integrations.models import CANNOT_READ_CREDENTIALS, InboundEvent, Integration
from integrations.providers.base import RETRYABLE_KINDS, ProviderError
from integrations.services.api_budget import budget_spent_until, note_budget_spent
from integrations.sync.apply import apply_records
from integrations.sync.reconcile import delete_remote_ids

logger = logging.getLogger(__name__)

Outcome = InboundEvent.Outcome
MODELS = {"deals": Deal, "persons": Person, "organizations": Organization}
# Stage and pipeline events are answered by one refresh of both, whichever record they name.
STRUCTURE = ("stages", "pipelines")
# The events are not fetched; the first sync after the reset (blocked until then too) catches up.
BUDGET_SPENT = "The daily API budget is spent; the next sync after it resets catches up."


class TryLater(Exception):
    """The provider failed in a way a retry may fix (a rate limit, a timeout); the batch is released."""

    def __init__(self, message: str, countdown: float | None) -> None:
        super().__init__(message)
        self.countdown = countdown


def process_event(event_pk: int, **client_options) -> str:
    """Process the event and every other pending event for the same record; returns the outcome
    ("taken" when another task already took it in its batch)."""
    event = InboundEvent.objects.select_related("integration").filter(pk=event_pk).first()
    if event is None or event.processed_at is not None:
        return "done"
    batch = claim_batch(event)
    if not batch:
        return "taken"
    integration = event.integration
    if not integration.is_enabled or not integration.credentials_are_readable:
        reason = "Syncing is turned off." if not integration.is_enabled else CANNOT_READ_CREDENTIALS
        return _finish(batch, Outcome.FAILED, reason)
    if budget_spent_until(integration.pk):
        return _finish(batch, Outcome.FAILED, BUDGET_SPENT)
    try:
        outcome = _process(integration, event.entity, event.entity_id, batch, client_options)
    except ProviderError as error:
        if note_budget_spent(integration.pk, error):
            return _finish(batch, Outcome.FAILED, BUDGET_SPENT)
        if error.kind in RETRYABLE_KINDS and not error.budget_exhausted:
            InboundEvent.objects.filter(batch=batch[0].batch, processed_at__isnull=True).update(batch="")
            raise TryLater(str(error), error.reset_seconds) from None
        return _finish(batch, Outcome.FAILED, str(error))
    return _finish(batch, outcome)


def claim_batch(event: InboundEvent) -> list[InboundEvent]:
    """Take the pending events for the event's record with one conditional UPDATE (so two tasks
    never take the same event); empty when another task took this one already."""
    pending = InboundEvent.objects.filter(integration_id=event.integration_id, batch="", processed_at__isnull=True)
    if event.entity in STRUCTURE:
        pending = pending.filter(entity__in=STRUCTURE)
    else:
        pending = pending.filter(entity=event.entity, entity_id=event.entity_id)
    token = uuid.uuid4().hex
    if not pending.filter(pk=event.pk).exists() or not pending.update(batch=token):
        return []
    return list(InboundEvent.objects.filter(batch=token).order_by("received_at", "id"))


def _finish(batch: list[InboundEvent], outcome: str, error: str = "") -> str:
    InboundEvent.objects.filter(pk__in=[event.pk for event in batch]).update(
        processed_at=timezone.now(), outcome=outcome, error=error[:2000]
    )
    return outcome


def _process(integration: Integration, entity: str, remote_id, batch: list, client_options: dict) -> str:
    provider = integration.provider_api
    if entity in STRUCTURE:
        with provider.client(integration, **client_options) as client:
            _refresh_structure(integration, client)
        return Outcome.REFRESHED
    if remote_id is None or entity not in MODELS:
        return Outcome.FAILED
    events = [provider.parse_webhook(event.payload) for event in batch]
    if _cache_is_current(integration, entity, remote_id, events):
        return Outcome.CURRENT
    with provider.client(integration, **client_options) as client:
        outcome = _fetch_and_apply(integration, client, entity, remote_id)
        for merged_into in {event.merged_to_id for event in events if event.merged_to_id}:
            _fetch_and_apply(integration, client, entity, merged_into)
    return outcome


def _cache_is_current(integration: Integration, entity: str, remote_id: int, events: list) -> bool:
    """Every event says the record's update_time, none is newer than the cache's, none deletes."""
    if any(event.action == "delete" or event.update_time is None for event in events):
        return False
    cached = (
        MODELS[entity]
        .objects.filter(integration=integration, remote_id=remote_id)
        .values_list("update_time", flat=True)
        .first()
    )
    return cached is not None and max(event.update_time for event in events) <= cached


def _fetch_and_apply(integration: Integration, client, entity: str, remote_id: int) -> str:
    provider = integration.provider_api
    record = provider.fetch_record(client, entity, remote_id)
    if record is None:
        with transaction.atomic():
            delete_remote_ids(integration_id=integration.pk, model=MODELS[entity], remote_ids=[remote_id])
        return Outcome.REMOVED
    _fetch_missing_references(integration, client, record)
    source = StageChange.Source.WEBHOOK
    apply_records(integration=integration, entity=entity, records=[record], source=source)
    return Outcome.APPLIED


def _fetch_missing_references(integration: Integration, client, record) -> None:
    """A stage, organization or person the cache does not know yet is fetched before the record,
    so the board shows the deal in its column and with its contacts at once."""
    stage_id = getattr(record, "stage_id", None)
    if stage_id is not None and not Stage.objects.filter(integration=integration, remote_id=stage_id).exists():
        _refresh_structure(integration, client)
    for entity, attribute in (("organizations", "org_id"), ("persons", "person_id")):
        remote_id = getattr(record, attribute, None)
        if remote_id is None or MODELS[entity].objects.filter(integration=integration, remote_id=remote_id).exists():
            continue
        contact = integration.provider_api.fetch_record(client, entity, remote_id)
        if contact is not None:
            _fetch_missing_references(integration, client, contact)
            apply_records(integration=integration, entity=entity, records=[contact])


def _refresh_structure(integration: Integration, client) -> None:
    """Every pipeline and stage, applied in that order; new stages get mapping suggestions
    (apply_records creates the missing mappings)."""
    provider = integration.provider_api
    for entity in ("pipelines", "stages"):
        apply_records(integration=integration, entity=entity, records=provider.fetch_all(client, entity))
