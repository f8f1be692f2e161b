"""A record's API payload as canonical JSON text, and a short digest of it.

The same text is both fingerprinted and stored in the `raw` column, so each payload is encoded
once per sync. Equal digests mean nothing changed upstream.

The text is the json module's (sorted keys, no spaces, non-ASCII as \\u escapes, which SQLite's
JSON paths, as Django writes them, match keys against), written by orjson: about ten times faster,
and the json module's encoding was a fifth of the sync's per-record work. orjson writes UTF-8, so
its text is escaped to ASCII after (`ascii_json`). orjson writes NaN and Infinity as null, so a payload
must come with its non-finite floats marked (NonFinite: what the Pipedrive client decodes them
as) or be cleaned first (clean.storable_json); orjson refuses a NonFinite, and an integer past
64 bits, and those payloads take the json module, which writes them as they are.
"""

import codecs
import hashlib
import json

import orjson

# Bump when the way records are stored changes, so the next sync rewrites every row once. Not
# bumped for orjson: its text is the json module's but for a few float spellings (1e-7 for
# 1e-07), and a digest is of the very text stored, so such a payload is rewritten once anyway.
STORAGE_VERSION = b"1"


class NonFinite(float):
    """NaN or ±Infinity as decoded from an answer: a float like any other, but one orjson refuses
    (it serializes no float subclass), so the canonical encoding cannot turn it into null."""


def non_finite(constant: str) -> NonFinite:
    """json.loads(parse_constant=...): the marked float for 'NaN', 'Infinity' or '-Infinity'."""
    return NonFinite(constant)


# For what orjson refuses. One encoder for every record: json.dumps with options would build a new
# one per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(raw: dict) -> str:
    try:
        return ascii_json(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS))
    except TypeError:  # a NonFinite, an integer past 64 bits, a value JSON lacks
        return _ENCODER.encode(raw)


def ascii_json(text: bytes) -> str:
    """orjson's UTF-8 `text` as the json module writes it: non-ASCII characters and DEL as
    \\u escapes (surrogate pairs past U+FFFF)."""
    if not text.isascii():
        text = text.decode().encode("ascii", _ESCAPES)
    return text.decode().replace("\x7f", "\\u007f") if b"\x7f" in text else text.decode()


def _json_escapes(error: UnicodeEncodeError) -> tuple[str, int]:
    escaped = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            escaped.append(f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}")
        else:
            escaped.append(f"\\u{code:04x}")
    return "".join(escaped), error.end


_ESCAPES = "dealflow-json-escapes"
codecs.register_error(_ESCAPES, _json_escapes)


def fingerprint_of(text: str, *, salt: bytes = b"") -> str:
    return hashlib.blake2b(STORAGE_VERSION + salt + text.encode(), digest_size=16).hexdigest()
