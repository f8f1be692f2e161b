"""A record's API payload as canonical JSON text, and a short digest of it.

The same text is both fingerprinted and stored in the `raw` column, so each payload is encoded
once per sync. Equal digests mean nothing changed upstream.

The text is orjson's (sorted keys, UTF-8): about ten times faster than the json module, which
was a fifth of the sync's per-record work. orjson writes NaN and Infinity as null, so a payload
must come with its non-finite floats marked (NonFinite: what the Pipedrive client decodes them
as) or be cleaned first (clean.storable_json); orjson refuses a NonFinite, and an integer past
64 bits, and those payloads take the json module, which writes them as they are.
"""

import hashlib
import json

import orjson

# Bump when the way records are stored changes, so the next sync rewrites every row once. Not
# bumped for orjson: a digest is of the very text stored, so a payload whose text changed (UTF-8
# rather than \u escapes, 1e-7 rather than 1e-07) is rewritten by the next sync anyway, and the
# others (same text) need not be.
STORAGE_VERSION = b"1"


class NonFinite(float):
    """NaN or ±Infinity as decoded from an answer: a float like any other, but one orjson refuses
    (it serializes no float subclass), so the canonical encoding cannot turn it into null."""


def non_finite(constant: str) -> NonFinite:
    """json.loads(parse_constant=...): the marked float for 'NaN', 'Infinity' or '-Infinity'."""
    return NonFinite(constant)


# For what orjson refuses. One encoder for every record: json.dumps with options would build a new
# one per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(raw: dict) -> str:
    try:
        return orjson.dumps(raw, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # a NonFinite, an integer past 64 bits, a value JSON lacks
        return _ENCODER.encode(raw)


def fingerprint_of(text: str, *, salt: bytes = b"") -> str:
    return hashlib.blake2b(STORAGE_VERSION + salt + text.encode(), digest_size=16).hexdigest()
