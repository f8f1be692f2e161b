"""Write a completed download into the cache: bulk upserts per page, in the caller's transaction."""

from collections.abc import Iterable

from django.db import models
from django.db.models import OuterRef, Subquery

from dealflow.models import Deal, Stage, StageChange
from integrations.services.sync.diff import PageChanges, StageMove
from integrations.services.sync.entities import EntitySpec, Link, linking_specs
from integrations.services.sync.upsert import bulk_upsert


def remote_to_pk(model: type[models.Model], integration_id: int, remote_ids: Iterable[int | None]) -> dict[int, int]:
    wanted = {remote_id for remote_id in remote_ids if remote_id is not None}
    if not wanted:
        return {}
    rows = model.objects.filter(integration_id=integration_id, remote_id__in=wanted).values_list("remote_id", "pk")
    return dict(rows)


class Writer:
    def __init__(self, *, integration_id: int, specs: tuple[EntitySpec, ...]) -> None:
        self.integration_id = integration_id
        self.specs = {spec.key: spec for spec in specs}
        self.all_specs = specs
        self.models_with_upserts: set[type[models.Model]] = set()

    def write(self, changes: PageChanges) -> None:
        spec = self.specs[changes.spec_key]
        if changes.upserts:
            self._upsert(spec, changes.upserts)
        if changes.removals:
            spec.model.objects.filter(integration_id=self.integration_id, remote_id__in=changes.removals).delete()
        if changes.stage_moves:
            self._record_stage_moves(changes.stage_moves)

    def _upsert(self, spec: EntitySpec, rows: list[dict]) -> None:
        lookups = {
            link.field: remote_to_pk(link.target, self.integration_id, (row[link.remote_field] for row in rows))
            for link in spec.links
        }
        bulk_upsert(
            spec.model,
            [
                {
                    "integration_id": self.integration_id,
                    **row,
                    **{f"{link.field}_id": lookups[link.field].get(row[link.remote_field]) for link in spec.links},
                }
                for row in rows
            ],
        )
        self.models_with_upserts.add(spec.model)

    def _record_stage_moves(self, moves: list[StageMove]) -> None:
        deals = remote_to_pk(Deal, self.integration_id, (move.deal_remote_id for move in moves))
        stages = remote_to_pk(
            Stage,
            self.integration_id,
            [move.from_stage_remote_id for move in moves] + [move.to_stage_remote_id for move in moves],
        )
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

    def relink(self) -> None:
        """Fill foreign keys left empty because their target arrived after the row pointing at it."""
        for target in self.models_with_upserts:
            for model, link in linking_specs(self.all_specs, target):
                self._relink(model, link)

    def _relink(self, model: type[models.Model], link: Link) -> None:
        targets = link.target.objects.filter(integration_id=self.integration_id)
        model.objects.filter(
            integration_id=self.integration_id,
            **{f"{link.field}__isnull": True, f"{link.remote_field}__in": targets.values("remote_id")},
        ).update(**{link.field: Subquery(targets.filter(remote_id=OuterRef(link.remote_field)).values("pk")[:1])})
