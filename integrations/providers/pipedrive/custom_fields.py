"""Deal custom fields by name, with option ids turned into their labels (from /dealFields)."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from integrations.providers.base import PageInfo

from .client import PipedriveClient


@dataclass(frozen=True)
class CustomFields:
    names: dict[str, str]  # field hash -> name
    labels: dict[str, dict[str, str]]  # field hash -> option id (as text) -> label

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
    fields = [field for field in client.iter_deal_fields(on_page=on_page) if field.is_custom_field]
    return CustomFields(
        names={field.key: field.name for field in fields},
        labels={
            field.key: {str(option_id): label for option_id, label in field.options}
            for field in fields
            if field.options
        },
    )


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
