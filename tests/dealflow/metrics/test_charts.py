"""Charts are SVG data URIs whose axis says something true even when every value is zero."""

import base64
import re

from dealflow.metrics.charts import render


def y_labels(uri: str) -> list[str]:
    svg = base64.b64decode(uri.split(",", 1)[1]).decode("utf-8")
    axis = re.search(r'<g class="axis y[^"]*">(.*?)</g></g>', svg, re.S)
    return re.findall(r"<text[^>]*>([^<]*)</text>", axis.group(1))


def test_an_all_zero_chart_has_a_plain_axis_not_repeated_ones():
    labels = y_labels(render("bar", ("2026-11", "2026-12"), (("Weighted", (0, 0)),), "en"))
    assert labels and len(labels) == len(set(labels)), labels
    assert labels[0] == "0"


def test_a_chart_with_values_scales_to_them():
    labels = y_labels(render("bar", ("2026-11", "2026-12"), (("Weighted", (0, 300_000)),), "en"))
    assert "300,000" in labels
