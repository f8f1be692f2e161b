"""The Pipedrive API endpoints the sandbox serves: request in, (status, JSON body) out.

Query validation follows Pipedrive v2: limit 1..500, RFC 3339 ``updated_since`` (inclusive),
``status`` as a comma list where ``deleted`` must be asked for, archived deals only under
/deals/archived. Errors use Pipedrive's body: {success: false, error, error_info, data, ...}.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .listing import BadCursor
from .store import DEAL_STATUSES, format_time

if TYPE_CHECKING:
    from .core import Sandbox

MAX_LIMIT = 500
ERROR_INFO = "Please check developers.pipedrive.com for more information about Pipedrive API."
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
Response = tuple[int, dict]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error_body(message: str) -> dict:
    return {"success": False, "error": message, "error_info": ERROR_INFO, "data": None, "additional_data": None}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: dict | None = None
    path_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)


# -- query parameters ---------------------------------------------------------------------


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Validation failed: {name}: Parameter '{name}' must be an integer") from None


def _limit(request: Request, default: int) -> int:
    limit = _int_param(request, "limit")
    if limit is None:
        return default
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"Validation failed: limit: Parameter 'limit' must be between 1 and {MAX_LIMIT}")
    return limit


def _choice(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.query.get(name) or default
    if value not in allowed:
        raise ApiError(400, f"Validation failed: {name}: Parameter '{name}' must be one of {', '.join(allowed)}")
    return value


def _updated_since(request: Request) -> str | None:
    raw = request.query.get("updated_since")
    if raw is None:
        return None
    if not _RFC3339.match(raw):
        raise ApiError(400, "Validation failed: updated_since: Parameter 'updated_since' must be RFC3339 date-time")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "Validation failed: updated_since: Parameter 'updated_since' is not a valid date") from None
    return format_time(moment.astimezone(UTC))


def _statuses(request: Request) -> frozenset[str]:
    raw = request.query.get("status")
    if not raw:
        return frozenset(("open", "won", "lost"))
    wanted = frozenset(part.strip() for part in raw.split(","))
    if not wanted <= set(DEAL_STATUSES):
        raise ApiError(400, f"Validation failed: status: Parameter 'status' must be one of {', '.join(DEAL_STATUSES)}")
    return wanted


# -- listings -----------------------------------------------------------------------------


def _listing(
    sandbox: Sandbox,
    request: Request,
    collection: str,
    rows: dict,
    keep: Callable[[Any], bool],
    sorts: tuple[str, ...],
    render: Callable[[Any], dict] = dict,
) -> Response:
    sort_by = _choice(request, "sort_by", sorts, sorts[0])
    direction = _choice(request, "sort_direction", ("asc", "desc"), "asc")
    limit = _limit(request, sandbox.page_size_default)
    try:
        served, next_cursor = sandbox.lister.page(
            collection,
            rows,
            version=sandbox.store.version,
            sort_by=sort_by,
            descending=direction == "desc",
            keep=keep,
            cursor=request.query.get("cursor"),
            limit=limit,
        )
    except (BadCursor, TypeError):
        raise ApiError(400, "Validation failed: cursor: Parameter 'cursor' is not valid") from None
    data = [render(row) for row in served]
    return 200, {"success": True, "data": data, "additional_data": {"next_cursor": next_cursor}}


def _matches(request: Request, row: Any, *names: str) -> bool:
    """Row passes the integer equality filters named (e.g. pipeline_id) given in the query."""
    for name in names:
        wanted = _int_param(request, name)
        if wanted is not None and row[name] != wanted:
            return False
    return True


def _since(request: Request) -> Callable[[Any], bool]:
    since = _updated_since(request)
    return (lambda row: True) if since is None else (lambda row: row["update_time"] >= since)


def list_deals(sandbox: Sandbox, request: Request, *, archived: bool) -> Response:
    statuses = _statuses(request)
    since = _since(request)
    filters = ("pipeline_id", "stage_id", "owner_id", "person_id", "org_id")
    for name in filters:
        _int_param(request, name)

    def keep(row: Any) -> bool:
        if row.is_archived != archived or row.status not in statuses:
            return False
        return since(row) and _matches(request, row, *filters)

    sorts = ("id", "update_time", "add_time")
    return _listing(sandbox, request, "deals", sandbox.store.deals, keep, sorts, render=lambda row: row.to_api())


def list_stages(sandbox: Sandbox, request: Request) -> Response:
    _int_param(request, "pipeline_id")

    def keep(row: dict) -> bool:
        return not row["is_deleted"] and _matches(request, row, "pipeline_id")

    sorts = ("id", "update_time", "add_time", "order_nr")
    return _listing(sandbox, request, "stages", sandbox.store.stages, keep, sorts)


def list_pipelines(sandbox: Sandbox, request: Request) -> Response:
    sorts = ("id", "update_time", "add_time")
    return _listing(sandbox, request, "pipelines", sandbox.store.pipelines, lambda row: not row["is_deleted"], sorts)


def _list_contacts(sandbox: Sandbox, request: Request, collection: str, filters: tuple[str, ...]) -> Response:
    since = _since(request)
    for name in filters:
        _int_param(request, name)

    def keep(row: dict) -> bool:
        return not row["is_deleted"] and since(row) and _matches(request, row, *filters)

    rows = getattr(sandbox.store, collection)
    return _listing(sandbox, request, collection, rows, keep, ("id", "update_time", "add_time"))


def list_persons(sandbox: Sandbox, request: Request) -> Response:
    return _list_contacts(sandbox, request, "persons", ("owner_id", "org_id"))


def list_organizations(sandbox: Sandbox, request: Request) -> Response:
    return _list_contacts(sandbox, request, "organizations", ("owner_id",))


def list_activities(sandbox: Sandbox, request: Request) -> Response:
    since = _since(request)
    filters = ("owner_id", "deal_id", "person_id", "org_id")
    for name in filters:
        _int_param(request, name)
    done = request.query.get("done")
    if done not in (None, "", "true", "false", "1", "0"):
        raise ApiError(400, "Validation failed: done: Parameter 'done' must be a boolean")

    def keep(row: dict) -> bool:
        if row["is_deleted"] or not since(row) or not _matches(request, row, *filters):
            return False
        return done in (None, "") or row["done"] == (done in ("true", "1"))

    sorts = ("id", "update_time", "add_time", "due_date")
    return _listing(sandbox, request, "activities", sandbox.store.activities, keep, sorts)


def list_deal_fields(sandbox: Sandbox, request: Request) -> Response:
    return _listing(sandbox, request, "dealFields", sandbox.store.deal_fields, lambda row: True, ("field_code",))


# -- single deals -------------------------------------------------------------------------


def get_deal(sandbox: Sandbox, request: Request) -> Response:
    return _deal_call(lambda: sandbox.store.deal(request.path_id))


def _deal_call(call: Callable[[], dict]) -> Response:
    try:
        return 200, {"success": True, "data": call()}
    except LookupError as exc:
        raise ApiError(404, f"Deal not found ({exc})") from None


# -- v1 users -----------------------------------------------------------------------------


def list_users(sandbox: Sandbox, request: Request) -> Response:
    return 200, {"success": True, "data": [dict(user) for user in sandbox.store.users.values()]}


def current_user(sandbox: Sandbox, request: Request) -> Response:
    store = sandbox.store
    user = store.users[min(store.users)]
    company = store.company
    me = {
        **user,
        "company_id": company["id"],
        "company_name": company["name"],
        "company_domain": company["domain"],
        "company_country": company["country"],
        "company_industry": "Software",
        "language": {"language_code": user["locale"][:2], "country_code": user["locale"][-2:]},
    }
    return 200, {"success": True, "data": me}


# Webhooks (POST/GET/DELETE /v1/webhooks) and single contacts, for webhook processing; the writes
# (PATCH/POST deals, POST organizations and persons, deal_writes.py), as strict as v2.
from . import changelog, deal_writes, single_records, webhooks  # noqa: E402

# (method, path pattern, resource name used by faults.fail_page, handler)
ROUTES: tuple[tuple[str, re.Pattern, str, Callable[..., Response]], ...] = tuple(
    (method, re.compile(pattern), resource, handler)
    for method, pattern, resource, handler in (
        ("GET", r"^/api/v2/deals$", "deals", lambda s, r: list_deals(s, r, archived=False)),
        ("POST", r"^/api/v2/deals$", "deal", deal_writes.post_deal),
        ("GET", r"^/api/v2/deals/archived$", "archived_deals", lambda s, r: list_deals(s, r, archived=True)),
        ("GET", r"^/api/v2/deals/(\d+)$", "deal", get_deal),
        ("PATCH", r"^/api/v2/deals/(\d+)$", "deal", deal_writes.patch_deal),
        ("GET", r"^/api/v2/stages$", "stages", list_stages),
        ("GET", r"^/api/v2/pipelines$", "pipelines", list_pipelines),
        ("GET", r"^/api/v2/persons$", "persons", list_persons),
        ("POST", r"^/api/v2/persons$", "person", deal_writes.post_person),
        ("POST", r"^/api/v2/organizations$", "organization", deal_writes.post_organization),
        ("GET", r"^/api/v2/organizations$", "organizations", list_organizations),
        ("GET", r"^/api/v2/dealFields$", "dealFields", list_deal_fields),
        ("GET", r"^/api/v2/activities$", "activities", list_activities),
        ("GET", r"^/v1/users$", "users", list_users),
        ("GET", r"^/v1/users/me$", "me", current_user),
        ("GET", r"^/api/v2/persons/(\d+)$", "person", single_records.get_person),
        ("GET", r"^/api/v2/organizations/(\d+)$", "organization", single_records.get_organization),
        ("GET", r"^/v1/webhooks$", "webhooks", webhooks.list_webhooks),
        ("POST", r"^/v1/webhooks$", "webhooks", webhooks.add_webhook),
        ("DELETE", r"^/v1/webhooks/(\d+)$", "webhooks", webhooks.delete_webhook),
        ("GET", r"^/v1/deals/(\d+)/changelog$", "changelog", changelog.get_changelog),
    )
)


def route(method: str, path: str) -> tuple[str, Callable[..., Response], int | None] | None:
    for route_method, pattern, resource, handler in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return resource, handler, int(match.group(1)) if match.groups() else None
    return None
