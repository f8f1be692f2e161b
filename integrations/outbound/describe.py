"""What changed at the CRM between the deal a user saw (our cached row) and the deal as the CRM
holds it now, one line per field, with the company's own names for stages, people and owners."""

from __future__ import annotations

from dealflow.models import Deal, Organization, Owner, Person, Pipeline, Stage
from integrations.providers.base import RemoteDeal

# neutral field name -> (label, the cached Deal's attribute, the cached model naming its ids)
FIELDS = (
    ("title", "Title", "title", None),
    ("pipeline_id", "Pipeline", "pipeline_remote_id", Pipeline),
    ("stage_id", "Stage", "stage_remote_id", Stage),
    ("status", "Status", "status", None),
    ("lost_reason", "Lost reason", "lost_reason", None),
    ("value", "Value", "value", None),
    ("currency", "Currency", "currency", None),
    ("expected_close_date", "Expected close", "expected_close_date", None),
    ("owner_id", "Owner", "owner_remote_id", Owner),
    ("org_id", "Organization", "org_remote_id", Organization),
    ("person_id", "Contact person", "person_remote_id", Person),
)


def describe_changes(integration, deal: Deal, current: RemoteDeal) -> list[str]:
    lines = []
    for name, label, attribute, model in FIELDS:
        seen, now = getattr(deal, attribute) or None, current.fields.get(name) or None
        if seen == now:
            continue
        if model is not None:
            names = dict(
                model.objects.filter(integration=integration, remote_id__in=[v for v in (seen, now) if v]).values_list(
                    "remote_id", "name"
                )
            )
            seen, now = names.get(seen, seen), names.get(now, now)
        lines.append(f"{label}: {_shown(seen)} → {_shown(now)}")
    return lines


def _shown(value) -> str:
    return "—" if value is None else str(value)
