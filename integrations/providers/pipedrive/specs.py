"""What the sync copies from Pipedrive: for each entity, how to fetch it and which cache columns a
record fills (EntitySpec, integrations/sync/entities.py), in the order they are written."""

from dealflow.models import Activity, Deal, DealStatus, Organization, Owner, Person, Pipeline, Stage
from integrations.sync.entities import EntitySpec, Link

from . import records
from .custom_fields import NO_CUSTOM_FIELDS, CustomFields


def pipeline_columns(pipeline: records.Pipeline) -> dict:
    return {"name": pipeline.name[:255], "order_nr": pipeline.order_nr, "is_deleted": pipeline.is_deleted}


def stage_columns(stage: records.Stage) -> dict:
    return {
        "name": stage.name[:255],
        "pipeline_remote_id": stage.pipeline_id,
        "order_nr": stage.order_nr,
        "deal_probability": max(0, stage.deal_probability),
        "is_deal_rot_enabled": stage.is_deal_rot_enabled,
        "days_to_rotten": stage.days_to_rotten,
        "is_deleted": stage.is_deleted,
    }


def owner_columns(user: records.User) -> dict:
    return {"name": user.name[:255], "email": user.email[:254], "is_active": user.is_active}


def organization_columns(org: records.Organization) -> dict:
    return {
        "name": org.name[:255],
        "owner_remote_id": org.owner_id,
        "address": org.address or "",
        "update_time": org.update_time,
    }


def person_columns(person: records.Person) -> dict:
    return {
        "name": person.name[:255],
        "org_remote_id": person.org_id,
        "owner_remote_id": person.owner_id,
        "emails": list(person.emails),
        "phones": list(person.phones),
        "update_time": person.update_time,
    }


def deal_columns(deal: records.Deal, custom_fields: CustomFields) -> dict:
    return {
        "title": deal.title[:500],
        "value": deal.value,
        "currency": deal.currency[:3],
        "status": DealStatus.DELETED if deal.is_deleted else (deal.status or DealStatus.OPEN),
        "is_archived": deal.is_archived,
        "pipeline_remote_id": deal.pipeline_id,
        "stage_remote_id": deal.stage_id,
        "org_remote_id": deal.org_id,
        "person_remote_id": deal.person_id,
        "owner_remote_id": deal.owner_id,
        "add_time": deal.add_time,
        "update_time": deal.update_time,
        "stage_change_time": deal.stage_change_time,
        "won_time": deal.won_time,
        "lost_time": deal.lost_time,
        "close_time": deal.close_time,
        "expected_close_date": deal.expected_close_date,
        "probability": deal.probability,
        "lost_reason": deal.lost_reason or "",
        "label_ids": list(deal.label_ids),
        "custom_fields": custom_fields.named(deal.custom_fields),
    }


def activity_columns(activity: records.Activity) -> dict:
    return {
        "subject": activity.subject[:500],
        "type": activity.type[:64],
        "due_date": activity.due_date,
        # As ISO text ("14:30:00"), which both databases read into a time column: the sync's
        # set-based writes hand values to the driver as they are.
        "due_time": activity.due_time.isoformat() if activity.due_time else None,
        "done": activity.done,
        "marked_as_done_time": activity.marked_as_done_time,
        "deal_remote_id": activity.deal_id,
        "owner_remote_id": activity.owner_id,
        "add_time": activity.add_time,
        "update_time": activity.update_time,
    }


DEAL_LINKS = (
    Link("pipeline", "pipeline_remote_id", Pipeline),
    Link("stage", "stage_remote_id", Stage),
    Link("organization", "org_remote_id", Organization),
    Link("person", "person_remote_id", Person),
    Link("owner", "owner_remote_id", Owner),
)


def removable_listing(key: str, model, columns, *, links: tuple[Link, ...] = ()) -> EntitySpec:
    """An entity listed incrementally by `client.iter_<key>(updated_since=…)` whose records deleted
    upstream leave the cache (organizations, persons, activities)."""

    def fetch(client, since, on_page):
        return getattr(client, f"iter_{key}")(updated_since=since, on_page=on_page)

    return EntitySpec(key, model, fetch, columns, incremental=True, removes_deleted=True, links=links)


def entity_specs(custom_fields: CustomFields = NO_CUSTOM_FIELDS) -> tuple[EntitySpec, ...]:
    def columns_of_deal(deal):
        return deal_columns(deal, custom_fields)

    return (
        EntitySpec(
            "pipelines", Pipeline, lambda c, since, on_page: c.iter_pipelines(on_page=on_page), pipeline_columns
        ),
        EntitySpec(
            "stages",
            Stage,
            lambda c, since, on_page: c.iter_stages(on_page=on_page),
            stage_columns,
            links=(Link("pipeline", "pipeline_remote_id", Pipeline),),
        ),
        EntitySpec("users", Owner, lambda c, since, on_page: c.iter_users(on_page=on_page), owner_columns),
        removable_listing("organizations", Organization, organization_columns),
        removable_listing(
            "persons", Person, person_columns, links=(Link("organization", "org_remote_id", Organization),)
        ),
        EntitySpec(
            "deals",
            Deal,
            lambda c, since, on_page: c.iter_deals(updated_since=since, on_page=on_page),
            columns_of_deal,
            incremental=True,
            links=DEAL_LINKS,
            fingerprint_salt=custom_fields.version,
        ),
        EntitySpec(
            "archived_deals",
            Deal,
            lambda c, since, on_page: c.iter_archived_deals(updated_since=since, on_page=on_page),
            columns_of_deal,
            incremental=True,
            links=DEAL_LINKS,
            fingerprint_salt=custom_fields.version,
        ),
        # After the deals, so that an activity's deal is written before it.
        removable_listing(
            "activities",
            Activity,
            activity_columns,
            links=(Link("deal", "deal_remote_id", Deal), Link("owner", "owner_remote_id", Owner)),
        ),
    )
