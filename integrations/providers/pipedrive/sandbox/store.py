"""The sandbox's mutable in-memory Pipedrive account and its Python mutation API.

Records are kept in their v2 API shape (plain dicts), except deals, which can number 100,000 and
live in slotted rows rendered to dicts on the way out. Every mutation stamps ``update_time`` from
a clock that never repeats or goes back, so ``updated_since`` always finds what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DEAL_STATUSES = ("open", "won", "lost", "deleted")

DEAL_FIELDS = (
    "id",
    "title",
    "owner_id",
    "person_id",
    "org_id",
    "pipeline_id",
    "stage_id",
    "value",
    "currency",
    "add_time",
    "update_time",
    "stage_change_time",
    "is_deleted",
    "is_archived",
    "status",
    "probability",
    "lost_reason",
    "close_time",
    "won_time",
    "lost_time",
    "expected_close_date",
    "label_ids",
    "custom_fields",
)
# Fields the v2 schema lists that the sandbox never varies.
DEAL_CONSTANTS = {
    "visible_to": 3,
    "origin": "ManuallyCreated",
    "origin_id": None,
    "channel": None,
    "channel_id": None,
    "source_lead_id": None,
    "arr": None,
    "mrr": None,
    "acv": None,
}
EDITABLE_DEAL_FIELDS = frozenset(DEAL_FIELDS) - {"id", "add_time", "update_time"}

# An activity's fields the sandbox sets; the rest of the v2 shape is ACTIVITY_CONSTANTS.
EDITABLE_ACTIVITY_FIELDS = frozenset(
    {"subject", "type", "owner_id", "deal_id", "person_id", "org_id", "due_date", "due_time", "done"}
)
ACTIVITY_CONSTANTS = {
    "lead_id": None,
    "project_id": None,
    "duration": None,
    "busy": False,
    "location": None,
    "participants": [],
    "attendees": [],
    "conference_meeting_client": None,
    "conference_meeting_url": None,
    "conference_meeting_id": None,
    "public_description": None,
    "priority": None,
    "note": None,
}


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


_deal_values = attrgetter(*DEAL_FIELDS)  # one C call for every field (a page renders 500 deals)


class DealRow:
    __slots__ = DEAL_FIELDS

    def __init__(self, **fields: Any) -> None:
        for name in DEAL_FIELDS:
            setattr(self, name, fields.get(name))

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def to_api(self) -> dict:
        data = dict(zip(DEAL_FIELDS, _deal_values(self), strict=True))
        data["label_ids"] = list(self.label_ids or ())
        # Copied when it is an object; sent as is otherwise (tests set hostile shapes).
        custom = self.custom_fields or {}
        data["custom_fields"] = dict(custom) if isinstance(custom, dict) else custom
        return {**data, **DEAL_CONSTANTS}


class Store:
    def __init__(
        self,
        *,
        company: dict,
        currency: str,
        last_stamp: datetime,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.company = company
        self.currency = currency
        self.users: dict[int, dict] = {}
        self.pipelines: dict[int, dict] = {}
        self.stages: dict[int, dict] = {}
        self.organizations: dict[int, dict] = {}
        self.persons: dict[int, dict] = {}
        self.deal_fields: dict[str, dict] = {}
        self.deals: dict[int, DealRow] = {}
        self.activities: dict[int, dict] = {}
        self.version = 0
        # Called after every change as listener(object, action, current, previous): webhook delivery.
        self.listeners: list[Callable[[str, str, dict, dict | None], None]] = []
        self._last_stamp = last_stamp
        self._wall_clock = wall_clock

    # -- clock ----------------------------------------------------------------------------

    def stamp(self) -> str:
        """A fresh update_time: now, or one second after the previous stamp if that is later."""
        now = self._wall_clock().astimezone(UTC).replace(microsecond=0)
        self._last_stamp = max(now, self._last_stamp + timedelta(seconds=1))
        self.version += 1
        return format_time(self._last_stamp)

    def _changed(self, obj: str, action: str, current: dict, previous: dict | None) -> None:
        for listener in self.listeners:
            listener(obj, action, current, previous)

    # -- reads ----------------------------------------------------------------------------

    def deal(self, deal_id: int) -> dict:
        return self._deal_row(deal_id).to_api()

    def deals_list(self) -> list[dict]:
        return [row.to_api() for row in self.deals.values()]

    def _deal_row(self, deal_id: int) -> DealRow:
        try:
            return self.deals[int(deal_id)]
        except KeyError:
            raise LookupError(f"deal {deal_id} does not exist") from None

    def _stage(self, stage_id: int) -> dict:
        try:
            return self.stages[int(stage_id)]
        except KeyError:
            raise LookupError(f"stage {stage_id} does not exist") from None

    # -- deal mutations -------------------------------------------------------------------

    def add_deal(self, **fields: Any) -> dict:
        """Create a deal; defaults to the first stage of the first pipeline, owned by user 1."""
        unknown = set(fields) - EDITABLE_DEAL_FIELDS
        if unknown:
            raise ValueError(f"unknown deal fields: {', '.join(sorted(unknown))}")
        if not fields.get("title"):
            raise ValueError("title is required")
        stage = self._stage(fields.get("stage_id") or self._first_stage_id(fields.get("pipeline_id")))
        now = self.stamp()
        defaults = {
            "id": max(self.deals, default=0) + 1,
            "owner_id": min(self.users, default=None),
            "value": 0,
            "currency": self.currency,
            "status": "open",
            "is_archived": False,
            "label_ids": [],
            "custom_fields": {},
        }
        row = DealRow(**{**defaults, **fields})
        row.stage_id, row.pipeline_id = stage["id"], stage["pipeline_id"]
        row.add_time = row.update_time = row.stage_change_time = now
        self.deals[row.id] = row
        self._apply_status(row, row.status, now)
        self._changed("deal", "create", row.to_api(), None)
        return row.to_api()

    def update_deal(self, deal_id: int, **fields: Any) -> dict:
        """Change deal fields the way Pipedrive does: a new stage moves the deal to that stage's
        pipeline and stamps stage_change_time; a new status stamps won/lost/close times."""
        unknown = set(fields) - EDITABLE_DEAL_FIELDS
        if unknown:
            raise ValueError(f"unknown deal fields: {', '.join(sorted(unknown))}")
        row = self._deal_row(deal_id)
        before = row.to_api()
        now = self.stamp()
        status = fields.pop("status", None)
        stage_id = fields.pop("stage_id", None)
        for name, value in fields.items():
            setattr(row, name, value)
        if stage_id is not None and int(stage_id) != row.stage_id:
            stage = self._stage(stage_id)
            row.stage_id, row.pipeline_id = stage["id"], stage["pipeline_id"]
            row.stage_change_time = now
        if status is not None and status != row.status:
            self._apply_status(row, status, now)
        row.update_time = now
        action = "delete" if row.is_deleted and not before["is_deleted"] else "change"
        self._changed("deal", action, row.to_api(), before)
        return row.to_api()

    def move_deal(self, deal_id: int, stage_id: int) -> dict:
        return self.update_deal(deal_id, stage_id=stage_id)

    def win_deal(self, deal_id: int) -> dict:
        return self.update_deal(deal_id, status="won")

    def lose_deal(self, deal_id: int, reason: str = "") -> dict:
        return self.update_deal(deal_id, status="lost", lost_reason=reason or None)

    def reopen_deal(self, deal_id: int) -> dict:
        return self.update_deal(deal_id, status="open")

    def delete_deal(self, deal_id: int) -> dict:
        return self.update_deal(deal_id, status="deleted")

    def archive_deal(self, deal_id: int) -> dict:
        return self.update_deal(deal_id, is_archived=True)

    def purge_deal(self, deal_id: int) -> None:
        """Remove a deal for good, as Pipedrive does 30 days after deletion."""
        self._deal_row(deal_id)
        del self.deals[int(deal_id)]
        self.version += 1

    def _apply_status(self, row: DealRow, status: str, now: str) -> None:
        if status not in DEAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(DEAL_STATUSES)}")
        row.status = status
        row.is_deleted = status == "deleted"
        if status == "deleted":
            return
        row.won_time = now if status == "won" else None
        row.lost_time = now if status == "lost" else None
        row.close_time = now if status in ("won", "lost") else None
        if status != "lost":
            row.lost_reason = None

    # -- activity mutations ---------------------------------------------------------------

    def add_activity(self, **fields: Any) -> dict:
        """Create an activity (undone, owned by user 1, due today unless given)."""
        unknown = set(fields) - EDITABLE_ACTIVITY_FIELDS
        if unknown:
            raise ValueError(f"unknown activity fields: {', '.join(sorted(unknown))}")
        now = self.stamp()
        activity = {
            **ACTIVITY_CONSTANTS,
            "id": max(self.activities, default=0) + 1,
            "subject": "Call",
            "type": "call",
            "owner_id": min(self.users, default=None),
            "creator_user_id": min(self.users, default=None),
            "deal_id": None,
            "person_id": None,
            "org_id": None,
            "due_date": now[:10],
            "due_time": None,
            "done": False,
            "marked_as_done_time": None,
            "is_deleted": False,
            "add_time": now,
            "update_time": now,
            **fields,
        }
        if activity["done"]:
            activity["marked_as_done_time"] = now
        self.activities[activity["id"]] = activity
        return dict(activity)

    def update_activity(self, activity_id: int, **fields: Any) -> dict:
        """Change an activity; marking it done stamps marked_as_done_time, undone clears it."""
        unknown = set(fields) - EDITABLE_ACTIVITY_FIELDS
        if unknown:
            raise ValueError(f"unknown activity fields: {', '.join(sorted(unknown))}")
        activity = self._activity(activity_id)
        now = self.stamp()
        if "done" in fields and bool(fields["done"]) != activity["done"]:
            activity["marked_as_done_time"] = now if fields["done"] else None
        activity.update(fields, update_time=now)
        return dict(activity)

    def delete_activity(self, activity_id: int) -> dict:
        """Mark an activity deleted, as Pipedrive does (listings leave it out from then on)."""
        activity = self._activity(activity_id)
        activity.update(is_deleted=True, update_time=self.stamp())
        return dict(activity)

    def _activity(self, activity_id: int) -> dict:
        try:
            return self.activities[int(activity_id)]
        except KeyError:
            raise LookupError(f"activity {activity_id} does not exist") from None

    # -- contact mutations ----------------------------------------------------------------

    def add_organization(self, name: str) -> dict:
        now = self.stamp()
        org = {
            "id": max(self.organizations, default=0) + 1,
            "name": name,
            "owner_id": min(self.users, default=None),
            "add_time": now,
            "update_time": now,
            "is_deleted": False,
            "visible_to": 3,
            "address": None,
            "label_ids": [],
            "custom_fields": {},
        }
        self.organizations[org["id"]] = org
        self._changed("organization", "create", dict(org), None)
        return dict(org)

    def add_person(self, name: str, org_id: int | None = None) -> dict:
        now = self.stamp()
        person = {
            "id": max(self.persons, default=0) + 1,
            "name": name,
            "owner_id": min(self.users, default=None),
            "org_id": org_id,
            "add_time": now,
            "update_time": now,
            "emails": [],
            "phones": [],
            "is_deleted": False,
            "visible_to": 3,
            "label_ids": [],
            "custom_fields": {},
        }
        self.persons[person["id"]] = person
        self._changed("person", "create", dict(person), None)
        return dict(person)

    # -- stage mutations ------------------------------------------------------------------

    def add_stage(
        self,
        pipeline_id: int,
        name: str,
        *,
        deal_probability: int = 100,
        is_deal_rot_enabled: bool = False,
        days_to_rotten: int | None = None,
    ) -> dict:
        if int(pipeline_id) not in self.pipelines:
            raise LookupError(f"pipeline {pipeline_id} does not exist")
        now = self.stamp()
        order = [s["order_nr"] for s in self.stages.values() if s["pipeline_id"] == int(pipeline_id)]
        stage = {
            "id": max(self.stages, default=0) + 1,
            "order_nr": max(order, default=0) + 1,
            "name": name,
            "is_deleted": False,
            "deal_probability": deal_probability,
            "pipeline_id": int(pipeline_id),
            "is_deal_rot_enabled": is_deal_rot_enabled,
            "days_to_rotten": days_to_rotten,
            "add_time": now,
            "update_time": now,
        }
        self.stages[stage["id"]] = stage
        self._changed("stage", "create", dict(stage), None)
        return dict(stage)

    def rename_stage(self, stage_id: int, name: str) -> dict:
        stage = self._stage(stage_id)
        before = dict(stage)
        stage["name"] = name
        stage["update_time"] = self.stamp()
        self._changed("stage", "change", dict(stage), before)
        return dict(stage)

    def rename_deal_field(self, field_code: str, name: str) -> dict:
        field = self.deal_fields[field_code]
        field["field_name"] = name
        return dict(field)

    def delete_stage(self, stage_id: int) -> dict:
        stage = self._stage(stage_id)
        before = dict(stage)
        stage["is_deleted"] = True
        stage["update_time"] = self.stamp()
        self._changed("stage", "delete", dict(stage), before)
        return dict(stage)

    def _first_stage_id(self, pipeline_id: int | None) -> int:
        candidates = [
            s
            for s in self.stages.values()
            if not s["is_deleted"] and (pipeline_id is None or s["pipeline_id"] == int(pipeline_id))
        ]
        if not candidates:
            raise LookupError("no stage to put the deal in")
        first = min(candidates, key=lambda s: (self.pipelines[s["pipeline_id"]]["order_nr"], s["order_nr"]))
        return first["id"]


# The Store methods tests and the /_sandbox/ HTTP endpoints may call.
MUTATIONS = (
    "add_deal",
    "update_deal",
    "move_deal",
    "win_deal",
    "lose_deal",
    "reopen_deal",
    "delete_deal",
    "archive_deal",
    "purge_deal",
    "add_organization",
    "add_person",
    "add_stage",
    "rename_stage",
    "delete_stage",
    "rename_deal_field",
    "add_activity",
    "update_activity",
    "delete_activity",
)
