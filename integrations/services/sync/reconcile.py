"""Full reconciliation: remove cached rows whose remote record no longer exists.

Runs only inside the write transaction of a full sync whose download completed, with the ids
that download saw; a partial download never reaches it.
"""

from django.db import models

DELETE_CHUNK = 500


def remove_unseen(*, integration_id: int, model: type[models.Model], seen: set[int]) -> int:
    local = set(model.objects.filter(integration_id=integration_id).values_list("remote_id", flat=True))
    missing = sorted(local - seen)
    removed = 0
    for start in range(0, len(missing), DELETE_CHUNK):
        chunk = missing[start : start + DELETE_CHUNK]
        removed += model.objects.filter(integration_id=integration_id, remote_id__in=chunk).delete()[1].get(
            model._meta.label, 0
        )
    return removed
