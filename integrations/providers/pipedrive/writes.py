"""Write-back to Pipedrive: GET /api/v2/deals/{id} (cost 1), PATCH /api/v2/deals/{id} and POST
/api/v2/deals (cost 5 each), POST /api/v2/organizations and /api/v2/persons for a new deal's new
contacts.

Calls go through the integration's PipedriveClient, so writes share its rate limiting and retry
rules (a POST is never repeated after it may have reached Pipedrive). Bodies carry only the fields
given, as v2 wants them: numbers as JSON numbers, dates as YYYY-MM-DD, no nulls. Every failure is
re-raised as a PipedriveError whose message says in plain words what happened and what to do;
they are token-free like every client error.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from integrations.providers.base import RemoteDeal

from .client import PipedriveClient
from .errors import ErrorKind, PipedriveError
from .records import Deal, Organization, Person

logger = logging.getLogger(__name__)

# A write runs inside a web request: a few seconds at most, then the user is told.
WRITE_TIMEOUT_SECONDS = 10.0
WRITE_CLIENT_OPTIONS = {"max_retries": 2, "max_total_wait": 6.0}
# The neutral field names (RemoteDeal.fields) are Pipedrive v2's own.
DEAL_FIELDS = (
    "title",
    "stage_id",
    "pipeline_id",
    "status",
    "lost_reason",
    "value",
    "currency",
    "expected_close_date",
    "owner_id",
    "org_id",
    "person_id",
)


def write_client_options() -> dict[str, Any]:
    return {**WRITE_CLIENT_OPTIONS, "timeout": httpx.Timeout(WRITE_TIMEOUT_SECONDS, connect=5.0)}


def fetch_deal(client: PipedriveClient, remote_id: int) -> RemoteDeal:
    return _plainly(lambda: remote_deal(client.get_deal(remote_id)))


def update_deal(client: PipedriveClient, remote_id: int, changes: dict[str, Any]) -> RemoteDeal:
    path = f"/api/v2/deals/{int(remote_id)}"
    return _plainly(lambda: remote_deal(_deal(client, client._request("PATCH", path, json=request_body(changes)))))


def create_deal(client: PipedriveClient, fields: dict[str, Any]) -> RemoteDeal:
    return _plainly(
        lambda: remote_deal(_deal(client, client._request("POST", "/api/v2/deals", json=request_body(fields))))
    )


def create_organization(client: PipedriveClient, name: str) -> tuple[int, Organization]:
    def call():
        body = client._request("POST", "/api/v2/organizations", json={"name": name})
        organization = client._parse(Organization, body["data"], "organization")
        return organization.id, organization

    return _plainly(call)


def create_person(client: PipedriveClient, name: str, org_id: int | None) -> tuple[int, Person]:
    def call():
        body = client._request("POST", "/api/v2/persons", json=request_body({"name": name, "org_id": org_id}))
        person = client._parse(Person, body["data"], "person")
        return person.id, person

    return _plainly(call)


def request_body(fields: dict[str, Any]) -> dict[str, Any]:
    """The JSON body: only fields with a value; whole amounts as integers, others as floats
    (v2 refuses strings for numbers), dates as YYYY-MM-DD."""
    body = {}
    for name, value in fields.items():
        if value is None or value == "":
            continue
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        elif isinstance(value, date):
            value = value.isoformat()
        body[name] = value
    return body


def remote_deal(deal: Deal) -> RemoteDeal:
    return RemoteDeal(
        remote_id=deal.id,
        title=deal.title,
        update_time=deal.update_time,
        fields={name: getattr(deal, name) for name in DEAL_FIELDS},
        record=deal,
    )


def _deal(client: PipedriveClient, body: dict) -> Deal:
    return client._parse(Deal, body["data"], "deal")


def _plainly(call):
    try:
        return call()
    except PipedriveError as error:
        logger.warning("Pipedrive write-back call failed: %s", error.message)
        raise PipedriveError(
            plain_message(error),
            kind=error.kind,
            status_code=error.status_code,
            reset_seconds=error.reset_seconds,
            budget_exhausted=error.budget_exhausted,
            detail=error.detail,
        ) from None


def plain_message(error: PipedriveError) -> str:
    """What a user of the board is told when Pipedrive refuses or fails a write-back call."""
    if error.kind is ErrorKind.BAD_REQUEST and error.status_code == 400:
        return f"Pipedrive refused the change: {error.detail or 'it gave no reason'}."
    if error.kind is ErrorKind.AUTH:
        return (
            f"Pipedrive refused access (HTTP {error.status_code}): the connected account may not make this"
            " change, or its token is no longer valid. Ask staff to check the integration."
        )
    if error.kind is ErrorKind.NOT_FOUND:
        return "Pipedrive has no such deal any more: it was deleted or merged there."
    if error.kind is ErrorKind.RATE_LIMITED:
        if error.budget_exhausted:
            return (
                "Pipedrive's daily API budget for this company is spent. Try again after it resets (usually tomorrow)."
            )
        return "Pipedrive is limiting requests right now (too many in a short time). Try again in a minute."
    if error.kind is ErrorKind.TRANSIENT:
        return (
            "Pipedrive did not answer in time or failed. The change may or may not have been made there:"
            " reload the deal to see its state before trying again."
        )
    if error.kind is ErrorKind.BAD_RESPONSE:
        return "Pipedrive's answer could not be read. Reload the deal to see whether the change was made."
    return f"Pipedrive refused the change (HTTP {error.status_code})."
