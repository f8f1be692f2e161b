"""A column's page of deal ids read straight off an index, newest first (boards without a search).

Sorting a whole column to show its newest 25 cards costs time in proportion to the column. Here
each integration's part of the column is read from an index already in the column's order
(models.Deal: deal_newest_idx by last update, deal_won_at_idx by win date), stopping after the
page; the parts, a page each, are merged in one UNION ALL query. A part's rows without a sort
date come after the dated ones, as NULLS LAST orders them: they are read as a part of their own,
so each part is one plain index range on both databases.
"""

from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL

from dealflow.columns import CLOSED_WON, UNMAPPED, stage_ids, won_at_expression
from dealflow.models import Deal, DealStatus


def page_ids(*, integration_ids: list[int], targets: dict[int, str], filters, column: str, offset: int, size: int):
    """The ids of the column's deals `offset` to `offset + size`, in the column's order: a subquery
    for `pk__in`. `filters` without a text search (owner, pipeline and won period apply)."""
    parts = []
    for integration_id in integration_ids:
        deals = Deal.objects.filter(integration_id=integration_id, is_archived=False)
        if filters.owner_id:
            deals = deals.filter(owner_id=filters.owner_id)
        if filters.pipeline_id:
            deals = deals.filter(pipeline_id=filters.pipeline_id)
        parts += _parts(deals, targets, filters.won_since, column, limit=offset + size)
    if not parts:
        return Deal.objects.none().values("id")
    compiled = [part.query.get_compiler(connection=connection).as_sql() for part in parts]
    union = " UNION ALL ".join(f"SELECT * FROM ({sql}) p{number}" for number, (sql, _) in enumerate(compiled))
    sql = (
        f"SELECT u.id FROM ({union}) u "
        f"ORDER BY CASE WHEN u.sort_key IS NULL THEN 1 ELSE 0 END, u.sort_key DESC, u.id DESC "
        f"LIMIT {int(size)} OFFSET {int(offset)}"
    )
    return RawSQL(sql, [param for _, params in compiled for param in params])


def _parts(deals, targets: dict[int, str], won_since, column: str, *, limit: int) -> list:
    """One integration's share of the column, as index-ordered queries of `limit` rows each."""
    sort_key = won_at_expression() if column == CLOSED_WON else F("update_time")
    in_stages = stage_ids(targets, column)
    shares = []  # (deals, whether they are won deals)
    if in_stages:
        shares.append((deals.filter(status=DealStatus.OPEN, stage_id__in=in_stages), False))
    if column == UNMAPPED:
        shares.append((deals.filter(status=DealStatus.OPEN, stage__isnull=True), False))
    if column == CLOSED_WON:
        shares.append((deals.filter(status=DealStatus.WON), True))
    parts = []
    for share, won in shares:
        keyed = share.annotate(sort_key=sort_key)
        if won and won_since is not None:  # the won period (columns.on_board): dated wins only
            parts.append(_newest(keyed.filter(sort_key__gte=won_since), limit))
            continue
        parts.append(_newest(keyed.filter(sort_key__isnull=False), limit))
        parts.append(keyed.filter(sort_key__isnull=True).order_by("-id").values("id", "sort_key")[:limit])
    return parts


def _newest(keyed, limit: int):
    return keyed.order_by(F("sort_key").desc(), F("id").desc()).values("id", "sort_key")[:limit]
