"""has_long_number (responses.py) finds 20 digits in a row exactly where the regular expression
\\d{20} does: such answers are decoded by json, which reads an integer past 64 bits exactly."""

from __future__ import annotations

import random
import re

import pytest

from integrations.providers.pipedrive.responses import has_long_number

PATTERN = re.compile(rb"\d{20}")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"id":18446744073709551615}',  # 20 digits: the largest unsigned 64-bit integer
        b'{"id":1844674407370955161}',  # 19
        b'{"value":123456789012345678901234}',
        b'{"update_time":"2026-01-01T10:00:00Z","id":12345}',
        b'{"phone":"+46 70 123 45 67 890 123 456 78"}',
        b"\xd9\xa0" * 30,  # Arabic-Indic digits are not ASCII digits
        "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩٠".encode(),
        b"0" * 19 + b"." + b"0" * 19,
        b"x" + b"9" * 20 + b"x",
    ],
)
def test_it_agrees_with_the_regular_expression(content):
    assert has_long_number(content) == bool(PATTERN.search(content))


def test_it_agrees_on_random_answers():
    chooser = random.Random(14)
    alphabet = b'0123456789012345678901234567890123456789{}[]":,.-eE tn'
    for _ in range(2_000):
        content = bytes(chooser.choice(alphabet) for _ in range(chooser.randint(0, 120)))
        assert has_long_number(content) == bool(PATTERN.search(content)), content
