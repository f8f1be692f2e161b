"""The funnel reads the stage mapping when it runs (funnel.StageRank, columns.column_expression),
so a mapping change shows at once, for a deal's current stage and for its recorded changes alike.
Runs on SQLite, and on PostgreSQL with scripts/with-postgres."""

import pytest

from dealflow.metrics import funnel
from dealflow.metrics.scope import Scope
from dealflow.models import StageMapping
from dealflow.stages import MappingTarget
from tests.dealflow.metrics import dataset

pytestmark = pytest.mark.django_db


def counts(company) -> dict[str, int]:
    scope = Scope.of([company])
    figures = funnel.compute(funnel.fetch(scope, dataset.PERIOD), scope.integration_ids)
    return {stage: entry["count"] for stage, entry in figures.items()}


def test_the_funnel_follows_a_mapping_change(coeo, nordic):
    dataset.build(coeo, nordic)
    assert counts(coeo.company) == {
        "lead": 6,
        "qualified": 6,
        "meeting": 6,
        "due_diligence": 5,
        "proposal": 5,
        "closed_won": 3,
    }
    # Proposal now excluded: c (which reached it only by a recorded change) and e (in it now) fall
    # back to the furthest standard stage they saw: Qualified for c, nothing for e.
    StageMapping.objects.filter(stage=coeo.stages.proposal).update(target=MappingTarget.EXCLUDED)
    assert counts(coeo.company) == {
        "lead": 5,
        "qualified": 5,
        "meeting": 4,
        "due_diligence": 3,
        "proposal": 3,
        "closed_won": 3,
    }


def test_no_mapped_stages_rank_nothing(coeo, nordic):
    dataset.build(coeo, nordic)
    StageMapping.objects.update(target=MappingTarget.UNMAPPED)
    # Only the won deals (a, b, m: Closed Won whatever their stage) reached anything.
    assert set(counts(coeo.company).values()) == {3}
