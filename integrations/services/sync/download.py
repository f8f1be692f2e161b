"""Stream every entity's pages from Pipedrive, diff each page against the cache, spool the changes.

Nothing is written to the cache here; see write.py. Memory holds one page at a time.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import models

from integrations.pipedrive.client import PageInfo, PipedriveClient
from integrations.services.sync.diff import Tally, diff_page
from integrations.services.sync.entities import EntitySpec
from integrations.services.sync.marks import updated_since
from integrations.services.sync.staging import Spool


@dataclass
class Download:
    spool: Spool
    tally: Tally = field(default_factory=Tally)
    newest: dict[str, datetime] = field(default_factory=dict)  # the next high-water marks
    seen: dict[type[models.Model], set[int]] = field(default_factory=lambda: defaultdict(set))


def custom_field_names(client: PipedriveClient, on_page: Callable[[PageInfo], None]) -> dict[str, str]:
    return {f.key: f.name for f in client.iter_deal_fields(on_page=on_page) if f.is_custom_field}


def download(
    *,
    client: PipedriveClient,
    specs: tuple[EntitySpec, ...],
    integration_id: int,
    marks: dict,
    full: bool,
    spool: Spool,
    on_page: Callable[[PageInfo], None],
) -> Download:
    result = Download(spool=spool)
    for spec in specs:
        since = updated_since(marks, spec.key) if spec.incremental and not full else None
        _download_entity(client, spec, integration_id, since, result, on_page, track_seen=full)
    return result


def _download_entity(client, spec, integration_id, since, result: Download, on_page, *, track_seen: bool) -> None:
    page: list = []

    def flush() -> None:
        if not page:
            return
        changes, tally = diff_page(spec, integration_id, page)
        result.tally.add(tally)
        if changes:
            result.spool.add(changes)
        if track_seen:
            result.seen[spec.model].update(record.id for record in page if not spec.is_removed(record))
        if spec.incremental:
            _note_newest(result.newest, spec.key, page)
        page.clear()

    def page_done(info: PageInfo) -> None:
        # The client reports a page after yielding its records, so `page` holds exactly that page.
        flush()
        on_page(info)

    for record in spec.fetch(client, since, page_done):
        page.append(record)
    flush()


def _note_newest(newest: dict[str, datetime], key: str, page: list) -> None:
    times = [record.update_time for record in page if record.update_time is not None]
    if times and (key not in newest or max(times) > newest[key]):
        newest[key] = max(times)
