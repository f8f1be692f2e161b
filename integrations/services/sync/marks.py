"""High-water marks: the newest update_time seen per entity, stored on Integration.sync_marks."""

from datetime import datetime, timedelta

from integrations.pipedrive.records import parse_datetime

# Ask again for a few minutes before the mark: clocks and same-second edits are not exact.
OVERLAP = timedelta(minutes=5)


def updated_since(marks: dict, key: str) -> datetime | None:
    mark = parse_datetime(marks.get(key))
    return mark - OVERLAP if mark else None


def advanced(marks: dict, newest: dict[str, datetime]) -> dict:
    """`marks` moved forward to the newest times seen (never backwards)."""
    result = dict(marks)
    for key, moment in newest.items():
        current = parse_datetime(result.get(key))
        if current is None or moment > current:
            result[key] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return result
