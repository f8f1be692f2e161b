"""Charts as SVG drawn on the server by pygal (no script, no CDN), embedded as data: images (the
Content-Security-Policy allows data: images and no inline style; an SVG shown as an image keeps its
own styles and never runs script). Every chart is shown beside a data table and a CSV link."""

import base64
from dataclasses import dataclass
from functools import lru_cache

import pygal
from django.utils.translation import get_language
from pygal.style import Style

from dealflow.formatting import format_number

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b1f27",
    foreground_strong="#1b1f27",
    foreground_subtle="#5a6272",
    colors=("#2f5bd3", "#1e7a46", "#c98a00", "#b3261e", "#6b4fbb", "#0f7c8c", "#9aa1ad"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    title_font_size=14,
)


@lru_cache(maxsize=128)
def render(kind: str, labels: tuple, series: tuple, language: str) -> str:
    """An SVG chart as a data: URI. Cached by its data (and the language its numbers are written
    in): pygal takes 40 ms for a 24-bar chart, and the same figures are asked for again and again."""
    chart_class = {"bar": pygal.Bar, "stacked": pygal.StackedBar, "line": pygal.Line}[kind]
    chart = chart_class(
        style=STYLE,
        js=[],  # no script: pygal's tooltips load JavaScript from a CDN
        disable_xml_declaration=True,
        width=800,
        height=320,
        show_legend=len(series) > 1,
        legend_at_bottom=True,
        x_label_rotation=35 if len(labels) > 8 else 0,
        value_formatter=lambda value: format_number(value, language),
        show_minor_x_labels=len(labels) <= 12,
        x_labels_major_count=12,
        margin=12,
        # All zero (or empty): pygal would scale 0..1 and write every tick as "0" or "1".
        range=None if any(value for _, values in series for value in values) else (0, 10),
    )
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, list(values))
    svg = chart.render(is_unicode=True).encode("utf-8")
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


@dataclass(frozen=True)
class Chart:
    """A chart's image and the data it shows (the table beside it, and its CSV)."""

    key: str  # also the CSV's table name
    title: str
    labels: list[str]
    series: dict[str, list]  # series name -> one value per label (None: no value)
    kind: str = "bar"  # bar, stacked, line

    @property
    def image(self) -> str:
        """The chart as a data: URI."""
        series = tuple(
            (name, tuple(None if value is None else float(value) for value in values))
            for name, values in self.series.items()
        )
        return render(self.kind, tuple(self.labels), series, get_language() or "")

    @property
    def rows(self) -> list[list]:
        """The table: one row per label, a value per series."""
        return [[label, *(values[index] for values in self.series.values())] for index, label in enumerate(self.labels)]
