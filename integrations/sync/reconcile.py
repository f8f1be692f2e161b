"""Removing cached rows by remote id: records deleted upstream, and full reconciliation.

Reconciliation runs only inside the write transaction of a full sync whose download completed,
with the ids that download saw; a partial download never reaches it.
"""

from collections.abc import Iterable

from django.db import models

DELETE_CHUNK = 500


def remove_unseen(*, integration_id: int, model: type[models.Model], seen: set[int]) -> int:
    """Remove the rows whose remote id a full download did not see; how many it removed."""
    local = set(model.objects.filter(integration_id=integration_id).values_list("remote_id", flat=True))
    return delete_remote_ids(integration_id=integration_id, model=model, remote_ids=local - seen)


def delete_remote_ids(*, integration_id: int, model: type[models.Model], remote_ids: Iterable[int]) -> int:
    """Delete through the ORM, which applies on_delete (a removed person's deals keep no link)."""
    missing = sorted(remote_ids)
    removed = 0
    for start in range(0, len(missing), DELETE_CHUNK):
        chunk = missing[start : start + DELETE_CHUNK]
        removed += (
            model.objects.filter(integration_id=integration_id, remote_id__in=chunk)
            .delete()[1]
            .get(model._meta.label, 0)
        )
    return removed
