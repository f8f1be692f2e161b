"""Deal custom fields by name, with option ids turned into their labels.

Read from /dealFields at the start of each sync, and stored (CustomFieldDefinition, written in the
sync's write transaction), so that one record (a webhook's deal) is parsed from the database alone.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dealflow.models import CustomFieldDefinition
from integrations.providers.base import PageInfo
from integrations.sync.clean import fit_row

from .client import PipedriveClient


@dataclass(frozen=True)
class Definition:
    key: str  # the field's 40-character hash
    name: str
    field_type: str
    options: tuple[tuple[int | str, str], ...]  # (option id, label)


@dataclass(frozen=True)
class CustomFields:
    names: dict[str, str]  # field hash -> name
    labels: dict[str, dict[str, str]]  # field hash -> option id (as text) -> label
    definitions: tuple[Definition, ...] = field(default=(), compare=False)  # what is stored

    @classmethod
    def of(cls, definitions: Iterable[Definition]) -> "CustomFields":
        definitions = tuple(definitions)
        return cls(
            names={field.key: field.name for field in definitions},
            labels={
                field.key: {str(option_id): label for option_id, label in field.options}
                for field in definitions
                if field.options
            },
            definitions=definitions,
        )

    def named(self, values: dict) -> dict:
        """{"b365…": 2} -> {"Källa": "Webb"}; unknown fields keep their hash, unknown options their id."""
        return {self.names.get(key, key): self._label(key, value) for key, value in values.items()}

    def _label(self, key: str, value):
        labels = self.labels.get(key)
        if not labels or value is None:
            return value
        if isinstance(value, list):  # multiple-option ("set") fields
            return [labels.get(str(item), item) for item in value]
        return labels.get(str(value), value)

    @property
    def version(self) -> bytes:
        """Changes when a field is renamed or its options change, so every deal is rewritten
        once with the new names (it is part of the deals' fingerprints)."""
        text = json.dumps([self.names, self.labels], sort_keys=True, ensure_ascii=False)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest().encode()


NO_CUSTOM_FIELDS = CustomFields(names={}, labels={})


def fetch_custom_fields(client: PipedriveClient, on_page: Callable[[PageInfo], None]) -> CustomFields:
    return CustomFields.of(
        Definition(field.key, field.name, field.field_type, field.options)
        for field in client.iter_deal_fields(on_page=on_page)
        if field.is_custom_field
    )


def stored_custom_fields(integration_id: int) -> CustomFields:
    """The definitions the last sync stored: one query, no call to Pipedrive."""
    rows = CustomFieldDefinition.objects.filter(integration_id=integration_id).order_by("key")
    return CustomFields.of(
        Definition(row.key, row.name, row.field_type, tuple(tuple(option) for option in row.options)) for row in rows
    )


def store_custom_fields(integration_id: int, custom_fields: CustomFields) -> None:
    """Make the stored definitions those of `custom_fields` (called in the sync's write transaction)."""
    wanted = {row["key"]: row for row in map(_fitted, custom_fields.definitions)}
    stored = CustomFieldDefinition.objects.filter(integration_id=integration_id)
    if {row["key"]: row for row in stored.values("key", "name", "field_type", "options")} == wanted:
        return  # a sync that changes nothing writes nothing
    stored.exclude(key__in=list(wanted)).delete()
    CustomFieldDefinition.objects.bulk_create(
        [CustomFieldDefinition(integration_id=integration_id, **row) for row in wanted.values()],
        update_conflicts=True,
        unique_fields=["integration", "key"],
        update_fields=["name", "field_type", "options"],
    )


def _fitted(definition: Definition) -> dict:
    """Fitted to the columns like every synced value (lengths, NUL bytes, non-finite numbers)."""
    row = {"name": definition.name, "field_type": definition.field_type, "options": list(definition.options)}
    return {"key": definition.key, **fit_row(CustomFieldDefinition, row)[0]}


CUSTOM_FIELDS_MARK = "custom_fields_version"
DEAL_MARKS = ("deals", "archived_deals")


def with_custom_fields_version(marks: dict, version: str) -> dict:
    """`marks` for a run whose deal custom fields are at `version`.

    Deals store custom fields by name and option label: when a field is renamed or its options
    change, every deal is fetched again (its deal marks are dropped), not only updated ones.
    """
    if marks.get(CUSTOM_FIELDS_MARK) == version:
        return marks
    kept = {key: value for key, value in marks.items() if key not in DEAL_MARKS}
    return {**kept, CUSTOM_FIELDS_MARK: version}
