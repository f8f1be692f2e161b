"""The canonical JSON of a record's payload (sync/fingerprint.py, clean.storable_json): written by
orjson, and the json module's very text (so the fingerprints a cache holds stay valid: no storage
version bump, no rewrite of every row)."""

import json

import httpx

from integrations.providers.pipedrive import responses
from integrations.sync.clean import storable_json
from integrations.sync.fingerprint import NonFinite, canonical_json

OLD = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def decoded(text: str) -> dict:
    response = httpx.Response(200, content=text.encode(), headers={"content-type": "application/json"})
    return responses.payload(response, "GET /api/v2/deals", lambda text: text)


def test_an_ascii_payload_keeps_the_json_modules_text():
    payload = {"z": [1, 2.5, None, True], "a": {"k": "v", "b": -3}, "id": 7, "title": 'Deal "x"'}
    assert canonical_json(payload) == OLD.encode(payload)


def test_non_ascii_text_is_escaped_as_the_json_module_does():
    """SQLite's JSON paths (as Django writes them: custom_fields__Källa) match escaped keys only."""
    payload = {"Källa": "Ünïcode ✓ 😀 \x7f \u2028", "n": [1, {"ö": None}]}
    assert canonical_json(payload) == OLD.encode(payload)
    assert canonical_json(payload).isascii() and json.loads(canonical_json(payload)) == payload


def test_the_client_marks_nan_and_infinity_and_they_are_stored_as_text():
    body = decoded('{"success":true,"data":[{"id":1,"value":NaN,"cf":{"a":-Infinity}}]}')
    record = body["data"][0]
    assert isinstance(record["value"], NonFinite) and isinstance(record["cf"]["a"], NonFinite)
    text = storable_json(record, non_finite_marked=True)
    assert json.loads(text) == {"id": 1, "value": "nan", "cf": {"a": "-inf"}}


def test_an_unmarked_nan_is_never_written_as_null():
    assert json.loads(storable_json({"value": float("nan"), "x": [float("inf")]})) == {"value": "nan", "x": ["inf"]}


def test_an_integer_past_64_bits_is_kept_exactly():
    body = decoded('{"success":true,"data":[{"id":1,"owner_id":123456789012345678901234567890}]}')
    text = storable_json(body["data"][0], non_finite_marked=True)
    assert json.loads(text)["owner_id"] == 123456789012345678901234567890


def test_nul_characters_are_removed():
    assert json.loads(storable_json({"t\x00": "a\x00b"}, non_finite_marked=True)) == {"t": "ab"}
