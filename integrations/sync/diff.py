"""Compare one downloaded page with the cached rows: what to create, update, remove, or leave.

One query per page reads the existing rows' fingerprints (and, for deals, stage and status);
only records whose fingerprint differs go on to be written, already encoded for the database
(upsert.py) so the write transaction does as little as possible.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from dealflow.models import Deal, DealStatus
from integrations.sync.clean import OUT_OF_RANGE_KEY, fit_row, fits_remote_id, storable_json
from integrations.sync.entities import EntitySpec
from integrations.sync.fingerprint import canonical_json, fingerprint_of
from integrations.sync.upsert import JsonText

# A run keeps this many skipped records' ids per entity (it counts them all).
SKIPPED_IDS_KEPT = 100


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    out_of_range: int = 0  # values that did not fit their columns (clean.py), in records written
    skipped: int = 0  # records that could not be stored at all
    skipped_ids: dict[str, list[int]] = field(default_factory=dict)  # entity key -> remote ids

    def add(self, other: "Tally") -> None:
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted
        self.unchanged += other.unchanged
        self.out_of_range += other.out_of_range
        for key, ids in other.skipped_ids.items():
            self.skip(key, ids, counted=False)
        self.skipped += other.skipped

    def skip(self, key: str, remote_ids: list[int], *, counted: bool = True) -> None:
        kept = self.skipped_ids.setdefault(key, [])
        kept.extend(remote_ids[: SKIPPED_IDS_KEPT - len(kept)])
        if counted:
            self.skipped += len(remote_ids)

    def uncount(self, key: str, remote_ids: list[int], *, new: bool) -> None:
        """Records counted as created (`new`) or updated that the database refused: skipped."""
        if new:
            self.created -= len(remote_ids)
        else:
            self.updated = max(0, self.updated - len(remote_ids))
        self.skip(key, remote_ids)


@dataclass(frozen=True)
class StageMove:
    deal_remote_id: int
    from_stage_remote_id: int | None
    to_stage_remote_id: int | None
    changed_at: datetime | None


@dataclass
class PageChanges:
    """What one page asks the writer to do; staged (staging.py) when not empty."""

    spec_key: str
    inserts: list[tuple] = field(default_factory=list)  # rows encoded by spec.upsert, new to the cache
    upserts: list[tuple] = field(default_factory=list)  # the other changed rows, encoded the same way
    removals: list[int] = field(default_factory=list)
    stage_moves: list[StageMove] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.upserts or self.removals or self.stage_moves)


def _existing(spec: EntitySpec, integration_id: int, remote_ids: list[int]) -> dict[int, tuple]:
    extra = ("stage_remote_id", "status") if spec.model is Deal else ()
    # order_by(): the models' default ordering would make SQLite walk a whole table in that order.
    rows = (
        spec.model.objects.filter(integration_id=integration_id, remote_id__in=remote_ids)
        .order_by()
        .values_list("remote_id", "fingerprint", *extra)
    )
    return {row[0]: row[1:] for row in rows}


def diff_page(
    spec: EntitySpec,
    integration_id: int,
    page: list,
    *,
    cached: bool = True,
    inserted: set[int] | None = None,
    non_finite_marked: bool = False,
) -> tuple[PageChanges, Tally]:
    """`cached=False` says the model has no cached rows for this integration: skip the lookup.
    `non_finite_marked`: the records were decoded by the Pipedrive client (clean.storable_json).

    `inserted`: ids of the model this run has already staged as new rows (updated here). A
    record listed twice (edited while the listing was paged) is inserted once, then upserted.
    """
    inserted = set() if inserted is None else inserted
    changes, tally = PageChanges(spec.key), Tally()
    existing = _existing(spec, integration_id, [record.id for record in page]) if cached else {}
    upsert = spec.upsert
    for record in {record.id: record for record in page}.values():
        old = existing.get(record.id)
        if spec.is_removed(record):
            if old is not None:
                changes.removals.append(record.id)
                tally.deleted += 1
            continue
        if not fits_remote_id(record.id):
            tally.skip(spec.key, [record.id])
            continue
        raw = storable_json(record.raw, non_finite_marked=non_finite_marked)
        digest = fingerprint_of(raw, salt=spec.fingerprint_salt)
        if old is not None and old[0] == digest:
            tally.unchanged += 1
            continue
        columns, out_of_range = fit_row(spec.model, spec.columns(record))
        if out_of_range:
            tally.out_of_range += len(out_of_range)
            raw = canonical_json({**json.loads(raw), OUT_OF_RANGE_KEY: out_of_range})
        row = {
            "integration_id": integration_id,
            "remote_id": record.id,
            "fingerprint": digest,
            "raw": JsonText(raw),
            **columns,
        }
        if old is None:
            tally.created += 1
            if record.id not in inserted:
                inserted.add(record.id)
                changes.inserts.append(upsert.encode(row))
            else:
                changes.upserts.append(upsert.encode(row))
            continue
        changes.upserts.append(upsert.encode(row))
        if spec.model is Deal:
            _note_deal_change(changes, tally, record, old)
        else:
            tally.updated += 1
    return changes, tally


def _note_deal_change(changes: PageChanges, tally: Tally, deal, old: tuple) -> None:
    _, old_stage, old_status = old
    if deal.is_deleted and old_status != DealStatus.DELETED:
        tally.deleted += 1
    else:
        tally.updated += 1
    if deal.stage_id != old_stage:
        changes.stage_moves.append(
            StageMove(deal.id, old_stage, deal.stage_id, deal.stage_change_time or deal.update_time)
        )
