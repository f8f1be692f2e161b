"""A record's API payload as canonical JSON text, and a short digest of it.

The same text is both fingerprinted and stored in the `raw` column, so each payload is encoded
once per sync. Equal digests mean nothing changed upstream.
"""

import hashlib
import json

# Bump when the way records are stored changes, so the next sync rewrites every row once.
STORAGE_VERSION = b"1"


# One encoder for every record: json.dumps with options would build a new one per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(raw: dict) -> str:
    return _ENCODER.encode(raw)


def fingerprint_of(text: str, *, salt: bytes = b"") -> str:
    return hashlib.blake2b(STORAGE_VERSION + salt + text.encode(), digest_size=16).hexdigest()
