"""Write a completed download into the cache: bulk upserts per page, in the caller's transaction.

Rows arrive encoded (diff.py); here they only get their foreign keys, looked up in one
remote id -> pk map per target model, loaded once per run rather than once per page.
"""

import logging
from collections.abc import Iterable

from django.db import DatabaseError, models, transaction
from django.db.models import OuterRef, Subquery

from dealflow.models import Deal, Stage, StageChange
from integrations.services.sync.diff import PageChanges, StageMove, Tally
from integrations.services.sync.entities import EntitySpec, Link, linking_specs
from integrations.services.sync.upsert import now_for_db

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
        self.specs = {spec.key: spec for spec in specs}
        self.all_specs = specs
        self.models_with_upserts: set[type[models.Model]] = set()
        self.synced_at = now_for_db()
        # remote id -> pk of every cached row of a link target: two ints a row, a few MB at most.
        self._pks: dict[type[models.Model], dict[int, int]] = {}

    def write(self, changes: PageChanges) -> None:
        spec = self.specs[changes.spec_key]
        if changes.inserts:
            self._upsert(spec, changes.inserts, new=True)
        if changes.upserts:
            self._upsert(spec, changes.upserts)
        if changes.removals:
            spec.model.objects.filter(integration_id=self.integration_id, remote_id__in=changes.removals).delete()
            self._pks.pop(spec.model, None)
        if changes.stage_moves:
            self._record_stage_moves(changes.stage_moves)

    def pks(self, model: type[models.Model]) -> dict[int, int]:
        if model not in self._pks:
            rows = model.objects.filter(integration_id=self.integration_id).order_by()
            self._pks[model] = dict(rows.values_list("remote_id", "pk"))
        return self._pks[model]

    def _upsert(self, spec: EntitySpec, rows: list[tuple], *, new: bool = False) -> None:
        upsert = spec.upsert
        links = [(upsert.position(link.remote_field), self.pks(link.target)) for link in spec.links]
        tail = (self.synced_at,)  # the late columns are the links' foreign keys, then synced_at
        rows = [row + tuple(pks.get(row[at]) for at, pks in links) + tail for row in rows]
        try:
            with transaction.atomic():  # a savepoint: a refused page leaves the rest of the run intact
                upsert.run(rows, new=new)
        except DatabaseError:
            self._upsert_one_by_one(spec, rows, new=new)
        self._pks.pop(spec.model, None)  # new rows: load its map again if something links to it
        self.models_with_upserts.add(spec.model)

    def _upsert_one_by_one(self, spec: EntitySpec, rows: list[tuple], *, new: bool) -> None:
        """Store what the database accepts, and skip (and report) each record it refuses.

        clean.py fits every value to its column, so this is for what it could not foresee.
        """
        at = spec.upsert.position("remote_id")
        refused = []
        for row in rows:
            try:
                with transaction.atomic():
                    spec.upsert.run([row], new=new)
            except DatabaseError as error:
                logger.warning("Skipped %s %s: the database refused it (%s)", spec.key, row[at], error)
                refused.append(row[at])
                if new:
                    self.tally.created -= 1
                else:
                    self.tally.updated = max(0, self.tally.updated - 1)
        self.tally.skip(spec.key, refused)

    def _record_stage_moves(self, moves: list[StageMove]) -> None:
        deals = remote_to_pk(Deal, self.integration_id, (move.deal_remote_id for move in moves))
        stages = self.pks(Stage)
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

    def relink(self, *, cached: set[type[models.Model]]) -> None:
        """Fill foreign keys left empty because their target arrived after the row pointing at it.

        Rows written by this run got every target written before them (specs are in that order),
        so only models that had rows before it (`cached`) can need this.
        """
        for target in self.models_with_upserts:
            for model, link in linking_specs(self.all_specs, target):
                if model in cached:
                    self._relink(model, link)

    def _relink(self, model: type[models.Model], link: Link) -> None:
        targets = link.target.objects.filter(integration_id=self.integration_id)
        model.objects.filter(
            integration_id=self.integration_id,
            **{f"{link.field}__isnull": True, f"{link.remote_field}__in": targets.values("remote_id")},
        ).update(**{link.field: Subquery(targets.filter(remote_id=OuterRef(link.remote_field)).values("pk")[:1])})
