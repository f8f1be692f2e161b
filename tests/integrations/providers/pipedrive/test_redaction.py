"""redact() catches the token as a server or a library might echo it back, changed."""

import base64
from urllib.parse import quote

import pytest

from integrations.redaction import REDACTED, redact

TOKEN = "tok-REDACT-8a7b6c5d4e3f"


@pytest.mark.parametrize(
    "echoed",
    [
        TOKEN,
        TOKEN.upper(),
        TOKEN.lower(),
        quote(TOKEN, safe=""),
        quote("/" + TOKEN + " x", safe=""),
        base64.b64encode(TOKEN.encode()).decode(),
        base64.b64encode(b"user:" + TOKEN.encode()).decode(),  # a Basic auth header
        base64.b64encode(b"ab" + TOKEN.encode() + b"!").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe" + TOKEN.encode() + b"\xff").decode(),
    ],
)
def test_changed_forms_of_the_token_are_redacted(echoed):
    text = redact(f"Server said: {echoed} (end)", TOKEN)
    assert REDACTED in text
    assert echoed not in text
    assert TOKEN.lower() not in text.lower()


def test_other_text_is_kept():
    assert redact("nothing secret here", TOKEN) == "nothing secret here"
    assert redact("", TOKEN) == ""
    assert redact("x", "") == "x"
