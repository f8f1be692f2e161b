"""The column rule's three forms (dealflow.columns) agree on every kind of deal: the Python form,
the Q filter and the CASE annotation, on real rows."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from dealflow.columns import COLUMN_KEYS, column_expression, column_of_deal, in_column, on_board
from dealflow.models import Deal, DealStatus
from dealflow.selectors import stage_map
from dealflow.stages import MappingTarget, StandardStage
from tests import factories as make

pytestmark = pytest.mark.django_db

# Where a deal sits: a stage mapped to each target, a stage without a mapping row, no stage at all.
PLACES = [*MappingTarget.values, "no mapping", "no stage"]
WON_PERIOD = timedelta(days=30)
# When it was won, relative to the won period: Pipedrive's won_time inside or outside it, or no
# won_time nor close_time, so that the stage change (outside) dates it.
WON_DATES = ["inside", "outside", "undated"]


@pytest.fixture
def every_kind_of_deal(coeo):
    """A deal for every status, place, archived flag and win date: (company, {deal id: combination})."""
    now = timezone.now()
    stages = {target: make.stage(coeo.pipeline, f"Mapped to {target}", target) for target in MappingTarget.values}
    stages["no mapping"] = stages["no stage"] = make.stage(coeo.pipeline, "Without mapping", mapped=False)
    dates = {
        "inside": {"won_time": now - timedelta(days=1)},
        "outside": {"won_time": now - timedelta(days=90)},
        "undated": {"won_time": None, "close_time": None, "stage_change_time": now - timedelta(days=90)},
    }
    combinations = list(itertools.product(DealStatus.values, PLACES, [False, True], WON_DATES))
    deals = []
    for status, place, archived, won in combinations:
        deal = make.deal(
            stages[place],
            f"{status} {place} {archived} {won}",
            status=status,
            is_archived=archived,
            save=False,
            **dates[won],
        )
        if place == "no stage":
            deal.stage, deal.stage_remote_id = None, None
        deals.append(deal)
    created = Deal.objects.bulk_create(deals)
    return coeo.company, {deal.pk: combination for deal, combination in zip(created, combinations, strict=True)}


@pytest.mark.parametrize("won_period", [True, False], ids=["won period", "any win date"])
def test_python_q_and_case_agree_on_every_combination(every_kind_of_deal, won_period):
    company, combinations = every_kind_of_deal
    won_since = timezone.now() - WON_PERIOD if won_period else None
    targets = stage_map([company]).target
    deals = Deal.objects.filter(pk__in=combinations)

    python = {deal.pk: column_of_deal(deal, won_since=won_since) for deal in deals.select_related("stage__mapping")}
    by_q = {}
    for key in COLUMN_KEYS:
        for deal_id in deals.filter(on_board(won_since) & in_column(targets, key)).values_list("id", flat=True):
            assert deal_id not in by_q, f"{combinations[deal_id]} is in two columns: {by_q[deal_id]} and {key}"
            by_q[deal_id] = key
    by_case = dict(
        deals.filter(on_board(won_since)).annotate(column=column_expression(targets)).values_list("id", "column")
    )

    for deal_id, combination in combinations.items():
        forms = (python[deal_id], by_q.get(deal_id), by_case.get(deal_id))
        assert len(set(forms)) == 1, f"{combination}: Python, Q and CASE say {forms}"
    # Not vacuous: every column and "not on the board" occur.
    assert set(python.values()) == {*COLUMN_KEYS, None}


def test_the_rule_itself(every_kind_of_deal):
    """Spot checks of what the three forms agree on, as README's board section states it."""
    company, combinations = every_kind_of_deal
    won_since = timezone.now() - WON_PERIOD
    columns = {
        combinations[deal.pk]: column_of_deal(deal, won_since=won_since)
        for deal in Deal.objects.filter(pk__in=combinations).select_related("stage__mapping")
    }
    closed_won, lead = StandardStage.CLOSED_WON.value, StandardStage.LEAD.value
    assert columns["won", lead, False, "inside"] == closed_won  # won: Closed Won whatever the stage
    assert columns["won", "excluded", False, "inside"] == closed_won
    assert columns["won", lead, False, "outside"] is None  # won before the period
    assert columns["won", lead, False, "undated"] is None  # dated by its last stage change
    assert columns["open", closed_won, False, "outside"] == closed_won  # verbal yes: no win date needed
    assert columns["open", "excluded", False, "inside"] == "excluded"
    assert columns["open", "unmapped", False, "inside"] == "unmapped"
    assert columns["open", "no mapping", False, "inside"] == "unmapped"
    assert columns["open", "no stage", False, "inside"] == "unmapped"
    assert columns["open", lead, True, "inside"] is None  # archived
    assert {columns["lost", lead, False, "inside"], columns["deleted", lead, False, "inside"]} == {None}
