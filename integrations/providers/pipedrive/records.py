"""Typed, immutable views of Pipedrive API records, parsed from v2 (and v1 users) JSON.

Each record keeps the original JSON object in ``raw`` so callers can store the payload as sent.
A missing or non-integer ``id`` raises ``KeyError``/``TypeError``/``ValueError``; the client turns
those into a BAD_RESPONSE error. Every other field is read leniently, because one odd record must
not fail a whole sync: a number that is not one becomes None (or NaN for a deal's value, so the
sync can flag it), a date that does not parse None, an object where text belongs its JSON text,
and a label id that is not an integer is dropped. Fitting values to database columns (ranges,
lengths, NUL bytes) is the sync's job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any


def parse_datetime(value: Any) -> datetime | None:
    """RFC 3339 ('2026-01-02T03:04:05Z', v2) or 'YYYY-MM-DD HH:MM:SS' (v1, UTC) -> aware UTC."""
    if value in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(value).replace(" ", "T", 1))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return date.fromisoformat(str(value)[:10])


def _lenient(parse):
    """`parse`, answering None for a value it cannot read ('2026-02-30', an object)."""

    def read(value: Any):
        try:
            return parse(value)
        except (TypeError, ValueError, OverflowError):
            return None

    return read


_datetime = _lenient(parse_datetime)
_date = _lenient(parse_date)
_time = _lenient(lambda value: None if value in (None, "") else time.fromisoformat(str(value)))
# More digits than any integer column holds: not read at all (int() of 1e999999 would not end).
_MAX_INT_DIGITS = 30


def _optional_int(value: Any) -> int | None:
    """An integer, or None for anything else: "x", 1.5, NaN, true, an object."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = _number(value)
    if not number.is_finite() or number != number.to_integral_value() or number.adjusted() > _MAX_INT_DIGITS:
        return None
    return int(number)


def _number(value: Any) -> Decimal:
    """A Decimal, NaN when `value` is not a number (text, an object, true)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return Decimal("NaN")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return Decimal("NaN")


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value is None else _number(value)


def _text(value: Any) -> str:
    """Text as sent; an object or a list as its JSON; nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _int_list(values: Any) -> tuple[int, ...]:
    items = values if isinstance(values, list) else ()
    return tuple(number for number in map(_optional_int, items) if number is not None)


