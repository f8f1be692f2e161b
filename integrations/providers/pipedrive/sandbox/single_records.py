"""GET /api/v2/persons/{id} and /api/v2/organizations/{id}: one contact, as a webhook's
processing fetches it (a deleted one is still answered, with is_deleted: true)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .endpoints import ApiError, Request, Response

if TYPE_CHECKING:
    from .core import Sandbox


def _one(rows: dict, request: Request, kind: str) -> Response:
    row = rows.get(request.path_id)
    if row is None:
        raise ApiError(404, f"{kind} not found")
    return 200, {"success": True, "data": dict(row)}


def get_person(sandbox: Sandbox, request: Request) -> Response:
    return _one(sandbox.store.persons, request, "Person")


def get_organization(sandbox: Sandbox, request: Request) -> Response:
    return _one(sandbox.store.organizations, request, "Organization")
