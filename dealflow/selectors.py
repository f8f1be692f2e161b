"""Reads behind the dealflow board: columns, totals, hidden deals, cards and one deal.

Every function here runs a fixed number of SQL queries whatever the number of deals: totals
are GROUP BY queries over the whole column, cards are fetched one page at a time.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Case, CharField, Count, DecimalField, F, Prefetch, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from dealflow.models import Deal, DealStatus, Owner, Pipeline, StageChange
from dealflow.stages import MappingTarget, StandardStage
from integrations.models import Integration

PAGE_SIZE = 25
UNMAPPED = MappingTarget.UNMAPPED.value
EXCLUDED = MappingTarget.EXCLUDED.value
CLOSED_WON = StandardStage.CLOSED_WON.value
COLUMN_LABELS = {**{stage.value: stage.label for stage in StandardStage}, UNMAPPED: "Unmapped"}
BOARD_COLUMN_KEYS = [*(stage.value for stage in StandardStage), UNMAPPED]


@dataclass(frozen=True)
class BoardFilters:
    q: str = ""
    owner_id: int | None = None
    pipeline_id: int | None = None
    won_since: datetime | None = None  # None: won deals of any date


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    count: int
    value: Decimal
    weighted_value: Decimal


@dataclass
class Card:
    deal: Deal
    days_in_stage: int | None
    is_rotting: bool

    @property
    def deal_url(self) -> str:
        return self.deal.integration.deal_url(self.deal.remote_id)


@dataclass
class Column:
    key: str
    label: str
    count: int = 0
    totals: list[CurrencyTotal] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    has_more: bool = False
    # Unmapped only: the integrations whose stage mappings staff should fix.
    integrations: list[Integration] = field(default_factory=list)


@dataclass(frozen=True)
class HiddenStage:
    name: str
    count: int


@dataclass(frozen=True)
class HiddenDeals:
    """Open deals in excluded stages: kept off the board, but counted under it."""

    stages: list[HiddenStage]

    @property
    def count(self) -> int:
        return sum(stage.count for stage in self.stages)


# --- Column assignment -----------------------------------------------------------------------

def board_column_expression():
    """The column a board deal belongs in, as SQL (used for GROUP BY totals)."""
    return Case(
        When(status=DealStatus.WON, then=Value(CLOSED_WON)),
        When(stage__mapping__target__isnull=False, then=F("stage__mapping__target")),
        default=Value(UNMAPPED),
        output_field=CharField(),
    )


def column_condition(column: str) -> Q:
    """The same assignment as `board_column_expression`, as a filter (so indexes can help)."""
    if column == CLOSED_WON:
        return Q(status=DealStatus.WON) | Q(status=DealStatus.OPEN, stage__mapping__target=CLOSED_WON)
    if column == UNMAPPED:
        return Q(status=DealStatus.OPEN) & (
            Q(stage__mapping__isnull=True) | Q(stage__mapping__target=UNMAPPED)
        )
    return Q(status=DealStatus.OPEN, stage__mapping__target=column)


def won_at_expression():
    return Coalesce("won_time", "close_time", "stage_change_time", "update_time")


def weighted_value_times_100():
    """value × probability; won deals count in full. Divided by 100 in Python, not in SQL,
    because SQLite divides integers as integers."""
    return Case(
        When(status=DealStatus.WON, then=F("value") * 100),
        default=F("value") * Coalesce(F("stage__deal_probability"), 100),
        output_field=DecimalField(max_digits=24, decimal_places=2),
    )


# --- Querysets ---------------------------------------------------------------------------------

def company_ids(companies) -> list[int]:
    return [company.pk for company in companies]


def board_deals(*, companies, filters: BoardFilters):
    """Deals that may show on the board (any column), before the won period is applied."""
    deals = Deal.objects.filter(
        integration__company_id__in=company_ids(companies),
        status__in=[DealStatus.OPEN, DealStatus.WON],
        is_archived=False,
    )
    if filters.q:
        deals = deals.filter(
            Q(title__icontains=filters.q)
            | Q(organization__name__icontains=filters.q)
            | Q(person__name__icontains=filters.q)
        )
    if filters.owner_id:
        deals = deals.filter(owner_id=filters.owner_id)
    if filters.pipeline_id:
        deals = deals.filter(pipeline_id=filters.pipeline_id)
    return deals


def column_deals(*, companies, filters: BoardFilters, column: str):
    deals = board_deals(companies=companies, filters=filters).filter(column_condition(column))
    if column == CLOSED_WON:
        deals = deals.alias(won_at=won_at_expression())
        if filters.won_since:
            deals = deals.filter(won_at__gte=filters.won_since)
        return deals.order_by(F("won_at").desc(nulls_last=True), "-id")
    return deals.order_by(F("update_time").desc(nulls_last=True), "-id")


def in_won_period(filters: BoardFilters) -> Q:
    if not filters.won_since:
        return Q()
    return ~Q(board_column=CLOSED_WON) | Q(won_at__gte=filters.won_since)


# --- Board -------------------------------------------------------------------------------------

def column_totals(*, companies, filters: BoardFilters) -> dict[str, list[CurrencyTotal]]:
    """Count, value and weighted value per column and currency, in one GROUP BY query."""
    rows = (
        board_deals(companies=companies, filters=filters)
        .annotate(board_column=board_column_expression())
        .alias(won_at=won_at_expression())
        .filter(in_won_period(filters))
        .exclude(board_column=EXCLUDED)
        .values("board_column", "currency")
        .annotate(count=Count("id"), total_value=Sum("value"), weighted_100=Sum(weighted_value_times_100()))
        .order_by("board_column", "currency")
    )
    totals = defaultdict(list)
    for row in rows:
        totals[row["board_column"]].append(
            CurrencyTotal(
                currency=row["currency"] or "",
                count=row["count"],
                value=Decimal(row["total_value"] or 0),
                weighted_value=Decimal(row["weighted_100"] or 0) / 100,
            )
        )
    return totals


def hidden_deals(*, companies, filters: BoardFilters) -> HiddenDeals:
    """Open deals in excluded stages, counted per stage name."""
    rows = (
        board_deals(companies=companies, filters=filters)
        .filter(status=DealStatus.OPEN, stage__mapping__target=EXCLUDED)
        .values("stage__name")
        .annotate(count=Count("id"))
        .order_by("-count", "stage__name")
    )
    return HiddenDeals(stages=[HiddenStage(name=row["stage__name"], count=row["count"]) for row in rows])


def column_cards(*, companies, filters: BoardFilters, column: str, offset: int = 0, now=None):
    """One page of cards and whether more follow."""
    deals = list(
        column_deals(companies=companies, filters=filters, column=column)
        .select_related("stage", "organization", "person", "owner", "integration__company")
        [offset : offset + PAGE_SIZE + 1]
    )
    now = now or timezone.now()
    return [card_for(deal, now) for deal in deals[:PAGE_SIZE]], len(deals) > PAGE_SIZE


def card_for(deal: Deal, now: datetime) -> Card:
    days = days_in_stage(deal, now)
    stage = deal.stage
    rotting = bool(
        deal.status == DealStatus.OPEN
        and stage is not None
        and stage.is_deal_rot_enabled
        and stage.days_to_rotten is not None
        and days is not None
        and days > stage.days_to_rotten
    )
    return Card(deal=deal, days_in_stage=days, is_rotting=rotting)


def days_in_stage(deal: Deal, now: datetime) -> int | None:
    since = deal.stage_change_time or deal.add_time
    return max((now - since).days, 0) if since else None


def board_columns(*, companies, filters: BoardFilters, now=None) -> list[Column]:
    """The six standard columns (and Unmapped when it has deals), each with its first page."""
    totals = column_totals(companies=companies, filters=filters)
    columns = []
    for key in BOARD_COLUMN_KEYS:
        column = Column(key=key, label=COLUMN_LABELS[key], totals=totals.get(key, []))
        column.count = sum(total.count for total in column.totals)
        if key == UNMAPPED and not column.count:
            continue
        if column.count:
            column.cards, column.has_more = column_cards(
                companies=companies, filters=filters, column=key, now=now
            )
        if key == UNMAPPED:
            column.integrations = unmapped_integrations(companies=companies, filters=filters)
        columns.append(column)
    return columns


def unmapped_integrations(*, companies, filters: BoardFilters) -> list[Integration]:
    deals = column_deals(companies=companies, filters=filters, column=UNMAPPED)
    return list(
        Integration.objects.filter(pk__in=deals.order_by().values("integration_id"))
        .select_related("company")
        .order_by("company__name")
    )


# --- Filters' choices, one deal ----------------------------------------------------------------

def owners_of(companies):
    return (
        Owner.objects.filter(integration__company_id__in=company_ids(companies))
        .select_related("integration__company")
        .order_by("name", "integration__company__name")
    )


def pipelines_of(companies):
    return (
        Pipeline.objects.filter(integration__company_id__in=company_ids(companies), is_deleted=False)
        .select_related("integration__company")
        .order_by("integration__company__name", "order_nr", "name")
    )


def deal_detail(*, company, deal_id: int) -> Deal:
    """One deal of `company` with everything the panel shows (raises Deal.DoesNotExist)."""
    return (
        Deal.objects.select_related(
            "stage__mapping", "pipeline", "organization", "person__organization", "owner", "integration__company"
        )
        .prefetch_related(
            Prefetch(
                "stage_changes",
                queryset=StageChange.objects.select_related("from_stage", "to_stage").order_by("changed_at", "id"),
            )
        )
        .get(pk=deal_id, integration__company=company)
    )



def board_column_of(deal: Deal) -> str:
    """The column of one loaded deal (mirrors `board_column_expression`), or why it is hidden."""
    if deal.is_archived or deal.status not in (DealStatus.OPEN, DealStatus.WON):
        return "hidden"
    if deal.status == DealStatus.WON:
        return CLOSED_WON
    mapping = getattr(deal.stage, "mapping", None) if deal.stage else None
    return mapping.target if mapping else UNMAPPED


def export_deals(*, companies, filters: BoardFilters):
    """Every deal on the filtered board (all columns), annotated with its column, in board order."""
    column_order = Case(
        *(When(board_column=key, then=Value(index)) for index, key in enumerate(BOARD_COLUMN_KEYS)),
        default=Value(len(BOARD_COLUMN_KEYS)),
    )
    return (
        board_deals(companies=companies, filters=filters)
        .annotate(board_column=board_column_expression())
        .alias(won_at=won_at_expression(), column_order=column_order)
        .filter(in_won_period(filters))
        .exclude(board_column=EXCLUDED)
        .select_related("stage", "organization", "person", "owner", "integration__company")
        .order_by("integration__company__name", "column_order", F("update_time").desc(nulls_last=True), "-id")
    )
