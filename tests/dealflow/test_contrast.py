"""Form controls' borders have at least 3:1 contrast with their background (WCAG 1.4.11; issue 9,
item 18), read from the stylesheet the pages use."""

import re
from pathlib import Path

CSS = (Path(__file__).resolve().parents[2] / "static" / "dealflow" / "board.css").read_text()


def variable(name: str) -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS).group(1)


def luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    lighter, darker = sorted((luminance(a), luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_form_control_borders_have_3_to_1_contrast():
    assert contrast(variable("field-border"), variable("surface")) >= 3
    assert contrast(variable("field-border"), variable("bg")) >= 3
    # Inputs, selects and buttons draw their border with it.
    for selector in ("input, select {", ".button {", ".column-tab {"):
        rule = CSS[CSS.index(selector) :]
        rule = rule[: rule.index("}")]
        assert "var(--field-border)" in rule, selector
