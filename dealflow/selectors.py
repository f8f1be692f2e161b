"""Reads behind the dealflow board: columns, totals, hidden deals, cards and one deal.

Every function here runs a fixed number of SQL queries whatever the number of deals: totals
are GROUP BY queries over the whole column, cards are fetched one page at a time.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Case, Count, F, Prefetch, Sum, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dealflow import newest, search_reads, statements
from dealflow.activities import NEXT_VALUES, NextActivity, next_activity, panel_prefetch, with_next_activity
from dealflow.board_totals import board_rows
from dealflow.columns import (
    BOARD_COLUMN_KEYS,
    CLOSED_WON,
    COLUMN_KEYS,
    EXCLUDED,
    UNMAPPED,
    column_expression,
    column_of,
    in_column,
    is_verbal_yes,
    on_board,
    won_at_expression,
)
from dealflow.formatting import active_language, format_money
from dealflow.fx import ConvertedTotal, converted_total, load_rates
from dealflow.models import Deal, DealStatus, Owner, Pipeline, Stage, StageChange, StageMapping
from dealflow.rotting import is_rotting
from dealflow.stages import StandardStage
from integrations.models import Integration
from integrations.providers.base import Category
from portfolio.models import PortfolioCompany, logo_content_type

PAGE_SIZE = 25
COLUMN_LABELS = {
    **{stage.value: stage.label for stage in StandardStage},
    UNMAPPED: _("Unmapped"),
    EXCLUDED: _("Hidden"),
}
# Columns whose cards can be listed page by page: the board's, and the hidden deals' list.
LISTABLE_COLUMN_KEYS = COLUMN_KEYS


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


@dataclass(frozen=True)
class Card:
    """What one card shows, as display-ready values (a page of cards renders many times a second)."""

    title: str
    url: str  # the deal's page on the board
    company_name: str
    company_slug: str
    company_has_logo: bool
    stage_name: str | None  # the company's own stage name
    is_verbal: bool  # open in a stage mapped to Closed Won: a verbal yes, not won in Pipedrive
    organization_name: str | None  # None when the title already names it
    person_name: str | None
    owner_name: str | None
    value_text: str
    days_in_stage: int | None
    rot_limit: int | None  # the stage's rot limit in days, set only when the deal is rotting (rotting.py)
    is_open: bool = False
    deal_id: int = 0
    # Its page's next activities by deal id (dealflow/activities.py); cards compare by what they show.
    activities: dict[int, NextActivity] | None = field(default=None, compare=False, repr=False)

    @property
    def is_rotting(self) -> bool:
        return self.rot_limit is not None

    @property
    def next_activity(self) -> NextActivity | None:
        """Its next undone activity; an open deal without one is marked, as Pipedrive does."""
        return self.activities.get(self.deal_id) if self.activities else None


@dataclass
class Column:
    key: str
    label: str
    count: int = 0
    totals: list[CurrencyTotal] = field(default_factory=list)
    # Closed Won only: the open deals in stages mapped to Closed Won ("verbal yes"), included in
    # `count` and `totals` but shown apart, since Pipedrive does not count them as won.
    verbal_totals: list[CurrencyTotal] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    has_more: bool = False
    # Unmapped only: the integrations whose stage mappings staff should fix.
    integrations: list["UnmappedIntegration"] = field(default_factory=list)
    # All totals in one currency (dealflow.fx), above the per-currency lines; None when all are in it.
    converted: ConvertedTotal | None = None

    @property
    def verbal_count(self) -> int:
        return sum(total.count for total in self.verbal_totals)


@dataclass(frozen=True)
class HiddenStage:
    company_name: str
    name: str
    count: int


@dataclass(frozen=True)
class HiddenDeals:
    """Open deals in excluded stages: kept off the board, but counted under it."""

    stages: list[HiddenStage]  # by company name, then most deals first

    @property
    def count(self) -> int:
        return sum(stage.count for stage in self.stages)

    @property
    def by_company(self) -> list[tuple[str, list[HiddenStage]]]:
        grouped = defaultdict(list)
        for stage in self.stages:
            grouped[stage.company_name].append(stage)
        return list(grouped.items())


# --- Column assignment -----------------------------------------------------------------------
#
# The rule itself is dealflow.columns. Its input here: one small query maps the board's stage
# ids to their mapping targets (the board's companies have few stages, tens).


@dataclass(frozen=True)
class StageMap:
    integration_ids: list[int]
    target: dict[int, str]  # stage id -> mapping target (unmapped when the stage has no mapping row)
    probability: dict[int, int]
    name: dict[int, str]
    company_name: dict[int, str]  # stage id -> its company's name
    integration_of: dict[int, int] = field(default_factory=dict)  # stage id -> its integration's id
    # integration id -> its company's (name, slug, logo): the cards' company line, without a join
    company_of: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    # stage id -> (is_deal_rot_enabled, days_to_rotten): the cards' rot, without a join either
    rot: dict[int, tuple[bool, int | None]] = field(default_factory=dict)
    # integration id -> [(remote id, mapping target)] of the stages a new deal may be put in (not
    # deleted, of a pipeline not deleted), in the new deal form's order (deal_forms.new_deal_stages)
    open_stages: dict[int, list[tuple[int, str]]] = field(default_factory=dict)

    def column_of(self, status: str, stage_id: int | None) -> str:
        """The column of a deal on the board (see `columns.on_board`)."""
        return column_of(status=status, target=self.target.get(stage_id))

    def weight(self, status: str, stage_id: int | None) -> int:
        return weight_percent(status, self.probability.get(stage_id))


def weight_percent(status: str, stage_probability: int | None) -> int:
    """Percent of a deal's value that counts as weighted value: its stage's probability, but won
    deals (and deals without a stage) count in full. The column totals and the CSV share it."""
    if status == DealStatus.WON or stage_probability is None:
        return 100
    return stage_probability


def stage_map(companies) -> StageMap:
    ids = company_ids(companies)
    rows = []
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(STAGE_MAP_SQL.format(", ".join(["%s"] * len(ids))), [Category.CRM.value, *ids])
            rows = cursor.fetchall()
    company_of, target, probability, name, company_name, integration_of, rot = {}, {}, {}, {}, {}, {}, {}
    open_stages = defaultdict(list)
    for integration_id, company, slug, logo, stage_id, stage_name, stage_probability, stage_target, *more in rows:
        company_of.setdefault(integration_id, (company, slug, logo))
        if stage_id is None:  # an integration without stages
            continue
        target[stage_id] = stage_target or UNMAPPED
        rot_enabled, days_to_rotten, remote_id, pipeline_order, pipeline_remote_id, order_nr, is_open = more
        rot[stage_id] = (rot_enabled, days_to_rotten)
        if is_open:
            order = (pipeline_order, *nulls_as_ordered(pipeline_remote_id), order_nr, remote_id)
            open_stages[integration_id].append((order, remote_id, target[stage_id]))
        probability[stage_id] = stage_probability
        name[stage_id] = stage_name
        company_name[stage_id] = company_of[integration_id][0]
        integration_of[stage_id] = integration_id
    return StageMap(
        integration_ids=list(company_of),
        target=target,
        probability=probability,
        name=name,
        company_name=company_name,
        integration_of=integration_of,
        company_of=company_of,
        rot=rot,
        open_stages={key: [stage[1:] for stage in sorted(found)] for key, found in open_stages.items()},
    )


def nulls_as_ordered(value) -> tuple:
    """A sort key for a nullable number that puts None where the database's ORDER BY ... ASC does
    (PostgreSQL after every number, SQLite before)."""
    return ((value is None) == (connection.vendor == "postgresql"), value or 0)


# The board's CRM integrations (crm_integrations), with their companies' (name, slug, logo), and their
# stages, each integration's in Stage's order, with what the new deal form orders and filters them by
# (their pipeline's order and whether it is deleted): one statement (an integration without stages is one row
# of NULL stage), where the ORM's two (integrations, then their stages) cost a round trip more on every
# board and load more. Written as SQL: Stage has no relation back from Integration to join from.
STAGE_MAP_SQL = (
    "SELECT i.id, c.name, c.slug, c.logo, s.id, s.name, s.deal_probability, m.target, s.is_deal_rot_enabled, "
    "s.days_to_rotten, s.remote_id, p.order_nr, s.pipeline_remote_id, s.order_nr, "
    "CASE WHEN s.is_deleted OR p.is_deleted THEN 0 WHEN p.id IS NULL THEN 0 ELSE 1 END "
    f"FROM {Integration._meta.db_table} i "
    f"INNER JOIN {PortfolioCompany._meta.db_table} c ON c.id = i.company_id "
    f"LEFT OUTER JOIN {Stage._meta.db_table} s ON s.integration_id = i.id "
    f"LEFT OUTER JOIN {StageMapping._meta.db_table} m ON m.stage_id = s.id "
    f"LEFT OUTER JOIN {Pipeline._meta.db_table} p ON p.id = s.pipeline_id "
    "WHERE i.category = %s AND i.company_id IN ({}) "
    "ORDER BY c.name, i.provider, i.id, s.pipeline_remote_id, s.order_nr, s.remote_id"
)


# --- Querysets ---------------------------------------------------------------------------------


def company_ids(companies) -> list[int]:
    return [company.pk for company in companies]


def crm_integrations(companies):
    """The CRM integrations of `companies`, with their sync state (one query): the board's deals,
    its header and Sync now. Chosen by the provider's category (Integration.category, set from the
    registry), so a company's accounting integration (Fortnox) is never the board's."""
    return Integration.objects.filter(company_id__in=company_ids(companies), category=Category.CRM).select_related(
        "sync_state", "webhook_endpoint"
    )


def company_crm_integration(company) -> Integration | None:
    """The company's CRM integration, the one its board shows and syncs; chosen by category, never
    by name order (an accounting integration named "fortnox" sorts before "pipedrive")."""
    found = statements.instances(
        ("company_crm_integration", company.pk), lambda: crm_integrations([company]).order_by("provider")[:1]
    )
    return found[0] if found else None


def board_deals(*, stages: StageMap, filters: BoardFilters):
    """Deals that may show on the board (any column, excluded stages too): open ones, and won ones
    within the won period. The period applies to won deals only: an open deal in a stage mapped
    to Closed Won has no win date, and leaving it out would make it vanish from the board."""
    deals = Deal.objects.filter(on_board(filters.won_since), integration_id__in=stages.integration_ids)
    if filters.owner_id:
        deals = deals.filter(owner_id=filters.owner_id)
    if filters.pipeline_id:
        deals = deals.filter(pipeline_id=filters.pipeline_id)
    if filters.q:
        # The searched board's one rule (search_reads), here as a condition on the deal's id.
        deals = deals.filter(search_reads.matching_ids(deals, filters.q, stages.integration_ids, request_scope=stages))
    return deals


def column_deals(*, stages: StageMap, filters: BoardFilters, column: str):
    deals = board_deals(stages=stages, filters=filters).filter(in_column(stages.target, column))
    return in_column_order(deals, column)


def column_order_expression(stages: StageMap):
    """What each deal's column sorts on (mirrors `in_column_order`)."""
    return Case(When(in_column(stages.target, CLOSED_WON), then=won_at_expression()), default=F("update_time"))


