"""Plain functions that create test data directly (never through the sync), shared by every test package:
a company, its integration, and the board's pipelines, stages, people and deals."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from dealflow.models import Activity, Deal, DealStatus, Organization, Owner, Person, Pipeline, Stage, StageMapping
from dealflow.stages import MappingTarget
from integrations.models import Integration, SyncState
from portfolio.models import PortfolioCompany

_ids = itertools.count(1000)


def next_id() -> int:
    return next(_ids)


def company(name="Coeo", *, slug=None, viewers=(), **fields) -> PortfolioCompany:
    created = PortfolioCompany.objects.create(name=name, slug=slug or name.lower().replace(" ", "-"), **fields)
    created.viewers.add(*viewers)
    return created


def integration(company, *, company_domain="coeo", api_base_url=None, token="test-token", **fields) -> Integration:
    """A Pipedrive integration for `company`; `api_base_url` points it at a sandbox."""
    settings = {"company_domain": company_domain}
    if api_base_url is not None:
        settings["api_base_url"] = api_base_url
    fields = {"credentials": {"api_token": token}, "settings": settings, **fields}
    return Integration.objects.create(company=company, **fields)


def sync_state(integration, **fields) -> Integration:
    """Set the integration's sync state (last run, lease, pause...) as the sync services would, and
    reload it so `integration.sync_state` shows the new values."""
    SyncState.objects.filter(integration=integration).update(**fields)
    integration.refresh_from_db()
    return integration


def pipeline(integration, name="Sales", **fields) -> Pipeline:
    return Pipeline.objects.create(integration=integration, remote_id=next_id(), name=name, **fields)


def stage(pipeline, name, target=MappingTarget.LEAD, *, probability=100, mapped=True, **fields) -> Stage:
    """A stage with a StageMapping to `target` (no mapping row at all when mapped=False)."""
    created = Stage.objects.create(
        integration=pipeline.integration,
        pipeline=pipeline,
        pipeline_remote_id=pipeline.remote_id,
        remote_id=next_id(),
        name=name,
        deal_probability=probability,
        **fields,
    )
    if mapped:
        StageMapping.objects.create(integration=pipeline.integration, stage=created, target=target, is_confirmed=True)
    return created


def owner(integration, name="Anna Andersson", **fields) -> Owner:
    fields = {"email": f"{name.split()[0].lower()}@example.com", **fields}
    return Owner.objects.create(integration=integration, remote_id=next_id(), name=name, **fields)


def organization(integration, name="Acme AB", **fields) -> Organization:
    return Organization.objects.create(integration=integration, remote_id=next_id(), name=name, **fields)


def person(integration, name="Erik Eriksson", *, organization=None, **fields) -> Person:
    fields = {
        "emails": [{"value": f"{name.split()[0].lower()}@acme.example", "label": "work", "primary": True}],
        "phones": [{"value": "+46 70 123 45 67", "label": "mobile", "primary": True}],
        **fields,
    }
    return Person.objects.create(
        integration=integration, remote_id=next_id(), name=name, organization=organization, **fields
    )


def deal(stage, title="Deal", *, value=1000, currency="SEK", save=True, **fields) -> Deal:
    """A deal in `stage` (open, updated and moved into its stage a day ago unless told otherwise)."""
    now = timezone.now()
    fields = {
        "status": DealStatus.OPEN,
        "add_time": now - timedelta(days=10),
        "update_time": now - timedelta(days=1),
        "stage_change_time": now - timedelta(days=1),
        **fields,
    }
    built = Deal(
        integration=stage.integration,
        remote_id=next_id(),
        title=title,
        value=Decimal(value),
        currency=currency,
        stage=stage,
        stage_remote_id=stage.remote_id,
        pipeline=stage.pipeline,
        pipeline_remote_id=stage.pipeline_remote_id,
        **fields,
    )
    if save:
        built.save()
    return built


def many_deals(stage, count, **fields) -> None:
    """`count` deals in one bulk insert (for query-count tests)."""
    Deal.objects.bulk_create(
        [deal(stage, f"Bulk deal {index}", save=False, **fields) for index in range(count)], batch_size=1000
    )


def activity(deal, subject="Call", *, due_date=None, **fields) -> Activity:
    """An undone activity of `deal`, due today unless told otherwise."""
    return Activity.objects.create(
        integration=deal.integration,
        remote_id=next_id(),
        subject=subject,
        deal=deal,
        deal_remote_id=deal.remote_id,
        due_date=due_date or timezone.localdate(),
        **fields,
    )
