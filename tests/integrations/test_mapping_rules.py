import pytest

from dealflow.mapping_rules import normalise, suggest_target
from dealflow.stages import MappingTarget
from integrations.providers.pipedrive.sandbox import DATASETS

EXPECTED = {
    # coeo, "Försäljning"
    "Lead - ännu ej kontaktade": MappingTarget.LEAD,
    "Prospekt - kontaktade": MappingTarget.QUALIFIED,
    "Dialog/demo": MappingTarget.MEETING,
    "Bokat möte": MappingTarget.MEETING,
    "Offert": MappingTarget.DUE_DILIGENCE,
    "Offert lämnad": MappingTarget.DUE_DILIGENCE,
    "Förhandling": MappingTarget.PROPOSAL,
    "Nästan där": MappingTarget.PROPOSAL,
    "OK verbal acceptans": MappingTarget.CLOSED_WON,
    "Genomfört": MappingTarget.CLOSED_WON,
    "Nej tack": MappingTarget.EXCLUDED,
    "Inte nu": MappingTarget.EXCLUDED,
    "Fel typ av org": MappingTarget.EXCLUDED,
    "Irrelevant": MappingTarget.EXCLUDED,
    "Avvakta": MappingTarget.EXCLUDED,
    # coeo, "Event": no rule fits; staff choose
    "Inbjuden": None,
    "Anmäld": None,
    "Deltog": None,
    "Uppföljning": None,
    # acme, "Sales"
    "Lead In": MappingTarget.LEAD,
    "Contact Made": MappingTarget.QUALIFIED,
    "Demo Scheduled": MappingTarget.MEETING,
    "Proposal Made": MappingTarget.PROPOSAL,
    "Negotiations Started": MappingTarget.PROPOSAL,
    "On Hold": MappingTarget.EXCLUDED,
    "Not Interested": MappingTarget.EXCLUDED,
}


def seed_stage_names():
    return [stage.name for spec in DATASETS.values() for _, stages in spec.pipelines for stage in stages]


@pytest.mark.parametrize("name", seed_stage_names())
def test_every_seed_stage_gets_the_expected_suggestion(name):
    assert name in EXPECTED, f"add {name!r} to EXPECTED"
    assert suggest_target(name) == EXPECTED[name]


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("Qualified", MappingTarget.QUALIFIED),
        ("Meeting", MappingTarget.MEETING),
        ("Won", MappingTarget.CLOSED_WON),
        ("Lost", MappingTarget.EXCLUDED),
        ("FÖRHANDLING", MappingTarget.PROPOSAL),
        ("forhandling", MappingTarget.PROPOSAL),
        ("bokat MOTE", MappingTarget.MEETING),
        ("Inte nu - lead", MappingTarget.EXCLUDED),
        ("Qualified lead", MappingTarget.QUALIFIED),
        ("Kundmöte", None),  # whole words only: not "kund", not "möte"
        ("Something else", None),
        ("", None),
    ],
)
def test_case_accents_and_word_boundaries(name, target):
    assert suggest_target(name) == target


def test_normalise_strips_accents_and_punctuation():
    assert normalise("  Lead – ännu EJ kontaktade!") == "lead annu ej kontaktade"