def in_column_order(deals, column: str):
    """Newest first: by win date in Closed Won, by last update elsewhere."""
    if column == CLOSED_WON:
        return deals.alias(won_at=won_at_expression()).order_by(F("won_at").desc(nulls_last=True), "-id")
    return deals.order_by(F("update_time").desc(nulls_last=True), "-id")


# --- Board -------------------------------------------------------------------------------------


@dataclass
class Board:
    columns: list[Column]
    hidden: HiddenDeals
    stages: StageMap | None = None  # what the board's columns were read with


def board_columns(*, companies, filters: BoardFilters, now=None) -> Board:
    """The six standard columns (and Unmapped when it has deals), each with its first page,
    their totals over the whole column, and the deals hidden in excluded stages."""
    stages = stage_map(companies)
    totals, verbal, hidden, unmapped_integration_ids = column_totals(stages=stages, filters=filters)
    columns = []
    for key in BOARD_COLUMN_KEYS:
        column = Column(key=key, label=COLUMN_LABELS[key], totals=totals.get(key, []))
        column.verbal_totals = verbal.get(key, [])
        column.count = sum(total.count for total in column.totals)
        if key != UNMAPPED or column.count:
            columns.append(column)
    add_converted_totals(columns, companies)
    shown = [column.key for column in columns if column.count]
    pages = first_pages(stages=stages, filters=filters, columns=shown, now=now)
    for column in columns:
        column.cards, column.has_more = pages.get(column.key, ([], False))
        if column.key == UNMAPPED:
            column.integrations = unmapped_integrations(stages, unmapped_integration_ids)
    return Board(columns=columns, hidden=hidden, stages=stages)


