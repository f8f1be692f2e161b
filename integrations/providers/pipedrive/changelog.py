"""A deal's stage changes read from Pipedrive's changelog (GET /v1/deals/{id}/changelog), for the
stage history backfill (integrations/backfill/).

Only ``field_key: "stage_id"`` entries are stage changes; the rest (title, value, ...) are left
alone. Pipedrive sends the stage ids as strings and the time as "YYYY-MM-DD HH:MM:SS" in UTC; an
entry with anything else (a non-numeric id, a NUL byte, a time that is no time) is passed on with
a token-free ``problem`` that names what was wrong, never the remote text itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from integrations.providers.base import RemoteStageChange

from .client import PipedriveClient

STAGE_FIELD = "stage_id"
_STAGE_ID = re.compile(r"[0-9]{1,18}")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ")


class UnreadableEntry(ValueError):
    pass


def iter_stage_changes(client: PipedriveClient, remote_id: int) -> Iterator[RemoteStageChange]:
    for row in client.iter_deal_changelog(remote_id):
        if isinstance(row, dict) and row.get("field_key") != STAGE_FIELD:
            continue
        try:
            yield read_entry(row)
        except UnreadableEntry as problem:
            yield RemoteStageChange(problem=str(problem))


def read_entry(row: Any) -> RemoteStageChange:
    if not isinstance(row, dict):
        raise UnreadableEntry(f"a changelog entry is a {type(row).__name__}, not an object")
    old = row.get("old_value")
    return RemoteStageChange(
        changed_at=_time(row.get("time")),
        from_stage_id=None if old is None else _stage_id(old, "old_value"),
        to_stage_id=_stage_id(row.get("new_value"), "new_value"),
    )


def _stage_id(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**18:
        return value
    if isinstance(value, str) and _STAGE_ID.fullmatch(value) and int(value) > 0:
        return int(value)
    raise UnreadableEntry(f"the stage change's {name} is not a stage id ({type(value).__name__})")


def _time(value: Any) -> datetime:
    if isinstance(value, str) and "\x00" not in value:
        for pattern in _TIME_FORMATS:
            try:
                return datetime.strptime(value, pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
    raise UnreadableEntry(f"the stage change's time is not a time ({type(value).__name__})")
