"""The sandbox's write endpoints: PATCH /api/v2/deals/{id}, POST /api/v2/deals, and POST
/api/v2/organizations and /api/v2/persons (for a new deal's new contacts), with v2's strict
validation: numbers must be JSON numbers (never strings), ids integers, booleans only true or
false, null only where the schema allows it, lost_reason only with status lost, and an unknown
stage, pipeline, owner, person or organization is a 400, as Pipedrive answers.

Valid changes go through the store's mutation methods (update_deal, add_deal, add_organization,
add_person), so everything that watches the store (webhook delivery) sees them.

`fail_writes` makes the next write calls answer with an error or answer late, for tests of how
write-back reports Pipedrive's refusals (the reads before a write are left alone).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from .endpoints import ApiError, Request, Response

if TYPE_CHECKING:
    from .core import Sandbox

# The v2 schema's type of each field the sandbox lets a client write, and whether null is allowed.
INTEGER, NUMBER, STRING, BOOLEAN, DATE, INT_LIST, OBJECT = (
    "integer",
    "number",
    "string",
    "boolean",
    "date",
    "ids",
    "obj",
)
DEAL_FIELDS: dict[str, tuple[str, bool]] = {
    "title": (STRING, False),
    "owner_id": (INTEGER, False),
    "person_id": (INTEGER, False),
    "org_id": (INTEGER, False),
    "pipeline_id": (INTEGER, False),
    "stage_id": (INTEGER, False),
    "value": (NUMBER, False),
    "currency": (STRING, False),
    "is_archived": (BOOLEAN, False),
    "status": (STRING, False),
    "probability": (NUMBER, True),
    "lost_reason": (STRING, True),
    "expected_close_date": (DATE, False),
    "label_ids": (INT_LIST, False),
    "custom_fields": (OBJECT, False),
}
STATUSES = ("open", "won", "lost")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class WriteFault:
    status: int
    message: str
    times: int
    delay_seconds: float


def fail_writes(
    sandbox: Sandbox, *, status: int = 0, message: str = "", times: int = 1, delay_seconds: float = 0
) -> None:
    """The next `times` write calls answer `status` with `message` (status 0: answer normally, after
    `delay_seconds`, so that a client with a shorter timeout gives up while the change is made)."""
    sandbox.write_fault = WriteFault(status=status, message=message, times=times, delay_seconds=delay_seconds)


def _injected_fault(sandbox: Sandbox) -> None:
    fault: WriteFault | None = getattr(sandbox, "write_fault", None)
    if fault is None or fault.times <= 0:
        return
    fault.times -= 1
    if fault.delay_seconds:
        time.sleep(fault.delay_seconds)
    if fault.status:
        raise ApiError(fault.status, fault.message or "Injected failure")


# -- handlers -----------------------------------------------------------------------------


def patch_deal(sandbox: Sandbox, request: Request) -> Response:
    store = sandbox.store
    if request.path_id not in store.deals or store.deals[request.path_id].is_deleted:
        raise ApiError(404, "Deal not found")
    _injected_fault(sandbox)
    fields = _deal_fields(request)
    current = store.deals[request.path_id]
    _check_references(sandbox, fields, status=fields.get("status", current.status))
    if "pipeline_id" in fields and "stage_id" not in fields and fields["pipeline_id"] != current.pipeline_id:
        fields["stage_id"] = _first_stage(sandbox, fields["pipeline_id"])
    fields.pop("pipeline_id", None)  # the stage decides the pipeline (checked to agree above)
    return 200, {"success": True, "data": store.update_deal(request.path_id, **fields)}


def post_deal(sandbox: Sandbox, request: Request) -> Response:
    _injected_fault(sandbox)
    fields = _deal_fields(request)
    if not isinstance(fields.get("title"), str) or not fields["title"].strip():
        raise ApiError(400, "Validation failed: title: Required")
    _check_references(sandbox, fields, status=fields.get("status", "open"))
    return 200, {"success": True, "data": sandbox.store.add_deal(**fields)}


def post_organization(sandbox: Sandbox, request: Request) -> Response:
    _injected_fault(sandbox)
    body = _json_object(request)
    name = _required_name(body)
    if set(body) - {"name"}:
        raise ApiError(400, f"Validation failed: unknown fields: {', '.join(sorted(set(body) - {'name'}))}")
    return 200, {"success": True, "data": sandbox.store.add_organization(name=name)}


def post_person(sandbox: Sandbox, request: Request) -> Response:
    _injected_fault(sandbox)
    body = _json_object(request)
    name = _required_name(body)
    unknown = set(body) - {"name", "org_id"}
    if unknown:
        raise ApiError(400, f"Validation failed: unknown fields: {', '.join(sorted(unknown))}")
    org_id = body.get("org_id")
    if org_id is not None:
        _check_type("org_id", org_id, INTEGER)
        if org_id not in sandbox.store.organizations:
            raise ApiError(400, f"Organization with id {org_id} not found")
    return 200, {"success": True, "data": sandbox.store.add_person(name=name, org_id=org_id)}


# -- validation ---------------------------------------------------------------------------


def _json_object(request: Request) -> dict:
    if not isinstance(request.body, dict):
        raise ApiError(400, "Validation failed: body: Request body must be a JSON object")
    return request.body


def _required_name(body: dict) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "Validation failed: name: Required")
    return name.strip()


def _deal_fields(request: Request) -> dict[str, Any]:
    body = _json_object(request)
    unknown = set(body) - set(DEAL_FIELDS)
    if unknown:
        raise ApiError(400, f"Validation failed: unknown fields: {', '.join(sorted(unknown))}")
    for name, value in body.items():
        kind, nullable = DEAL_FIELDS[name]
        if value is None:
            if not nullable:
                raise ApiError(400, f"Validation failed: {name}: Expected {kind}, received null")
            continue
        _check_type(name, value, kind)
    if "status" in body and body["status"] not in STATUSES:
        raise ApiError(400, f"Validation failed: status: Expected one of {', '.join(STATUSES)}")
    if "currency" in body and not _CURRENCY.match(body["currency"]):
        raise ApiError(400, "Validation failed: currency: Expected a three-letter currency code")
    if "title" in body and not body["title"].strip():
        raise ApiError(400, "Validation failed: title: Must not be empty")
    return dict(body)


def _check_type(name: str, value: Any, kind: str) -> None:
    # bool is an int in Python, and never a number or an id in JSON's eyes.
    ok = {
        INTEGER: isinstance(value, int) and not isinstance(value, bool),
        NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
        STRING: isinstance(value, str),
        BOOLEAN: isinstance(value, bool),
        DATE: isinstance(value, str) and _is_date(value),
        INT_LIST: isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value),
        OBJECT: isinstance(value, dict),
    }[kind]
    if not ok:
        raise ApiError(400, f"Validation failed: {name}: Expected {kind}, received {_json_type(value)}")


def _is_date(value: str) -> bool:
    try:
        return bool(_DATE.match(value)) and date.fromisoformat(value) is not None
    except ValueError:
        return False


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _check_references(sandbox: Sandbox, fields: dict, *, status: str) -> None:
    store = sandbox.store
    if fields.get("lost_reason") is not None and status != "lost":
        raise ApiError(400, "Validation failed: lost_reason: Can only be set if deal status is lost")
    stage = None
    if "stage_id" in fields:
        stage = store.stages.get(fields["stage_id"])
        if stage is None or stage["is_deleted"]:
            raise ApiError(400, f"Stage with id {fields['stage_id']} not found")
    if "pipeline_id" in fields:
        pipeline = store.pipelines.get(fields["pipeline_id"])
        if pipeline is None or pipeline["is_deleted"]:
            raise ApiError(400, f"Pipeline with id {fields['pipeline_id']} not found")
        if stage is not None and stage["pipeline_id"] != fields["pipeline_id"]:
            raise ApiError(400, f"Stage {stage['id']} does not belong to pipeline {fields['pipeline_id']}")
    references = (("owner_id", store.users, "User"), ("person_id", store.persons, "Person"))
    references += (("org_id", store.organizations, "Organization"),)
    for name, rows, label in references:
        if name in fields and fields[name] not in rows:
            raise ApiError(400, f"{label} with id {fields[name]} not found")


def _first_stage(sandbox: Sandbox, pipeline_id: int) -> int:
    stages = [s for s in sandbox.store.stages.values() if s["pipeline_id"] == pipeline_id and not s["is_deleted"]]
    if not stages:
        raise ApiError(400, f"Pipeline with id {pipeline_id} has no stages")
    return min(stages, key=lambda s: s["order_nr"])["id"]