@dataclass(frozen=True)
class UnmappedIntegration:
    """An integration with deals in stages nobody has mapped (its admin page is where staff map them)."""

    pk: int
    company_name: str


def unmapped_integrations(stages: StageMap, integration_ids) -> list[UnmappedIntegration]:
    """The integrations of `integration_ids` by company name (as the hidden stages, in code point
    order), named from the stage map rather than a query of their own."""
    found = (UnmappedIntegration(pk, stages.company_of[pk][0]) for pk in integration_ids)
    return sorted(found, key=lambda integration: (integration.company_name, integration.pk))


def add_converted_totals(columns: list[Column], companies) -> None:
    """Each column's totals converted to one currency at the latest ECB rates: the company's
    reporting currency on its board, REPORTING_CURRENCY on all companies' (two queries, and none
    when every total is in that currency already)."""
    companies = list(companies)
    currency = companies[0].reporting_currency if len(companies) == 1 else settings.REPORTING_CURRENCY
    currencies = {total.currency for column in columns for total in column.totals}
    if currencies <= {currency}:
        return
    rates = load_rates(currency, currencies)
    for column in columns:
        column.converted = converted_total(column.totals, rates)


def column_totals(*, stages: StageMap, filters: BoardFilters):
    """Count, value and weighted value per column and currency.

    The rows come by integration, status, stage and currency (a few rows per stage); the stage
    map then folds them into columns. Excluded stages become the hidden summary.
    """
    rows = totals_rows(stages=stages, filters=filters)
    sums = defaultdict(lambda: [0, Decimal(0), Decimal(0)])  # (column, currency) -> count, value, weighted
    verbal = defaultdict(lambda: [0, Decimal(0), Decimal(0)])  # currency -> the same, for open Closed Won deals
    hidden = defaultdict(int)
    unmapped_integration_ids = set()
    for row in rows:
        column = stages.column_of(row["status"], row["stage_id"])
        if column == EXCLUDED:
            hidden[stages.company_name[row["stage_id"]], stages.name[row["stage_id"]]] += row["count"]
            continue
        if column == UNMAPPED:
            unmapped_integration_ids.add(row["integration_id"])
        value = Decimal(row["total_value"] or 0)
        weighted = value * stages.weight(row["status"], row["stage_id"]) / 100
        entries = [sums[column, row["currency"] or ""]]
        if is_verbal_yes(row["status"], column):
            entries.append(verbal[CLOSED_WON, row["currency"] or ""])
        for entry in entries:
            entry[0] += row["count"]
            entry[1] += value
            entry[2] += weighted
    by_count = sorted(hidden.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
    hidden_deals = HiddenDeals(stages=[HiddenStage(company, name, count) for (company, name), count in by_count])
    return currency_totals(sums), currency_totals(verbal), hidden_deals, unmapped_integration_ids


def totals_rows(*, stages: StageMap, filters: BoardFilters) -> list[dict]:
    """The board's deals counted and summed by integration, status, stage and currency: from the
    totals table (board_totals.py: a few hundred rows) when only the won period filters the
    board; a text search, an owner or a pipeline needs the deals themselves (one GROUP BY)."""
    if not (filters.q or filters.owner_id or filters.pipeline_id):
        return board_rows(integration_ids=stages.integration_ids, won_since=filters.won_since)
    if filters.q:
        totals, ranked = searched_board(stages=stages, filters=filters)
        object.__setattr__(stages, SEARCHED_PAGES, (filters, ranked))  # for first_pages (a frozen dataclass)
        return totals
    return list(grouped_totals(board_deals(stages=stages, filters=filters)))


def grouped_totals(deals):
    return deals.values("integration_id", "status", "stage_id", "currency").annotate(
        count=Count("id"), total_value=Sum("value")
    )


def currency_totals(sums: dict) -> dict[str, list[CurrencyTotal]]:
    """{(column, currency): [count, value, weighted]} as each column's totals, by currency."""
    totals = defaultdict(list)
    for (column, currency), (count, value, weighted) in sorted(sums.items()):
        totals[column].append(CurrencyTotal(currency=currency, count=count, value=value, weighted_value=weighted))
    return totals


def first_pages(*, stages: StageMap, filters: BoardFilters, columns: list[str], now=None) -> dict:
    """Each column's first page of cards and whether more follow, by column key: two queries, one
    for every page's deal ids and one for their cards.

    Without a text search, the ids are each column's newest deals read off an index (newest.py).
    A text search ranks every column's matches in one windowed query, over the matching deals
    read off the search indexes (search_reads.py), in the statement of the board's totals.
    """
    if not filters.q:
        ids = newest.first_page_ids(
            integration_ids=stages.integration_ids,
            targets=stages.target,
            filters=filters,
            columns=columns,
            size=PAGE_SIZE + 1,
            integration_of=stages.integration_of,
        )
        return pages_of(ids, stages, now)
    kept = stages.__dict__.pop(SEARCHED_PAGES, None)  # read with the totals, for this request
    ranked = kept[1] if kept and kept[0] == filters else searched_board(stages=stages, filters=filters)[1]
    return pages_of(newest.by_column(ranked), stages, now)


def searched_board(*, stages: StageMap, filters: BoardFilters) -> tuple[list, list]:
    """A searched board's totals rows (as `totals_rows` returns them) and its columns' ranked
    first-page ids, in one statement over the matching deals read once (search_reads.py), each
    with its column and what the column sorts on. The key names what the statement is built from
    but the text and the won period's start, its parameters (search_reads._kept_statement)."""
    targets = tuple(stages.target.items())

    def build(won_since):
        deals = board_deals(stages=stages, filters=replace(filters, q="", won_since=won_since))
        keyed = keyed_sql(targets, connection.vendor)
        return grouped_totals(Deal.objects), keyed, BOARD_COLUMN_KEYS, PAGE_SIZE + 1, deals

    key = (tuple(stages.integration_ids), targets, filters.owner_id, filters.pipeline_id, filters.won_since is None)
    return search_reads.board_over_matches(
        key, build, filters.q, filters.won_since, stages.integration_ids, request_scope=stages
    )


@lru_cache(maxsize=64)
def keyed_sql(targets: tuple[tuple[int, str], ...], vendor: str) -> tuple[str, tuple]:
    """(sql, params) of the deals with what the searched board reads of each (TOTALS_READ), its
    column and what its column sorts on (search_reads.KEYS), for the stage map's targets: the SQL
    depends on nothing else, and building its two CASEs through the ORM took about as long as
    SQLite took to work them out for 6,600 matching deals (3-4 ms a board). The column and sort
    date lead each row: the seven first pages read only them and the id of every match, and SQLite
    decodes a row from its start (3 % of the searched statement's instructions at 400,000 deals)."""
    order = column_order_expression(SimpleNamespace(target=dict(targets)))  # reads only the targets
    keyed = Deal.objects.annotate(board_column=column_expression(dict(targets)), newest_at=order)
    return keyed.values(*search_reads.KEYS, *TOTALS_READ).order_by().query.sql_with_params()


TOTALS_READ = ("integration_id", "status", "stage_id", "currency", "value", "id")  # what grouped_totals reads


SEARCHED_PAGES = "_searched_pages"


def over_search_matches(queryset, *, stages: StageMap, filters: BoardFilters, ordered=False) -> list:
    """`queryset` (on all deals) evaluated over the board's deals that match the text search, read
    off indexes that hold what the board reads of them (search_reads.py)."""
    deals = board_deals(stages=stages, filters=replace(filters, q=""))
    return search_reads.over_matches(
        queryset, deals, filters.q, stages.integration_ids, request_scope=stages, ordered=ordered
    )


def pages_of(ids: dict[str, list[int]], stages: StageMap, now=None) -> dict:
    """{column: (cards, whether more follow)} from each column's page of deal ids, in order; their
    details and next activities in one query. The ids come as a list rather than a subquery: with a
    subquery, the card query has nine relations, over PostgreSQL's join_collapse_limit (8), which then
    joins the detail tables to every deal before it picks the page's (seconds at 100,000 deals). The
    company comes from the stage map: joined, SQLite's planner started from the integrations and read
    every deal of each instead of the page's by id. So do the stage's name, rot and mapping target:
    joined, the stage and its mapping cost PostgreSQL a sixth of the statement for a board's 180 cards."""
    now = now or timezone.now()
    page_ids = tuple(i for page in ids.values() for i in page)
    rows, activities = card_rows(statements.rows(("cards", page_ids), lambda: card_query(page_ids)), stages, now)
    return {column: cards_page([rows[deal_id] for deal_id in page], now, activities) for column, page in ids.items()}


def card_rows(found, stages: StageMap, now) -> tuple[dict[int, dict], dict[int, NextActivity | None]]:
    """The rows of a card statement (`card_query`'s select) as {deal id: card row}, in their order,
    and {deal id: its next activity}."""
    rows, activities = {}, {}
    for values in found:
        row = dict(zip(CARD_VALUES, values[:CARD_COLUMNS], strict=True))
        for name in CARD_MOMENTS:
            row[name] = moment(row[name])
        row["company"] = stages.company_of[row["integration_id"]]
        stage_id = row["stage_id"]
        row["stage__name"] = stages.name.get(stage_id)
        row["stage__is_deal_rot_enabled"], row["stage__days_to_rotten"] = stages.rot.get(stage_id, NO_ROT)
        row["stage__mapping__target"] = stages.target.get(stage_id)
        rows[row["id"]] = row
        activities[row["id"]] = next_activity(*values[CARD_COLUMNS:], now)
    return rows, activities


def card_query(page_ids: tuple[int, ...]):
    """The cards of `page_ids` (CARD_VALUES, the moments as text) and their next activities (NEXT_VALUES)."""
    return card_values(Deal.objects.filter(statements.among("id", page_ids)))


# PostgreSQL's load more: the cards of the deals of `page`, a one-row common table expression of their
# ids in the page's order (`column_cards`), in that order. The ids as one array rather than a join
# with the page: joined, the card statement has nine relations, over join_collapse_limit (pages_of).
IN_PAGE = RawSQL(
    f'"{Deal._meta.db_table}"."id" = ANY((SELECT ids FROM page)::bigint[])', [], output_field=BooleanField()
)
PAGE_ORDER = RawSQL(f'array_position((SELECT ids FROM page), "{Deal._meta.db_table}"."id")', [])


def page_card_query():
    return card_values(Deal.objects.filter(IN_PAGE)).order_by(PAGE_ORDER.asc())


def card_values(deals):
    """`deals` with their next activities, read as cards (CARD_VALUES, the moments as text, then NEXT_VALUES)."""
    deals = with_next_activity(deals)
    as_text = {f"{name}_text": Cast(name, TextField()) for name in CARD_MOMENTS}
    read = [f"{name}_text" if name in CARD_MOMENTS else name for name in CARD_VALUES]
    return deals.annotate(**as_text).values_list(*read, *NEXT_VALUES).order_by()


def moment(text: str | None) -> datetime | None:
    """A datetime column read as text (`card_query`): PostgreSQL's "2026-11-26 09:15:00.5+00" in the
    connection's time zone (UTC), SQLite's naive "2026-11-26 09:15:00.5" in UTC. Django loads a
    PostgreSQL timestamptz through psycopg's Python parser (its loader subclasses it to set the time
    zone), several microseconds a value: a board's 180 cards' three moments cost more than the rest of
    their rows; datetime.fromisoformat parses the text in C, and SQLite's converter is slower too."""
    if text is None:
        return None
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def column_cards(*, stages: StageMap, filters: BoardFilters, column: str, offset: int = 0, now=None):
    """One page of cards and whether more follow (two queries: the page's ids, then their cards; one
    on PostgreSQL without a text search, `page_cards`).

    The page's ids are chosen on the deals table alone, so the joins for the cards' details run
    for one page of rows, not for the whole column before sorting; without a text search, they
    are each company's newest deals read straight off an index (newest.py).
    """
    if filters.q:
        # Ordered and sliced over the matching deals read off the search indexes (search_reads).
        column_page = in_column_order(Deal.objects.filter(in_column(stages.target, column)), column).values_list("id")
        page = column_page[offset : offset + PAGE_SIZE + 1]
        page_ids = [deal_id for (deal_id,) in over_search_matches(page, stages=stages, filters=filters, ordered=True)]
    elif connection.vendor == "postgresql":
        return page_cards(stages=stages, filters=filters, column=column, offset=offset, now=now)
    else:
        page_ids = newest.page_ids(
            integration_ids=stages.integration_ids,
            targets=stages.target,
            filters=filters,
            column=column,
            offset=offset,
            size=PAGE_SIZE + 1,
            integration_of=stages.integration_of,
        )
    return pages_of({column: page_ids}, stages, now)[column]


def page_cards(*, stages: StageMap, filters: BoardFilters, column: str, offset: int, now=None):
    """`column_cards` without a text search on PostgreSQL, in one statement: the page's ids (newest.py)
    as a common table expression, and their cards. Each statement cost a round trip (0.2-0.3 ms at
    least on loopback) and psycopg's Python; SQLite's cost little more than its work."""
    statement = newest.pages_sql(
        integration_ids=stages.integration_ids,
        targets=stages.target,
        filters=filters,
        columns=[column],
        offset=offset,
        size=PAGE_SIZE + 1,
        integration_of=stages.integration_of,
        bound=True,
    )
    if statement is None:  # a column without stages: no deals
        return [], False
    sql, params = statement
    page = (f"page (ids) AS (SELECT array_agg(id ORDER BY position) FROM ({sql}) r)", params)
    found = statements.rows(("page cards",), page_card_query, with_clause=page)
    now = now or timezone.now()
    rows, activities = card_rows(found, stages, now)
    return cards_page(list(rows.values()), now, activities)


def cards_page(rows: list[dict], now, activities: dict[int, NextActivity]) -> tuple[list[Card], bool]:
    """The cards of a page's rows (fetched one beyond the page size) and whether more follow;
    `activities`: their next activities by deal id."""
    paths, language = DealPaths(), active_language()
    cards = [card_from(row, now, paths, activities, language) for row in rows[:PAGE_SIZE]]
    return cards, len(rows) > PAGE_SIZE


class DealPaths:
    """Deal pages' paths, reversing the URL once per company and process rather than once per card
    (a reverse cost more than the rest of a card). What `reverse` reads besides the slug is read
    once per page: it is the request's, and reading it per card cost more than the rest of the path."""

    def __init__(self) -> None:
        self.resolver = (get_script_prefix(), get_urlconf())

    def __call__(self, slug: str, deal_id: int) -> str:
        return f"{deal_path_prefix(slug, *self.resolver)}{deal_id}/"


@lru_cache(maxsize=1024)
def deal_path_prefix(slug: str, script_prefix: str, urlconf) -> str:
    """A company's deal paths up to the deal id; keyed by what `reverse` reads besides the slug."""
    return reverse("dealflow:deal", args=[slug, 0], urlconf=urlconf).removesuffix("0/")


NO_ROT = (None, None)  # a deal without a stage: what the stage's columns read when left-joined

# What a card shows; plain values rather than model instances keep a page of cards cheap to build.
CARD_VALUES = [
    "id",
    "remote_id",  # the deal's URL: stable across cache rebuilds
    "title",
    "value",
    "currency",
    "status",
    "add_time",
    "stage_change_time",
    "stage_id",  # its name, rot and mapping target are added from the stage map (pages_of), not joined
    "update_time",
    "organization__name",
    "person__name",
    "owner__name",
    "integration_id",  # its company (name, slug, logo) is added as "company": StageMap.company_of
]
CARD_COLUMNS = len(CARD_VALUES)  # the next activity's NEXT_VALUES follow them
CARD_MOMENTS = ("add_time", "stage_change_time", "update_time")  # read as text (`moment`)


def card_from(
    row: dict,
    now: datetime,
    paths: DealPaths,
    activities: dict[int, NextActivity] | None = None,
    language: str | None = None,
) -> Card:
    days = days_in_stage(row["stage_change_time"] or row["add_time"], now)
    rot_limit = row["stage__days_to_rotten"]
    rotting = is_rotting(
        status=row["status"],
        rot_enabled=row["stage__is_deal_rot_enabled"],
        days_to_rotten=rot_limit,
        update_time=row["update_time"],
        now=now,
    )
    organization = row["organization__name"]
    column = column_of(status=row["status"], target=row["stage__mapping__target"])
    company_name, company_slug, company_logo = row["company"]
    return Card(
        title=row["title"],
        url=paths(company_slug, row["remote_id"]),
        company_name=company_name,
        company_slug=company_slug,
        company_has_logo=logo_content_type(company_logo) is not None,
        stage_name=row["stage__name"],
        is_verbal=is_verbal_yes(row["status"], column),
        # Titles often start with the organization ("Acme AB – Licens"): don't say it twice.
        organization_name=None if organization and organization.casefold() in row["title"].casefold() else organization,
        person_name=row["person__name"],
        owner_name=row["owner__name"],
        value_text=format_money(row["value"], row["currency"], language),
        days_in_stage=days,
        rot_limit=rot_limit if rotting else None,
        is_open=row["status"] == DealStatus.OPEN,
        deal_id=row["id"],
        activities=activities,
    )


def days_in_stage(since: datetime | None, now: datetime) -> int | None:
    """Whole days since the deal entered its stage (or was added, when Pipedrive has no stage change)."""
    return max((now - since).days, 0) if since else None


# The raw Pipedrive payloads are large and the board never shows them.
RAW_FIELDS = ["raw", "stage__raw", "organization__raw", "person__raw", "owner__raw"]


# --- Filters' choices, one deal ----------------------------------------------------------------

# A choice's label needs its name and company name: loading less skips the raw payloads and
# the integrations' encrypted tokens (each decrypted on load).
CHOICE_FIELDS = ["name", "integration__company__name"]


def owners_of(companies):
    return (
        Owner.objects.filter(integration__company_id__in=company_ids(companies))
        .select_related("integration__company")
        .only(*CHOICE_FIELDS)
        .order_by("name", "integration__company__name")
    )


def pipelines_of(companies):
    return (
        Pipeline.objects.filter(integration__company_id__in=company_ids(companies), is_deleted=False)
        .select_related("integration__company")
        .only(*CHOICE_FIELDS)
        .order_by("integration__company__name", "order_nr", "name")
    )


def deal_detail(*, company, deal_id: int) -> Deal:
    """One deal of `company`'s CRM by its id there (the URL's), with everything the panel shows
    (raises Deal.DoesNotExist)."""
    board_integration = crm_integrations([company]).order_by("provider").values("id")[:1]
    deal = (
        Deal.objects.select_related("stage__mapping", "integration__company")
        # Not shown: the Pipedrive payloads (kilobytes of JSON parsed on every panel) and the
        # integration's credentials (decrypted on load).
        .defer(*PANEL_UNUSED)
        .prefetch_related(
            Prefetch(
                "stage_changes",
                queryset=StageChange.objects.select_related("from_stage", "to_stage")
                .defer("from_stage__raw", "to_stage__raw")
                .order_by("changed_at", "id"),
            ),
            panel_prefetch(),
        )
        .get(remote_id=deal_id, integration_id__in=board_integration)
    )
    shown = [f"{name}__{field}" for name in DETAIL_RELATIONS for field in _shown_fields(name)]
    related = Deal.objects.select_related(*DETAIL_RELATIONS).only(*shown).get(pk=deal.pk)
    for name in DETAIL_RELATIONS:
        setattr(deal, name, getattr(related, name))
    return deal


PANEL_UNUSED = ("raw", "stage__raw", "integration__credentials")


def _shown_fields(relation: str) -> list[str]:
    """The fields of a deal's related model that the panel may show: all but its Pipedrive payload."""
    model = Deal._meta.get_field(relation).related_model
    return [field.name for field in model._meta.concrete_fields if field.name != "raw"]


# The panel's other relations, read in a second small join: joined with the deal's stage, mapping,
# integration and company (ten tables), PostgreSQL spent 5-15 ms planning the query (its join order
# search grows steeply with the tables) against under a millisecond running it.
DETAIL_RELATIONS = ("pipeline", "organization", "person", "owner")


def export_deals(*, companies, filters: BoardFilters):
    """Every deal on the filtered board (all columns, not the excluded stages), in board order,
    annotated with `board_column`."""
    stages = stage_map(companies)
    column_order = Case(
        *(When(board_column=key, then=Value(index)) for index, key in enumerate(BOARD_COLUMN_KEYS)),
        default=Value(len(BOARD_COLUMN_KEYS)),
    )
    return (
        board_deals(stages=stages, filters=filters)
        .exclude(in_column(stages.target, EXCLUDED))
        .annotate(board_column=column_expression(stages.target))
        .alias(column_order=column_order)
        .select_related("stage", "organization", "person", "owner", "integration__company")
        .defer(*RAW_FIELDS)
        .order_by("integration__company__name", "column_order", F("update_time").desc(nulls_last=True), "-id")
    )
