"""How a provider describes what the sync copies: for each entity, how to fetch it and which
columns of which cache model a record fills (the provider's specs, e.g. providers/pipedrive/specs.py).

Specs are listed in the order they are written, so that rows a later entity links to (a deal's
stage, organization, person) already exist when it is written. Records need only ``id``,
``update_time`` (for incremental entities) and ``is_deleted``.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import models

from integrations.providers.base import PageCallback
from integrations.sync.upsert import Upsert, upsert_for

# fetch(client, updated_since, on_page) -> records
Fetch = Callable[[Any, datetime | None, PageCallback], Iterator]
# One entity's listing, ready to run: listing(on_page) -> records.
Listing = Callable[[PageCallback], Iterable]


@dataclass(frozen=True)
class Link:
    """A foreign key resolved from the remote id kept next to it (deal.stage from stage_remote_id)."""

    field: str
    remote_field: str
    target: type[models.Model]


@dataclass(frozen=True)
class EntitySpec:
    key: str  # also the key of its high-water mark in Integration.sync_marks
    model: type[models.Model]
    fetch: Fetch
    columns: Callable[[object], dict]
    incremental: bool = False
    links: tuple[Link, ...] = ()
    # Part of every fingerprint: when what the columns are derived from changes (custom field
    # names), every row is rewritten once.
    fingerprint_salt: bytes = b""
    # Records deleted upstream are removed from the cache (otherwise they keep a "deleted" status).
    removes_deleted: bool = False

    @property
    def upsert(self) -> Upsert:
        """Foreign keys are resolved, and synced_at stamped, only when the staged rows are applied."""
        return upsert_for(self.model, self.links)

    def staged_in(self, prefix: str) -> Upsert:
        """The same columns and SQL, staged in the temp tables named by `prefix`."""
        return upsert_for(self.model, self.links, prefix)

    def listing(self, client: Any, since: datetime | None) -> Listing:
        return partial(self.fetch, client, since)

    def is_removed(self, record) -> bool:
        return self.removes_deleted and record.is_deleted


def linking_specs(specs: tuple[EntitySpec, ...], target: type[models.Model]) -> list[tuple[type, Link]]:
    """(model, link) pairs that point at `target`, one per model."""
    seen, pairs = set(), []
    for spec in specs:
        for link in spec.links:
            if link.target is target and (spec.model, link.field) not in seen:
                seen.add((spec.model, link.field))
                pairs.append((spec.model, link))
    return pairs
