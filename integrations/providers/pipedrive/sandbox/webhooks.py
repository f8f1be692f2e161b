"""The sandbox's webhooks: POST/GET/DELETE /v1/webhooks (validated as Pipedrive does), and a v2
payload for every change the store reports (control API and API writes alike), handed to
delivery.py for each matching webhook.

Payloads follow the documented v2 shape: {data, previous, meta}; ``data`` is null on delete and
``previous`` holds only the fields that changed. Ids in ``meta`` are strings, as in Pipedrive's
examples, so receivers must accept both.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .delivery import Delivery, Job
from .endpoints import ApiError, Request, Response
from .store import format_time

if TYPE_CHECKING:
    from .core import Sandbox

EVENT_ACTIONS = ("create", "change", "delete", "*")
EVENT_OBJECTS = (
    "activity",
    "deal",
    "lead",
    "note",
    "organization",
    "person",
    "pipeline",
    "product",
    "stage",
    "user",
    "*",
)
VERSIONS = ("1.0", "2.0")
MAX_WEBHOOKS_PER_USER = 40


class Webhooks:
    """One sandbox account's webhooks, and their delivery."""

    def __init__(self, sandbox: Sandbox, *, time_scale: float = 1.0) -> None:
        self.sandbox = sandbox
        self.registered: dict[int, dict] = {}
        self.delivery = Delivery(time_scale=time_scale)
        self._next_id = 1
        sandbox.store.listeners.append(self.changed)

    # -- the store's change listener ------------------------------------------------------

    def changed(self, obj: str, action: str, current: dict, previous: dict | None) -> None:
        for webhook in list(self.registered.values()):
            if webhook["version"] != "2.0":
                continue
            if webhook["event_object"] not in (obj, "*") or webhook["event_action"] not in (action, "*"):
                continue
            auth = None
            if webhook["http_auth_user"] is not None:
                auth = (webhook["http_auth_user"], webhook["http_auth_password"] or "")
            job = Job(webhook["subscription_url"], auth, self.payload(webhook, obj, action, current, previous))
            self.delivery.send(job)

    def payload(self, webhook: dict, obj: str, action: str, current: dict, previous: dict | None) -> dict:
        company = self.sandbox.store.company
        if action == "change" and previous is not None:
            changed = {key: previous.get(key) for key in current if current.get(key) != previous.get(key)}
        else:
            changed = previous
        return {
            "data": None if action == "delete" else current,
            "previous": changed,
            "meta": {
                "action": action,
                "entity": obj,
                "entity_id": str(current["id"]),
                "id": str(uuid.uuid4()),
                "correlation_id": str(uuid.uuid4()),
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "version": "2.0",
                "type": "general",
                "webhook_id": str(webhook["id"]),
                "webhook_owner_id": str(webhook["owner_id"]),
                "company_id": str(company["id"]),
                "user_id": str(webhook["user_id"]),
                "permitted_user_ids": [str(webhook["user_id"])],
                "host": f"{company['domain']}.pipedrive.com",
                "change_source": "app",
                "is_bulk_edit": False,
                "attempt": 1,
            },
        }

    # -- /v1/webhooks ---------------------------------------------------------------------

    def add(self, body: Any) -> dict:
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object")
        for name in ("subscription_url", "event_action", "event_object", "name"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise ApiError(400, f"Validation failed: {name}: required")
        url = urlsplit(body["subscription_url"])
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ApiError(400, "Validation failed: subscription_url: must be a full, valid URL")
        _choice(body, "event_action", EVENT_ACTIONS)
        _choice(body, "event_object", EVENT_OBJECTS)
        version = body.get("version", "2.0")
        if version not in VERSIONS:
            raise ApiError(400, f"Validation failed: version: must be one of {', '.join(VERSIONS)}")
        users = self.sandbox.store.users
        user_id = body.get("user_id", min(users))
        if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id not in users:
            raise ApiError(400, "Validation failed: user_id: no such user")
        for name in ("http_auth_user", "http_auth_password"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise ApiError(400, f"Validation failed: {name}: must be a string")
        if sum(1 for hook in self.registered.values() if hook["user_id"] == user_id) >= MAX_WEBHOOKS_PER_USER:
            raise ApiError(400, f"The limit of {MAX_WEBHOOKS_PER_USER} webhooks per user is reached")
        webhook = {
            "id": self._next_id,
            "company_id": self.sandbox.store.company["id"],
            "owner_id": min(users),
            "user_id": user_id,
            "event_action": body["event_action"],
            "event_object": body["event_object"],
            "subscription_url": body["subscription_url"],
            "version": version,
            "is_active": 1,
            "add_time": format_time(datetime.now(UTC)),
            "remove_time": None,
            "type": "general",
            "http_auth_user": body.get("http_auth_user"),
            "http_auth_password": body.get("http_auth_password"),
            "remove_reason": None,
            "last_delivery_time": None,
            "last_http_status": None,
            "admin_id": min(users),
            "name": body["name"][:255],
        }
        self._next_id += 1
        self.registered[webhook["id"]] = webhook
        return dict(webhook)

    def remove(self, webhook_id: int) -> dict:
        if self.registered.pop(int(webhook_id), None) is None:
            raise ApiError(404, "Webhook not found")
        return {"id": int(webhook_id)}


def _choice(body: dict, name: str, allowed: tuple[str, ...]) -> None:
    if body[name] not in allowed:
        raise ApiError(400, f"Validation failed: {name}: must be one of {', '.join(allowed)}")


def add_webhook(sandbox: Sandbox, request: Request) -> Response:
    return 201, {"success": True, "status": "ok", "data": sandbox.webhooks.add(request.body)}


def list_webhooks(sandbox: Sandbox, request: Request) -> Response:
    return 200, {"success": True, "status": "ok", "data": [dict(hook) for hook in sandbox.webhooks.registered.values()]}


def delete_webhook(sandbox: Sandbox, request: Request) -> Response:
    return 200, {"success": True, "status": "ok", "data": sandbox.webhooks.remove(request.path_id)}
