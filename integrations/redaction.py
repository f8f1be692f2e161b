"""Keep secrets out of anything the client raises and a sync stores or logs.

A server (or a library) may echo the token changed: upper-cased, URL-encoded, or base64-encoded
inside a longer string (a Basic auth header, a signed blob). Each of those forms is redacted too.
"""

import base64
import re
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
# Shorter base64 fragments would match ordinary text by chance.
MIN_BASE64_FRAGMENT = 8


def redact(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = _pattern(secret).sub(REDACTED, text)
    return text


def _pattern(secret: str) -> re.Pattern:
    plain = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}
    encoded = _base64_fragments(secret.encode("utf-8"))
    alternatives = [f"(?i:{re.escape(form)})" for form in sorted(plain, key=len, reverse=True)]
    alternatives += [re.escape(form) for form in sorted(encoded, key=len, reverse=True)]
    return re.compile("|".join(alternatives))


def _base64_fragments(secret: bytes) -> set[str]:
    """The part of the base64 text that depends on the secret alone, for each of the three
    alignments the secret can have inside a longer encoded string (standard and URL-safe)."""
    fragments = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret).decode()
        start = (offset * 4 + 2) // 3  # characters that also carry bits of what came before
        end = (offset + len(secret)) // 3 * 4  # a partial last group depends on what follows
        fragment = encoded[start:end]
        if len(fragment) >= MIN_BASE64_FRAGMENT:
            fragments |= {fragment, fragment.replace("+", "-").replace("/", "_")}
    return fragments
