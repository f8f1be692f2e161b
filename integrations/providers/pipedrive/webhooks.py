"""Pipedrive webhooks: registering v2 webhooks (v1 /webhooks), reading their deliveries, and
fetching the one record an event is about.

Pipedrive's docs disagree on types (ids as strings or integers, the timestamp as an ISO string or
epoch seconds), so both are accepted. The basic-auth password travels only in the POST body; it
is redacted from any error, since Pipedrive echoes it in its webhook objects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from integrations.providers.base import WebhookEvent, WebhookRegistration
from integrations.redaction import redact

from .client import PipedriveClient
from .errors import ErrorKind, PipedriveError
from .records import Deal, Organization, Person, _optional_int, parse_datetime

# One webhook per object the board caches, each for every action.
WEBHOOK_OBJECTS = ("deal", "stage", "pipeline", "person", "organization")
ENTITY_OF_OBJECT = {
    "deal": "deals",
    "person": "persons",
    "organization": "organizations",
    "stage": "stages",
    "pipeline": "pipelines",
}
ACTIONS = ("create", "change", "delete")
# v1 payloads say added/updated/deleted/merged; v2 says create/change/delete.
ACTION_ALIASES = {"added": "create", "updated": "change", "deleted": "delete", "merged": "delete"}
# Records fetched one at a time: (path, record type).
SINGLE_RECORDS = {
    "deals": ("/api/v2/deals", Deal),
    "persons": ("/api/v2/persons", Person),
    "organizations": ("/api/v2/organizations", Organization),
}
NOT_ADMIN_WARNING = (
    "The API token's user ({name}) is not a Pipedrive admin: webhooks deliver only what that user"
    " may see. Use an admin's token to receive every change."
)
MAX_EVENT_ID_LENGTH = 100


# -- deliveries -------------------------------------------------------------------------------


def parse_event(payload: Any) -> WebhookEvent:
    """A v2 (or v1) delivery's JSON object as a WebhookEvent; ValueError when it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("meta"), dict):
        raise ValueError("The body has no meta object.")
    meta = payload["meta"]
    event_id = meta.get("id")
    if isinstance(event_id, bool) or not isinstance(event_id, str | int) or not str(event_id).strip():
        raise ValueError("meta.id is missing.")
    event_id = str(event_id).strip()
    if len(event_id) > MAX_EVENT_ID_LENGTH:
        raise ValueError("meta.id is too long.")
    obj = str(meta.get("entity") or meta.get("object") or "")
    action = str(meta.get("action") or "")
    action = ACTION_ALIASES.get(action, action)
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    return WebhookEvent(
        event_id=event_id,
        entity=ENTITY_OF_OBJECT.get(obj, ""),
        action=action if action in ACTIONS else "change",
        entity_id=_optional_int(meta.get("entity_id", meta.get("id_of_object", data.get("id")))),
        update_time=parse_timestamp(data.get("update_time")),
        merged_to_id=_optional_int(meta.get("merged_to_id", data.get("merged_to_id"))),
    )


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 text, or epoch seconds (or milliseconds) as a number or digits; None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
            seconds = float(value)
            return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, tz=UTC)
        return parse_datetime(value)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# -- single records ---------------------------------------------------------------------------


def fetch_record(client: PipedriveClient, entity: str, remote_id: int) -> Any | None:
    """The record as Pipedrive holds it now (one GET, cost 1); None when Pipedrive no longer has it."""
    path, record = SINGLE_RECORDS[entity]
    try:
        body = client._request("GET", f"{path}/{int(remote_id)}")
    except PipedriveError as error:
        if error.kind is ErrorKind.NOT_FOUND:
            return None
        raise
    if body["data"] is None:
        return None
    return client._parse(record, body["data"], entity)


def fetch_all(client: PipedriveClient, entity: str) -> list:
    listings = {"stages": client.iter_stages, "pipelines": client.iter_pipelines}
    return list(listings[entity]())


# -- registration -----------------------------------------------------------------------------


def register(client: PipedriveClient, *, url: str, user: str, password: str) -> WebhookRegistration:
    """One v2 webhook per object in WEBHOOK_OBJECTS delivering to `url`, authorised as the token's
    user; objects that already have one there keep it."""
    me = client.get_current_user()
    existing = registered(client, url=url)
    remote_ids = dict(existing)
    for obj in WEBHOOK_OBJECTS:
        if obj in remote_ids:
            continue
        body = {
            "subscription_url": url,
            "event_action": "*",
            "event_object": obj,
            "name": f"Portfolio dealflow: {obj}",
            "version": "2.0",
            "user_id": me.id,
            "http_auth_user": user,
            "http_auth_password": password,
        }
        try:
            created = client._request("POST", "/v1/webhooks", json=body)
        except PipedriveError as error:
            error.message = redact(error.message, user, password)
            error.args = (error.message,)
            raise
        remote_ids[obj] = int(created["data"]["id"])
    warning = "" if is_admin(me.raw) else NOT_ADMIN_WARNING.format(name=me.name)
    return WebhookRegistration(remote_ids=remote_ids, warning=warning)


def registered(client: PipedriveClient, *, url: str) -> dict[str, int]:
    """{event object: webhook id} of the active webhooks delivering to `url`."""
    rows = client._request("GET", "/v1/webhooks")["data"] or []
    found = {}
    for row in rows:
        if isinstance(row, dict) and row.get("subscription_url") == url and row.get("is_active") in (1, True):
            found.setdefault(str(row.get("event_object")), int(row["id"]))
    return found


def unregister(client: PipedriveClient, remote_ids: list[int]) -> None:
    for remote_id in remote_ids:
        try:
            client._request("DELETE", f"/v1/webhooks/{int(remote_id)}")
        except PipedriveError as error:
            if error.kind is not ErrorKind.NOT_FOUND:
                raise


def is_admin(user: dict) -> bool:
    """v1 users carry `is_admin` (0/1) in some answers and `access: [{app, admin}]` in others."""
    if user.get("is_admin") in (1, True):
        return True
    access = user.get("access")
    return isinstance(access, list) and any(
        isinstance(entry, dict) and entry.get("app") == "sales" and entry.get("admin") is True for entry in access
    )
