"""Stream every entity's pages from Pipedrive, diff each page against the cache, stage the changes.

Nothing is written to the cache here (staging.py writes temporary tables only); see write.py.
Every entity's listing is fetched at once, each in a background thread (prefetch.py), within the
provider's burst limit (its client paces them); the pages are diffed and staged here, in this
thread, in whatever order they arrive. That order changes nothing: the high-water marks are
maxima, the seen sets are sets, and each listing's own pages still arrive in order. Memory holds a
few pages per listing.

Each listing stays one cursor chain, so a download makes exactly the requests of the sequential
one (same pages, same token cost). Splitting a listing into several chains (per status, from
both ends) would end each extra chain in a partial page, and nothing we can know before the
listing (Pipedrive gives no counts; the cache's are from the last sync) proves those pages free.
"""

from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models

from integrations.providers.base import PageInfo
from integrations.sync.diff import Tally, diff_page
from integrations.sync.entities import EntitySpec
from integrations.sync.marks import updated_since
from integrations.sync.prefetch import chains_ahead
from integrations.sync.staging import Staging


@dataclass
class Download:
    staging: Staging
    marks: dict  # the high-water marks this download started from
    tally: Tally = field(default_factory=Tally)
    newest: dict[str, datetime] = field(default_factory=dict)  # the next high-water marks
    seen: dict[type[models.Model], set[int]] = field(default_factory=lambda: defaultdict(set))
    cached: set[type[models.Model]] = field(default_factory=set)  # models with rows before this run
    inserted: dict[type[models.Model], set[int]] = field(default_factory=lambda: defaultdict(set))
    # The client decodes NaN and Infinity as fingerprint.NonFinite (clean.storable_json).
    non_finite_marked: bool = False


def download(
    *,
    client: Any,
    specs: tuple[EntitySpec, ...],
    integration_id: int,
    marks: dict,
    full: bool,
    staging: Staging,
    on_page: Callable[[PageInfo], None],
) -> Download:
    # A model with no cached rows (a first sync) needs no per-page lookup of what is cached;
    # nothing is written until the download ends, so this holds for the whole download.
    cached = {model for model in {spec.model for spec in specs} if _has_rows(model, integration_id)}
    marked = getattr(client, "MARKS_NON_FINITE", False)
    result = Download(staging=staging, marks=marks, cached=cached, non_finite_marked=marked)
    listings = [
        spec.listing(client, updated_since(marks, spec.key) if spec.incremental and not full else None)
        for spec in specs
    ]
    # closing(): stop every fetching thread as soon as anything here fails (a lost lease, say).
    with closing(chains_ahead(listings, interrupt=getattr(client, "interrupt", None))) as pages:
        for index, page, info in pages:
            spec = specs[index]
            _take_page(spec, integration_id, page, result, cached=spec.model in cached, track_seen=full)
            if info is not None:
                on_page(info)
    _in_spec_order(staging, specs)
    return result


def _in_spec_order(staging: Staging, specs: tuple[EntitySpec, ...]) -> None:
    """write.py applies the staged tables in the order they were first staged, which must be the
    specs' (rows a model links to are written before it); pages now arrive in any order."""
    order = {}
    for spec in specs:
        order.setdefault(spec.model, len(order))
    staging.tables = dict(sorted(staging.tables.items(), key=lambda item: order[item[0]]))


def _has_rows(model: type[models.Model], integration_id: int) -> bool:
    return model.objects.filter(integration_id=integration_id).exists()


def _take_page(spec: EntitySpec, integration_id: int, page: list, result: Download, *, cached, track_seen) -> None:
    inserted = result.inserted[spec.model]
    changes, tally = diff_page(
        spec, integration_id, page, cached=cached, inserted=inserted, non_finite_marked=result.non_finite_marked
    )
    result.tally.add(tally)
    if changes:
        result.staging.add(spec, changes, result.tally)
    if track_seen:
        result.seen[spec.model].update(record.id for record in page if not spec.is_removed(record))
    if spec.incremental:
        _note_newest(result.newest, spec.key, page)


def _note_newest(newest: dict[str, datetime], key: str, page: list) -> None:
    times = [record.update_time for record in page if record.update_time is not None]
    if times and (key not in newest or max(times) > newest[key]):
        newest[key] = max(times)
