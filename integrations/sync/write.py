"""Apply a completed download's staged changes to the cache, in the caller's transaction.

The rows were staged in temporary tables during the download (staging.py); here each model's rows
are copied with set-based SQL (upsert.py: one INSERT … SELECT for its new rows, one upsert for
the others, foreign keys resolved by the database), so the write transaction, and with it
SQLite's write lock, lasts as long as the database's own work, not the Python that fed it.
"""

import logging
from collections.abc import Iterable
from functools import partial

from django.db import DatabaseError, connection, models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from dealflow.bulk_insert import insert_set_based
from dealflow.models import Deal, Stage, StageChange
from integrations.sync.diff import StageMove, Tally
from integrations.sync.entities import EntitySpec, Link, linking_specs
from integrations.sync.reconcile import delete_remote_ids
from integrations.sync.staging import Staging, execute, one_by_one
from integrations.sync.upsert import Upsert

logger = logging.getLogger(__name__)

# New rows of one model from which SQLite inserts them with its derived tables kept set-based
# (dealflow/bulk_insert.py) rather than by row triggers: a few statements per row against a
# grouped statement and two schema changes per apply.
SET_BASED_FROM = 1000


def remote_to_pk(rows: models.QuerySet, integration_id: int, remote_ids: Iterable[int | None]) -> dict[int, int]:
    wanted = {remote_id for remote_id in remote_ids if remote_id is not None}
    if not wanted:
        return {}
    rows = rows.filter(integration_id=integration_id, remote_id__in=wanted).order_by()
    return dict(rows.values_list("remote_id", "pk"))


class Writer:
    def __init__(
        self,
        *,
        integration_id: int,
        specs: tuple[EntitySpec, ...],
        tally: Tally | None = None,
        source: str = StageChange.Source.SYNC,
    ) -> None:
        self.integration_id = integration_id
        self.tally = tally or Tally()  # records the database refused are counted here as skipped
        self.keys = {spec.model: spec.key for spec in reversed(specs)}  # a model's first key, for logs
        self.all_specs = specs
        self.source = source  # whose changes these are, kept on the stage changes they record

    def apply(self, staging: Staging) -> None:
        # Every row this apply writes gets this exact synced_at: how its stage moves tell the deals
        # it wrote from those it left alone because the cache held a newer version (upsert.newer_only).
        synced_at = timezone.now()
        stamp = connection.ops.adapt_datetimefield_value(synced_at)
        # Staged in the specs' order, so rows a model links to are applied before it.
        for model, upsert in staging.tables.items():
            for new in (True, False):
                count = staging.counts[model, new]
                if count:
                    set_based = new and connection.vendor == "sqlite" and count >= SET_BASED_FROM
                    self._apply(model, upsert, stamp, new=new, set_based=set_based)
        for model, remote_ids in staging.removals.items():
            delete_remote_ids(integration_id=self.integration_id, model=model, remote_ids=remote_ids)
        if staging.stage_moves:
            self._record_stage_moves(staging.stage_moves, synced_at)

    def _apply(self, model: type[models.Model], upsert: Upsert, synced_at, *, new: bool, set_based: bool) -> None:
        try:
            with transaction.atomic():  # a savepoint: a refused row leaves the rest of the run intact
                if set_based:
                    insert_set_based(model._meta.db_table, upsert.apply_sql(new=new), (synced_at, new))
                else:
                    execute(upsert.apply_sql(new=new), (synced_at, new))
        except DatabaseError:
            with connection.cursor() as cursor:
                cursor.execute(upsert.staged_ids_sql, (new,))
                rows = [(synced_at, new, remote_id) for (remote_id,) in cursor.fetchall()]
            key = self.keys[model]
            # One by one as upserts, even the new rows: one that a webhook wrote meanwhile is then
            # decided by the update_time rule, not refused.
            refused = one_by_one(rows, partial(execute, upsert.apply_sql(new=False, one=True)), key, at=2)
            self.tally.uncount(key, refused, new=new)

    def _record_stage_moves(self, moves: list[StageMove], synced_at) -> None:
        written = Deal.objects.filter(synced_at=synced_at)  # not those the cache had newer versions of
        deals = remote_to_pk(written, self.integration_id, (move.deal_remote_id for move in moves))
        ends = (stage for move in moves for stage in (move.from_stage_remote_id, move.to_stage_remote_id))
        stages = remote_to_pk(Stage.objects.all(), self.integration_id, ends)
        StageChange.objects.bulk_create(
            StageChange(
                deal_id=deals[move.deal_remote_id],
                from_stage_id=stages.get(move.from_stage_remote_id),
                to_stage_id=stages.get(move.to_stage_remote_id),
                from_stage_remote_id=move.from_stage_remote_id,
                to_stage_remote_id=move.to_stage_remote_id,
                changed_at=move.changed_at,
                source=self.source,
            )
            for move in moves
            if move.deal_remote_id in deals
        )

    def relink(
        self,
        *,
        written: Iterable[type[models.Model]],
        cached: set[type[models.Model]],
        only: Iterable[int] | None = None,
    ) -> None:
        """Fill foreign keys left empty because their target arrived after the row pointing at it.

        Rows written by this run got every target written before them (specs are in that order),
        so only models that had rows before it (`cached`) can need this. `only`: the remote ids of
        the targets written (a few records applied on their own), rather than every target.
        """
        for target in written:
            for model, link in linking_specs(self.all_specs, target):
                if model in cached:
                    self._relink(model, link, only)

    def _relink(self, model: type[models.Model], link: Link, only: Iterable[int] | None) -> None:
        targets = link.target.objects.filter(integration_id=self.integration_id)
        if only is not None:
            targets = targets.filter(remote_id__in=list(only))
        model.objects.filter(
            integration_id=self.integration_id,
            **{f"{link.field}__isnull": True, f"{link.remote_field}__in": targets.values("remote_id")},
        ).update(**{link.field: Subquery(targets.filter(remote_id=OuterRef(link.remote_field)).values("pk")[:1])})
