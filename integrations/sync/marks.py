"""High-water marks: the newest update_time seen per entity, stored on Integration.sync_marks
(a provider may drop some when what its records mean changes: see its sync_plan)."""

from datetime import UTC, datetime, timedelta

from django.utils.dateparse import parse_datetime as parse_iso

# Ask again for a few minutes before the mark: clocks and same-second edits are not exact.
OVERLAP = timedelta(minutes=5)
# How far past a run's start a new mark may go: Pipedrive's clock may run a little ahead of ours,
# but a record dated 2099 must not move the mark there (nothing older would ever come again).
MAX_CLOCK_SKEW = timedelta(minutes=5)


def parse_mark(value: str | None) -> datetime | None:
    """A stored mark ("2026-01-02T03:04:05Z") as an aware datetime."""
    parsed = parse_iso(value) if value else None
    return parsed.replace(tzinfo=UTC) if parsed and parsed.tzinfo is None else parsed


def updated_since(marks: dict, key: str) -> datetime | None:
    mark = parse_mark(marks.get(key))
    return mark - OVERLAP if mark else None


def next_marks(marks: dict, newest: dict[str, datetime], *, cap: datetime, reset=()) -> dict:
    """`marks` moved forward to the newest times seen, never past `cap` (the run's start plus
    MAX_CLOCK_SKEW) and otherwise never backwards.

    `reset`: keys whose old marks are dropped first: a full sync saw every record, so its marks
    are what it saw (this is how a mark once pushed into the future is repaired).
    """
    result = {key: value for key, value in marks.items() if key not in reset}
    for key, moment in newest.items():
        moment = min(moment, cap)
        current = parse_mark(result.get(key))
        if current is None or moment > current:
            result[key] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return result
