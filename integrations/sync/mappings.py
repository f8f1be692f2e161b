"""Stage mappings for stages that have none yet: a keyword suggestion, used at once, unconfirmed."""

from dealflow.mapping_rules import suggest_target
from dealflow.models import Stage, StageMapping
from dealflow.stages import MappingTarget


def create_missing_mappings(*, integration_id: int) -> int:
    """Map every stage of the integration without a mapping; a stage no rule matches stays UNMAPPED."""
    stages = Stage.objects.filter(integration_id=integration_id, mapping__isnull=True).values_list("pk", "name")
    mappings = []
    for stage_pk, name in stages:
        suggestion = suggest_target(name)
        mappings.append(
            StageMapping(
                integration_id=integration_id,
                stage_id=stage_pk,
                target=suggestion or MappingTarget.UNMAPPED,
                suggested_target=suggestion or "",
                is_confirmed=False,
            )
        )
    StageMapping.objects.bulk_create(mappings)
    return len(mappings)
