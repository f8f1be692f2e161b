"""GET /v1/deals/{id}/changelog: a deal's field changes, newest first, in Pipedrive's v1 shape
({field_key, old_value, new_value, actor_user_id, time "YYYY-MM-DD HH:MM:SS" UTC, change_source,
...}), paged by an opaque cursor.

A seeded deal's history is made up from the seed alone (the same dataset, size and day give the
same changelog): it entered its pipeline's first stage when added, passed a few later stages and
reached its current one at its stage_change_time (a deal back in the first stage went forward and
was moved back), with title and value edits in between that a reader of stage changes must ignore.
Changes made later (the control API, write-back) are recorded as they happen by a store listener;
tests add hostile entries with add_entries().
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .endpoints import ApiError, Request, Response, _limit
from .listing import BadCursor, Cursor
from .store import Store

if TYPE_CHECKING:
    from .core import Sandbox

CHANGELOG_TIME = "%Y-%m-%d %H:%M:%S"
# The deal fields whose changes are logged (v2 names; Pipedrive logs many more).
LOGGED_FIELDS = ("stage_id", "title", "value", "status", "owner_id", "expected_close_date")
# A seeded deal's made-up basis: what it looked like before any live change.
BASIS_FIELDS = ("pipeline_id", "stage_id", "add_time", "stage_change_time", "owner_id", "title", "value")
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
DEFAULT_LIMIT = 100


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _logged_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(CHANGELOG_TIME)


def entry(field_key: str, old: Any, new: Any, *, at: datetime, user_id: Any, source: str = "app") -> dict:
    """One changelog entry; values are strings (or null) as Pipedrive sends them."""
    return {
        "field_key": field_key,
        "old_value": None if old is None else str(old),
        "new_value": None if new is None else str(new),
        "actor_user_id": user_id,
        "time": _logged_time(at),
        "change_source": source,
        "change_source_user_agent": USER_AGENT if source == "app" else None,
        "is_bulk_update_flag": False,
    }


class Changelog:
    def __init__(self, store: Store, dataset: str) -> None:
        self.store = store
        self.dataset = dataset
        self._seeded = frozenset(store.deals)
        self._basis: dict[int, dict] = {}  # seeded deals' state before their first live change
        self._recorded: dict[int, list[dict]] = {}  # live changes and added entries, oldest first
        store.listeners.append(self._on_change)

    # -- reads ----------------------------------------------------------------------------

    def entries(self, deal_id: int) -> list[dict]:
        """Every entry of a deal, newest first; LookupError when the deal does not exist."""
        row = self.store.deals.get(int(deal_id))
        if row is None:
            raise LookupError(f"deal {deal_id} does not exist")
        seeded = self._seeded_entries(row.id, self._basis.get(row.id) or row.to_api()) if row.id in self._seeded else []
        every = [*seeded, *self._recorded.get(row.id, [])]
        return sorted(every, key=lambda item: str(item.get("time")) if isinstance(item, dict) else "", reverse=True)

    def add_entries(self, deal_id: int, entries: list) -> int:
        """Add entries of any shape (tests: hostile ones) to a deal's changelog."""
        if int(deal_id) not in self.store.deals:
            raise LookupError(f"deal {deal_id} does not exist")
        if not isinstance(entries, list):
            raise ValueError("entries must be a list")
        self._recorded.setdefault(int(deal_id), []).extend(entries)
        return len(entries)

    # -- the seeded history -----------------------------------------------------------------

    def _seeded_entries(self, deal_id: int, basis: dict) -> list[dict]:
        added, moved = _parse(basis["add_time"]), _parse(basis["stage_change_time"] or basis["add_time"])
        rng = random.Random(f"{self.dataset}:changelog:{deal_id}")
        path = self._path(rng, basis)
        if moved <= added or len(path) < 2:
            path = path[-1:]
        span = max(1, int((moved - added).total_seconds()))
        times = sorted(added + timedelta(seconds=rng.randrange(1, span + 1)) for _ in range(len(path) - 2))
        times += [moved] if len(path) > 1 else []
        user = basis["owner_id"]
        log = [entry("stage_id", a, b, at=at, user_id=user) for a, b, at in zip(path, path[1:], times, strict=False)]
        # Edits of other fields on the way: what a reader of stage changes must leave alone.
        edit_at = added + timedelta(seconds=rng.randrange(1, span + 1))
        log.append(entry("value", 0, basis["value"], at=edit_at, user_id=user))
        log.append(entry("title", f"Deal {deal_id}", basis["title"], at=added + timedelta(seconds=1), user_id=user))
        return log

    def _path(self, rng: random.Random, basis: dict) -> list[int]:
        """The stages a seeded deal passed through, ending in its basis stage."""
        stages = sorted(
            (s for s in self.store.stages.values() if s["pipeline_id"] == basis["pipeline_id"]),
            key=lambda s: s["order_nr"],
        )
        ids = [s["id"] for s in stages]
        current = basis["stage_id"]
        if current not in ids or len(ids) < 2:
            return [current]
        position = ids.index(current)
        if position == 0:  # forward to the second stage, then moved back
            return [current, ids[1], current]
        between = ids[1:position]
        middle = sorted(rng.sample(between, k=rng.randint(0, min(3, len(between)))), key=ids.index)
        return [ids[0], *middle, current]

    # -- live changes -----------------------------------------------------------------------

    def _on_change(self, obj: str, action: str, current: dict, previous: dict | None) -> None:
        if obj != "deal" or previous is None:
            return
        deal_id = current["id"]
        if deal_id in self._seeded and deal_id not in self._basis:
            self._basis[deal_id] = {name: previous[name] for name in BASIS_FIELDS}
        at = _parse(current["update_time"])
        log = self._recorded.setdefault(deal_id, [])
        for name in LOGGED_FIELDS:
            if previous.get(name) != current.get(name):
                log.append(entry(name, previous.get(name), current.get(name), at=at, user_id=current["owner_id"]))


def get_changelog(sandbox: Sandbox, request: Request) -> Response:
    limit = _limit(request, DEFAULT_LIMIT)
    raw_cursor = request.query.get("cursor")
    try:
        start = Cursor.decode(raw_cursor) if raw_cursor else None
        offset = int(start.after[0]) if start else 0
    except (BadCursor, IndexError, TypeError, ValueError):
        raise ApiError(400, "Validation failed: cursor: Parameter 'cursor' is not valid") from None
    try:
        entries = sandbox.changelog.entries(request.path_id)
    except LookupError:
        raise ApiError(404, "Deal not found") from None
    served = entries[offset : offset + limit]
    more = offset + limit < len(entries)
    page_number = start.page_number + 1 if start else 1
    next_cursor = Cursor(after=(offset + limit,), page_number=page_number).encode() if more else None
    return 200, {"success": True, "data": served, "additional_data": {"next_cursor": next_cursor}}
