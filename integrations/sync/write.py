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

from dealflow.models import Deal, Stage, StageChange
from integrations.sync.diff import StageMove, Tally
from integrations.sync.entities import EntitySpec, Link, linking_specs
from integrations.sync.reconcile import delete_remote_ids
from integrations.sync.staging import Staging, execute, one_by_one
from integrations.sync.upsert import Upsert, now_for_db

logger = logging.getLogger(__name__)


def remote_to_pk(model: type[models.Model], integration_id: int, remote_ids: Iterable[int | None]) -> dict[int, int]:
    wanted = {remote_id for remote_id in remote_ids if remote_id is not None}
    if not wanted:
        return {}
    rows = model.objects.filter(integration_id=integration_id, remote_id__in=wanted).order_by()
    return dict(rows.values_list("remote_id", "pk"))


class Writer:
    def __init__(
        self, *, integration_id: int, specs: tuple[EntitySpec, ...], tally: Tally | None = None
    ) -> None:
        self.integration_id = integration_id
        self.tally = tally or Tally()  # records the database refused are counted here as skipped
        self.keys = {spec.model: spec.key for spec in reversed(specs)}  # a model's first key, for logs
        self.all_specs = specs

    def apply(self, staging: Staging) -> None:
        synced_at = now_for_db()
        # Staged in the specs' order, so rows a model links to are applied before it.
        for model, upsert in staging.tables.items():
            for new in (True, False):
                self._apply(model, upsert, synced_at, new=new)
        for model, remote_ids in staging.removals.items():
            delete_remote_ids(integration_id=self.integration_id, model=model, remote_ids=remote_ids)
        if staging.stage_moves:
            self._record_stage_moves(staging.stage_moves)

    def _apply(self, model: type[models.Model], upsert: Upsert, synced_at, *, new: bool) -> None:
        try:
            with transaction.atomic():  # a savepoint: a refused row leaves the rest of the run intact
                execute(upsert.apply_sql(new=new), (synced_at, new))
        except DatabaseError:
            with connection.cursor() as cursor:
                cursor.execute(upsert.staged_ids_sql, (new,))
                rows = [(synced_at, new, remote_id) for (remote_id,) in cursor.fetchall()]
            key = self.keys[model]
            refused = one_by_one(rows, partial(execute, upsert.apply_sql(new=new, one=True)), key, at=2)
            self.tally.uncount(key, refused, new=new)

    def _record_stage_moves(self, moves: list[StageMove]) -> None:
        deals = remote_to_pk(Deal, self.integration_id, (move.deal_remote_id for move in moves))
        ends = (stage for move in moves for stage in (move.from_stage_remote_id, move.to_stage_remote_id))
        stages = remote_to_pk(Stage, self.integration_id, ends)
        StageChange.objects.bulk_create(
            StageChange(
                deal_id=deals[move.deal_remote_id],
                from_stage_id=stages.get(move.from_stage_remote_id),
                to_stage_id=stages.get(move.to_stage_remote_id),
                from_stage_remote_id=move.from_stage_remote_id,
                to_stage_remote_id=move.to_stage_remote_id,
                changed_at=move.changed_at,
                source=StageChange.Source.SYNC,
            )
            for move in moves
            if move.deal_remote_id in deals
        )

    def relink(self, *, written: Iterable[type[models.Model]], cached: set[type[models.Model]]) -> None:
        """Fill foreign keys left empty because their target arrived after the row pointing at it.

        Rows written by this run got every target written before them (specs are in that order),
        so only models that had rows before it (`cached`) can need this.
        """
        for target in written:
            for model, link in linking_specs(self.all_specs, target):
                if model in cached:
                    self._relink(model, link)

    def _relink(self, model: type[models.Model], link: Link) -> None:
        targets = link.target.objects.filter(integration_id=self.integration_id)
        model.objects.filter(
            integration_id=self.integration_id,
            **{f"{link.field}__isnull": True, f"{link.remote_field}__in": targets.values("remote_id")},
        ).update(**{link.field: Subquery(targets.filter(remote_id=OuterRef(link.remote_field)).values("pk")[:1])})
