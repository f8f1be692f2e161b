"""Keyset pagination over one sandbox collection, the way Pipedrive's v2 cursors behave.

A cursor names the last row served (its sort key and id), so rows that change between pages
neither shift nor repeat the rest of the listing. The sorted index is cached per collection and
sort field until the store changes, so paging through 100,000 deals sorts them once.
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    after: tuple
    page_number: int

    def encode(self) -> str:
        raw = json.dumps({"k": list(self.after), "p": self.page_number}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            return cls(after=tuple(data["k"]), page_number=int(data["p"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise BadCursor("cursor is not valid") from None


def page_number_of(cursor_text: str | None) -> int:
    """1 for the first page; the page a cursor leads to otherwise (0 if it is unreadable)."""
    if not cursor_text:
        return 1
    try:
        return Cursor.decode(cursor_text).page_number + 1
    except BadCursor:
        return 0


class Lister:
    def __init__(self) -> None:
        self._indexes: dict[tuple[str, str], tuple[int, list[tuple]]] = {}

    def page(
        self,
        collection: str,
        rows: Mapping[int, Any],
        *,
        version: int,
        sort_by: str,
        descending: bool,
        keep: Callable[[Any], bool],
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Any], str | None]:
        keys = self._index(collection, rows, version, sort_by)
        start = Cursor.decode(cursor) if cursor else None
        if descending:
            first = bisect_left(keys, start.after) - 1 if start else len(keys) - 1
            positions = range(first, -1, -1)
        else:
            first = bisect_right(keys, start.after) if start else 0
            positions = range(first, len(keys))
        served: list[Any] = []
        last_key: tuple = ()
        for position in positions:
            row = rows[keys[position][1]]
            if not keep(row):
                continue
            if len(served) == limit:
                page_number = start.page_number + 1 if start else 1
                return served, Cursor(after=last_key, page_number=page_number).encode()
            served.append(row)
            last_key = keys[position]
        return served, None

    def _index(self, collection: str, rows: Mapping[int, Any], version: int, sort_by: str) -> list[tuple]:
        cached = self._indexes.get((collection, sort_by))
        if cached is not None and cached[0] == version:
            return cached[1]
        keys = sorted((row[sort_by], row_id) for row_id, row in rows.items())
        self._indexes[(collection, sort_by)] = (version, keys)
        return keys
