"""Fit a record's values to their columns, the same way on SQLite and PostgreSQL.

Pipedrive sends what its users typed and its own bugs: NUL bytes (PostgreSQL stores none, in
text or jsonb), NaN and Infinity (jsonb refuses them), a probability of -1 or 40000, an order_nr
of 2**40, a deal value of 1e16 in a DECIMAL(18, 2). One rule for every column, read from the
model's fields:

- text: NUL bytes removed, cut to the column's length;
- JSON (and the raw payload): NUL bytes removed from every string and key, non-finite numbers
  stored as their text ("NaN", "Infinity");
- an integer or decimal outside the column's range, or not a number at all: null when the
  column allows it, else clamped (integers) or 0 (money: a clamped 10**16 would swamp the board's
  totals). Such a value is *out of range*: the record's stored payload lists the columns under
  OUT_OF_RANGE_KEY, and the run counts them.

A record whose remote id does not fit is not stored at all (the caller skips and reports it).
"""

import math
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

from integrations.sync.fingerprint import canonical_json

# In a record's stored payload (`raw`): the columns whose value did not fit, e.g. ["value"].
# Not underscored, so templates can read it: {{ deal.raw.dealflow_out_of_range }}.
OUT_OF_RANGE_KEY = "dealflow_out_of_range"
NUL = "\x00"
# Set by the sync (not from Pipedrive's payload), so never fitted here.
OWN_COLUMNS = frozenset({"integration_id", "remote_id", "fingerprint", "raw", "synced_at"})
# The ranges PostgreSQL enforces; SQLite enforces only the sign of the positive ones, but the
# cache must be the same on both.
INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges

OUT_OF_RANGE = object()  # what a fit returns for a value that does not fit


def clean_json(value: Any) -> Any:
    """A JSON value that both databases store: no NULs in strings or keys, no NaN or Infinity."""
    if isinstance(value, str):
        return value.replace(NUL, "")
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {clean_json(str(key)): clean_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(item) for item in value]
    return value


def storable_json(payload: dict, *, non_finite_marked: bool = False) -> str:
    """`payload` as canonical JSON text that both databases store.

    `non_finite_marked`: its NaN and Infinity are NonFinite (fingerprint.py), as in every answer
    the Pipedrive client decodes. Any other payload (a webhook's) is walked first, since a plain
    NaN would be written as null.
    """
    if not non_finite_marked:
        return canonical_json(clean_json(payload))
    text = canonical_json(payload)
    # A NUL is written as \\u0000, and a marked non-finite float (by the json module) as bare
    # NaN/Infinity: only a payload that shows one of those is walked and encoded again (rare).
    if "\\u0000" in text or "NaN" in text or "Infinity" in text:
        return canonical_json(clean_json(payload))
    return text


def fits_remote_id(remote_id: int) -> bool:
    low, high = INTEGER_RANGES["BigIntegerField"]
    return low <= remote_id <= high


def fit_row(model: type[models.Model], row: dict) -> tuple[dict, list[str]]:
    """`row` (keyed by attname) with every value fitted to its column, and the attnames whose
    values were out of range."""
    fits = _fits(model)
    out_of_range = []
    for attname, value in row.items():
        if attname not in fits:
            continue
        field, fit = fits[attname]
        fitted = fit(value)
        if fitted is OUT_OF_RANGE:
            fitted = None if field.null else _fallback(field, value)
            out_of_range.append(attname)
        row[attname] = fitted
    return row, out_of_range


def _fallback(field: models.Field, value: Any) -> Any:
    """The value for a non-null column whose value is out of range."""
    if isinstance(field, models.DecimalField) or not isinstance(value, int):
        return field.get_default()
    low, high = INTEGER_RANGES[field.get_internal_type()]
    return min(max(value, low), high)


@cache
def _fits(model: type[models.Model]) -> dict[str, tuple[models.Field, Callable[[Any], Any]]]:
    fits = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in OWN_COLUMNS:
            continue
        fit = _fit_for(field)
        if fit is not None:
            fits[field.attname] = (field, fit)
    return fits


def _fit_for(field: models.Field) -> Callable[[Any], Any] | None:
    if isinstance(field, models.JSONField):
        return clean_json
    if isinstance(field, models.CharField | models.TextField):
        return lambda value: _text(value, field.max_length)
    if isinstance(field, models.DecimalField):
        return lambda value: _decimal(value, field.max_digits, field.decimal_places)
    internal = field.get_internal_type()
    if isinstance(field, models.IntegerField) or internal in INTEGER_RANGES:
        low, high = INTEGER_RANGES.get(internal, INTEGER_RANGES["BigIntegerField"])
        return lambda value: _integer(value, low, high)
    return None


def _text(value: Any, max_length: int | None) -> str:
    text = "" if value is None else str(value)
    if NUL in text:
        text = text.replace(NUL, "")
    return text[:max_length] if max_length else text


def _integer(value: Any, low: int, high: int) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return OUT_OF_RANGE
    return value


def _decimal(value: Any, max_digits: int, decimal_places: int) -> Any:
    if value is None:
        return None
    try:
        number = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value))
        if not number.is_finite() or number.adjusted() >= max_digits - decimal_places:
            return OUT_OF_RANGE
        number = number.quantize(Decimal(1).scaleb(-decimal_places), rounding=ROUND_HALF_EVEN)
    except (InvalidOperation, ValueError, TypeError):
        return OUT_OF_RANGE
    # Rounding can carry into one more digit (9999999999999999.999 -> 10000000000000000.00).
    return number if number.adjusted() < max_digits - decimal_places else OUT_OF_RANGE
