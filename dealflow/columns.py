"""Which board column a deal belongs in: the one rule, in its three forms side by side.

The rule (README, "The board"):

- lost, deleted and archived deals are never on the board;
- won deals are in Closed Won whatever their stage, if won within the won period (when one is set);
- open deals are in the column their stage is mapped to: Closed Won ("verbal yes", not won in
  Pipedrive), another standard column, excluded (hidden from the board, but counted above it),
  or Unmapped when the stage's mapping says so, when it has no mapping, or when there is no stage.

The same rule is needed as Python (rows already read), as a filter (`Q`) and as a column value
(`CASE`) in SQL. The three are kept here together so that a change to one is made to all;
tests/dealflow/test_columns.py checks that they agree on every combination.

The SQL forms take `targets`, each stage's mapping target by stage id (see
`selectors.StageMap.target`): the board's companies have few stages, so the queries that touch
every deal filter on deals.stage_id alone, without a join to the mapping table. They describe
deals already filtered by `on_board`: the board queries apply it once, to all columns at once.
"""

from datetime import datetime

from django.db.models import Case, CharField, Q, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual

from dealflow.models import DealStatus
from dealflow.stages import MappingTarget, StandardStage

UNMAPPED = MappingTarget.UNMAPPED.value
EXCLUDED = MappingTarget.EXCLUDED.value
CLOSED_WON = StandardStage.CLOSED_WON.value
BOARD_COLUMN_KEYS = [*(stage.value for stage in StandardStage), UNMAPPED]
# Every column a deal on the board can be in: the board's, and the excluded stages (counted, not shown).
COLUMN_KEYS = [*BOARD_COLUMN_KEYS, EXCLUDED]
SHOWN_STATUSES = (DealStatus.OPEN, DealStatus.WON)


def won_at_expression():
    """When a won deal was won, as SQL (Pipedrive leaves won_time empty on some old deals)."""
    return Coalesce("won_time", "close_time", "stage_change_time", "update_time")


# --- Python ------------------------------------------------------------------------------------


def column_of(
    *,
    status: str,
    target: str | None,
    is_archived: bool = False,
    won_at: datetime | None = None,
    won_since: datetime | None = None,
) -> str | None:
    """A deal's column key, or None when it is not on the board.

    `target` is its stage's mapping target (None: no stage, or a stage without a mapping);
    `won_at` its win date as `won_at_expression` computes it; `won_since` the won period's start
    (None: won deals of any date)."""
    if is_archived or status not in SHOWN_STATUSES:
        return None
    if status == DealStatus.WON:
        in_period = won_since is None or (won_at is not None and won_at >= won_since)
        return CLOSED_WON if in_period else None
    return target or UNMAPPED


def column_of_deal(deal, *, won_since: datetime | None = None) -> str | None:
    """`column_of` for one loaded deal (its stage and the stage's mapping loaded with it)."""
    mapping = getattr(deal.stage, "mapping", None) if deal.stage else None
    won_at = deal.won_time or deal.close_time or deal.stage_change_time or deal.update_time
    return column_of(
        status=deal.status,
        target=mapping.target if mapping else None,
        is_archived=deal.is_archived,
        won_at=won_at,
        won_since=won_since,
    )


def is_verbal_yes(status: str, column: str | None) -> bool:
    """An open deal in Closed Won: its stage is mapped there, but Pipedrive does not count it as won."""
    return status == DealStatus.OPEN and column == CLOSED_WON


# --- Q -----------------------------------------------------------------------------------------


def on_board(won_since: datetime | None = None) -> Q:
    """Deals on the board, in any column (the excluded stages' too)."""
    shown = Q(status__in=SHOWN_STATUSES, is_archived=False)
    if won_since is None:
        return shown
    return shown & (~Q(status=DealStatus.WON) | Q(GreaterThanOrEqual(won_at_expression(), won_since)))


def stage_ids(targets: dict[int, str], column: str) -> list[int]:
    return [stage_id for stage_id, target in targets.items() if target == column]


def in_column(targets: dict[int, str], column: str) -> Q:
    """The deals on the board (see `on_board`) that are in `column`."""
    open_in_column = Q(status=DealStatus.OPEN, stage_id__in=stage_ids(targets, column))
    if column == CLOSED_WON:
        return Q(status=DealStatus.WON) | open_in_column
    if column == UNMAPPED:
        return open_in_column | Q(status=DealStatus.OPEN, stage__isnull=True)
    return open_in_column


# --- CASE --------------------------------------------------------------------------------------


def column_expression(targets: dict[int, str]) -> Case:
    """Each deal's column key, for deals on the board (see `on_board`)."""
    whens = [When(status=DealStatus.WON, then=Value(CLOSED_WON))] + [
        When(stage_id__in=stage_ids(targets, key), then=Value(key)) for key in COLUMN_KEYS if key != UNMAPPED
    ]
    return Case(*whens, default=Value(UNMAPPED), output_field=CharField())
