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


def test_the_furthest_stage_of_every_shape_of_history_equals_pythons(coeo):
    # Each deal's furthest rank among its current column and both ends of its changes, worked out
    # here in Python, against the SQL's (one CASE over both ends, highest rank first): a change
    # only its from side ranks high, one only its to side, stages that rank nothing (excluded,
    # none), a backward move, no history, and a won deal in a low stage.
    from itertools import product

    from dealflow.models import Deal, DealStatus, StageChange
    from tests import factories as make

    s = coeo.stages
    ends = [s.lead, s.qualified, s.proposal, s.won, s.nej_tack, None]
    added = dataset.at("2026-02-01")
    for number, (current, from_stage, to_stage) in enumerate(product([s.lead, s.meeting], ends, ends)):
        deal = make.deal(current, f"d{number}", add_time=added)
        dataset.change(deal, from_stage, to_stage, dataset.at("2026-02-02"))
    make.deal(s.qualified, "no history", add_time=added)
    make.deal(s.lead, "won", status=DealStatus.WON, add_time=added)

    mappings = StageMapping.objects.filter(integration=coeo.integration)
    rank = {mapping.stage_id: funnel.RANK.get(mapping.target, 0) for mapping in mappings}
    furthest = []
    for deal in Deal.objects.filter(integration=coeo.integration):
        column = "closed_won" if deal.status == DealStatus.WON else StageMapping.objects.get(stage=deal.stage).target
        ends_seen = StageChange.objects.filter(deal=deal).values_list("from_stage_id", "to_stage_id")
        furthest.append(max([funnel.RANK.get(column, 0), *(rank.get(end, 0) for pair in ends_seen for end in pair)]))
    expected = {stage: sum(1 for value in furthest if value >= number) for stage, number in funnel.RANK.items()}
    assert counts(coeo.company) == expected
    assert expected["proposal"] > expected["closed_won"] > 0