def _contact_values(entries: Any) -> tuple[str, ...]:
    """v2 emails/phones are lists of {value, primary, label}; keep the values, primary first."""
    items = [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    items.sort(key=lambda entry: not entry.get("primary", False))
    return tuple(_text(entry["value"]) for entry in items if entry.get("value"))


@dataclass(frozen=True, slots=True)
class Deal:
    id: int
    title: str
    owner_id: int | None
    person_id: int | None
    org_id: int | None
    pipeline_id: int | None
    stage_id: int | None
    value: Decimal
    currency: str
    status: str
    is_deleted: bool
    is_archived: bool
    probability: int | None
    lost_reason: str | None
    expected_close_date: date | None
    add_time: datetime | None
    update_time: datetime | None
    stage_change_time: datetime | None
    won_time: datetime | None
    lost_time: datetime | None
    close_time: datetime | None
    label_ids: tuple[int, ...]
    custom_fields: dict
    raw: dict

    @classmethod
    def from_api(cls, d: dict) -> Deal:
        return cls(
            id=int(d["id"]),
            title=_text(d.get("title")),
            owner_id=_optional_int(d.get("owner_id")),
            person_id=_optional_int(d.get("person_id")),
            org_id=_optional_int(d.get("org_id")),
            pipeline_id=_optional_int(d.get("pipeline_id")),
            stage_id=_optional_int(d.get("stage_id")),
            value=_decimal(d.get("value")),
            currency=_text(d.get("currency")),
            status=_text(d.get("status")),
            is_deleted=bool(d.get("is_deleted", False)),
            is_archived=bool(d.get("is_archived", False)),
            probability=_optional_int(d.get("probability")),
            lost_reason=_text(d.get("lost_reason")) or None,
            expected_close_date=_date(d.get("expected_close_date")),
            add_time=_datetime(d.get("add_time")),
            update_time=_datetime(d.get("update_time")),
            stage_change_time=_datetime(d.get("stage_change_time")),
            won_time=_datetime(d.get("won_time")),
            lost_time=_datetime(d.get("lost_time")),
            close_time=_datetime(d.get("close_time")),
            label_ids=_int_list(d.get("label_ids")),
            custom_fields=custom_fields if isinstance(custom_fields := d.get("custom_fields"), dict) else {},
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Activity:
    id: int
    subject: str
    type: str
    owner_id: int | None
    deal_id: int | None
    due_date: date | None
    due_time: time | None  # UTC, as Pipedrive keeps it
    done: bool
    marked_as_done_time: datetime | None
    is_deleted: bool
    add_time: datetime | None
    update_time: datetime | None
    raw: dict

    @classmethod
    def from_api(cls, d: dict) -> Activity:
        return cls(
            id=int(d["id"]),
            subject=_text(d.get("subject")),
            type=_text(d.get("type")),
            owner_id=_optional_int(d.get("owner_id")),
            deal_id=_optional_int(d.get("deal_id")),
            due_date=_date(d.get("due_date")),
            due_time=_time(d.get("due_time")),
            done=d.get("done") is True,
            marked_as_done_time=_datetime(d.get("marked_as_done_time")),
            is_deleted=d.get("is_deleted") is True,
            add_time=_datetime(d.get("add_time")),
            update_time=_datetime(d.get("update_time")),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Stage:
    id: int
    name: str
    pipeline_id: int | None
    order_nr: int
    deal_probability: int
    is_deal_rot_enabled: bool
    days_to_rotten: int | None
    is_deleted: bool
    update_time: datetime | None
    raw: dict

    @classmethod
    def from_api(cls, d: dict) -> Stage:
        return cls(
            id=int(d["id"]),
            name=_text(d.get("name")),
            pipeline_id=_optional_int(d.get("pipeline_id")),
            order_nr=_optional_int(d.get("order_nr")) or 0,
            deal_probability=_optional_int(d.get("deal_probability")) or 0,
            is_deal_rot_enabled=bool(d.get("is_deal_rot_enabled", False)),
            days_to_rotten=_optional_int(d.get("days_to_rotten")),
            is_deleted=bool(d.get("is_deleted", False)),
            update_time=_datetime(d.get("update_time")),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Pipeline:
    id: int
    name: str
    order_nr: int
    is_deleted: bool
    update_time: datetime | None
    raw: dict

    @classmethod
    def from_api(cls, d: dict) -> Pipeline:
        return cls(
            id=int(d["id"]),
            name=_text(d.get("name")),
            order_nr=_optional_int(d.get("order_nr")) or 0,
            is_deleted=bool(d.get("is_deleted", False)),
            update_time=_datetime(d.get("update_time")),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    org_id: int | None
    owner_id: int | None
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    is_deleted: bool
    update_time: datetime | None
    raw: dict

    @classmethod
    def from_api(cls, d: dict) -> Person:
        return cls(
            id=int(d["id"]),
            name=_text(d.get("name")),
            org_id=_optional_int(d.get("org_id")),
            owner_id=_optional_int(d.get("owner_id")),
            emails=_contact_values(d.get("emails")),
            phones=_contact_values(d.get("phones")),
            is_deleted=bool(d.get("is_deleted", False)),
            update_time=_datetime(d.get("update_time")),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Organization:
    id: int
    name: str
    owner_id: int | None
    address: str | None
    is_deleted: bool
    update_time: datetime | None
    raw: dict

    @classmethod
    def from_api(cls, d: dict) -> Organization:
        address = d.get("address")
        if isinstance(address, dict):
            address = address.get("value")
        return cls(
            id=int(d["id"]),
            name=_text(d.get("name")),
            owner_id=_optional_int(d.get("owner_id")),
            address=_text(address) or None,
            is_deleted=bool(d.get("is_deleted", False)),
            update_time=_datetime(d.get("update_time")),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str
    is_active: bool
    raw: dict

    @classmethod
    def _common(cls, d: dict) -> dict[str, Any]:
        return {
            "id": int(d["id"]),
            "name": _text(d.get("name")),
            "email": _text(d.get("email")),
            "is_active": bool(d.get("active_flag", True)),
            "raw": d,
        }

    @classmethod
    def from_api(cls, d: dict) -> User:
        return cls(**cls._common(d))


@dataclass(frozen=True, slots=True)
class CurrentUser(User):
    company_id: int | None
    company_name: str
    company_domain: str

    @classmethod
    def from_api(cls, d: dict) -> CurrentUser:
        return cls(
            **cls._common(d),
            company_id=_optional_int(d.get("company_id")),
            company_name=str(d.get("company_name") or ""),
            company_domain=str(d.get("company_domain") or ""),
        )


@dataclass(frozen=True, slots=True)
class DealField:
    """``key`` is v2's ``field_code``: a 40-character hash for custom fields, else e.g. 'title'."""

    key: str
    name: str
    field_type: str
    is_custom_field: bool
    options: tuple[tuple[int | str, str], ...]
    raw: dict

    @classmethod
    def from_api(cls, d: dict) -> DealField:
        return cls(
            key=str(d["field_code"]),
            name=str(d.get("field_name") or ""),
            field_type=str(d.get("field_type") or ""),
            is_custom_field=bool(d.get("is_custom_field", False)),
            options=tuple((option["id"], str(option.get("label") or "")) for option in d.get("options") or ()),
            raw=d,
        )
