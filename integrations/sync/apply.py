"""The one write path for a few remote records of one kind: a webhook's, or write-back's answer.

It is the sync's own path, run on a small batch: diff against the cache (diff.py), stage in
temporary tables of its own (staging.py, prefix "apply", so it can run beside a sync in the same
connection), apply with the same set-based upsert (write.py), whose condition is the write path's
rule (upsert.newer_only): a record replaces its cached row only when its remote update_time is the
same or newer. Stage changes are recorded with `source`, and rows pointing at the records written
(a deal at a person that arrived late) are linked.

The specs come from the provider's stored_specs: parsing a record needs no call to the provider
(Pipedrive's custom field definitions are read from the database).
"""

from collections.abc import Iterable

from dealflow.models import StageChange
from integrations.sync.diff import Tally, diff_page
from integrations.sync.entities import EntitySpec
from integrations.sync.locking import write_transaction
from integrations.sync.mappings import create_missing_mappings
from integrations.sync.staging import Staging
from integrations.sync.write import Writer


def apply_records(*, integration, entity: str, records: Iterable, source: str = StageChange.Source.SYNC) -> Tally:
    """Apply `records` (the provider's parsed records of the entity keyed `entity`, e.g. "deals").

    Returns what it did; a record older than its cached row is counted but leaves the row as it is.
    """
    specs = integration.provider_api.stored_specs(integration)
    spec = _spec(specs, entity)
    records = list(records)
    tally = Tally()
    with Staging(prefix="apply") as staging:
        changes, found = diff_page(spec, integration.pk, records)
        tally.add(found)
        if changes:
            staging.add(spec, changes, tally)
        with write_transaction():
            writer = Writer(integration_id=integration.pk, specs=specs, tally=tally, source=source)
            writer.apply(staging)
            cached = {other.model for other in specs}
            writer.relink(written=staging.tables, cached=cached, only=[record.id for record in records])
            create_missing_mappings(integration_id=integration.pk)
    return tally


def _spec(specs: tuple[EntitySpec, ...], key: str) -> EntitySpec:
    for spec in specs:
        if spec.key == key:
            return spec
    raise ValueError(f"No entity {key!r}; known: {', '.join(spec.key for spec in specs)}")
