"""High-water marks: the newest update_time seen per entity, stored on Integration.sync_marks."""

from datetime import datetime, timedelta

from integrations.providers.pipedrive.records import parse_datetime

# Ask again for a few minutes before the mark: clocks and same-second edits are not exact.
OVERLAP = timedelta(minutes=5)
# How far past a run's start a new mark may go: Pipedrive's clock may run a little ahead of ours,
# but a record dated 2099 must not move the mark there (nothing older would ever come again).
MAX_CLOCK_SKEW = timedelta(minutes=5)


def updated_since(marks: dict, key: str) -> datetime | None:
    mark = parse_datetime(marks.get(key))
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
        current = parse_datetime(result.get(key))
        if current is None or moment > current:
            result[key] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return result


CUSTOM_FIELDS_MARK = "custom_fields_version"
DEAL_MARKS = ("deals", "archived_deals")


def with_custom_fields_version(marks: dict, version: str) -> dict:
    """`marks` for a run whose deal custom fields are at `version`.

    Deals store custom fields by name and option label: when a field is renamed or its options
    change, every deal is fetched again (its deal marks are dropped), not only updated ones.
    """
    if marks.get(CUSTOM_FIELDS_MARK) == version:
        return marks
    kept = {key: value for key, value in marks.items() if key not in DEAL_MARKS}
    return {**kept, CUSTOM_FIELDS_MARK: version}
