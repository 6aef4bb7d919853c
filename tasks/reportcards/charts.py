"""Server-side SVG charts for the report pages: horizontal bars and trend lines.

No JavaScript and no online resource: each function returns an inline `<svg>` string
that browsers, the print stylesheet and WeasyPrint (the PDF) all draw the same way.
Series differ by dash pattern and marker shape as well as by colour, and bars are dark
enough, so the charts stay legible printed in black and white. Every label is escaped.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"
FONT_SIZE = 11
BAR_FILL = "#2b4c7e"  # about 30% luminance: a solid dark grey on a black-and-white printer
GRID = "#c8ced6"
INK = "#1f2933"
MUTED = "#5f6b7a"

# (stroke colour, dash pattern, marker): distinct in colour and in black and white.
SERIES_STYLES = [
    ("#1f2933", "", "circle"),
    ("#b4232a", "6 3", "square"),
    ("#1d5fa8", "2 3", "triangle"),
    ("#2f7d4a", "10 3 2 3", "diamond"),
]


@dataclasses.dataclass(frozen=True)
class Bar:
    """One bar: its label, value (None draws no bar), the text shown beside it, and an optional link."""

    label: str
    value: float | None
    display: str
    href: str | None = None


@dataclasses.dataclass(frozen=True)
class Series:
    """One line of a trend chart: a name for the legend and one value (or None) per step."""

    name: str
    values: list[float | None]


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Approximate drawn width: a wide (CJK) character is one em, others about 0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.6 * size for ch in text)


def fit(text: str, width: float, size: float = FONT_SIZE) -> str:
    """`text` cut with an ellipsis so that it fits in `width` pixels."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def nice_ceiling(value: float, steps: int = 4) -> tuple[float, float]:
    """(top, step): a round axis top at or above `value`, divided into at most `steps` round steps."""
    if value <= 0:
        return 1.0, 0.25 if steps >= 4 else 1.0
    raw = value / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if step * steps >= value:
            break
    if step >= 1:
        step = float(math.ceil(step))
    return step * math.ceil(value / step - 1e-9), step


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"


def _svg(width: float, height: float, title: str, body: list[str], *, kind: str, extra: str = "") -> SafeString:
    head = (
        f'<svg class="chart chart-{kind}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="{FONT}" font-size="{FONT_SIZE}" data-chart="{kind}"{extra}>'
        f"<title>{escape(title)}</title>"
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308  (every piece of text is escaped above)


def _link(href: str | None, inner: str) -> str:
    return f'<a href="{escape(href)}">{inner}</a>' if href else inner


def bar_chart(
    bars: list[Bar],
    *,
    title: str,
    width: int = 640,
    label_width: int = 130,
    bar_height: int = 16,
    gap: int = 6,
    maximum: float | None = None,
) -> SafeString:
    """Horizontal bars, one row per item, labels on the left and the value at the bar's end."""
    value_room = 70
    track = max(width - label_width - value_room - 8, 40)
    top_value = maximum if maximum is not None else max((b.value for b in bars if b.value is not None), default=0)
    top_value = top_value or 1
    row = bar_height + gap
    height = max(len(bars), 1) * row + gap
    body = []
    for index, bar in enumerate(bars):
        y = gap / 2 + index * row
        middle = y + bar_height / 2 + FONT_SIZE * 0.35
        length = 0 if bar.value is None else max(track * min(bar.value, top_value) / top_value, 0)
        if bar.value:
            length = max(length, 1.5)  # a tiny non-zero value stays visible
        label = escape(fit(bar.label, label_width - 8))
        parts = [
            f'<text x="{label_width - 6}" y="{middle:.1f}" text-anchor="end" fill="{INK}">{label}</text>',
            f'<rect x="{label_width}" y="{y:.1f}" width="{track}" height="{bar_height}" fill="#eef1f5" stroke="{GRID}" stroke-width="0.5"/>',
            f'<rect x="{label_width}" y="{y:.1f}" width="{length:.1f}" height="{bar_height}" fill="{BAR_FILL}"/>'
            if length
            else "",
            f'<text x="{label_width + length + 4:.1f}" y="{middle:.1f}" fill="{INK}">{escape(bar.display)}</text>',
        ]
        body.append(
            f'<g class="bar" data-label="{escape(bar.label)}" data-value="{"" if bar.value is None else bar.value}">'
            + _link(bar.href, "".join(parts))
            + "</g>"
        )
    if not bars:
        body.append(f'<text x="{label_width}" y="{gap + FONT_SIZE}" fill="{MUTED}">—</text>')
    return _svg(width, height, title, body, kind="bars", extra=f' data-bars="{len(bars)}"')


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{colour}"/>'
    if shape == "triangle":
        return f'<polygon points="{x:.1f},{y - 4:.1f} {x + 4:.1f},{y + 3:.1f} {x - 4:.1f},{y + 3:.1f}" fill="{colour}"/>'
    if shape == "diamond":
        return f'<polygon points="{x:.1f},{y - 4:.1f} {x + 4:.1f},{y:.1f} {x:.1f},{y + 4:.1f} {x - 4:.1f},{y:.1f}" fill="#fff" stroke="{colour}" stroke-width="1.5"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'


def line_chart(
    labels: list[str],
    series: list[Series],
    *,
    title: str,
    width: int = 640,
    height: int = 230,
    maximum: float | None = None,
    unit: str = "",
) -> SafeString:
    """Lines over steps (months, days): a y axis with round ticks, a legend, one styled line per series."""
    left, right, top, bottom = 52, 12, 28, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    axis_top, step = nice_ceiling(maximum if maximum is not None else max(values, default=0))
    count = len(labels)

    def x_at(i: int) -> float:
        return left + (plot_w / 2 if count == 1 else plot_w * i / (count - 1))

    def y_at(v: float) -> float:
        return top + plot_h * (1 - v / axis_top)

    body = []
    tick = 0.0
    while tick <= axis_top + 1e-9:
        y = y_at(tick)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}" stroke-width="0.6"/>')
        body.append(
            f'<text x="{left - 5}" y="{y + FONT_SIZE * 0.35:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{escape(_number(tick) + unit)}</text>"
        )
        tick += step
    # Thin the step labels so that they never overlap (31 days, 36 months).
    widest = max((text_width(label) for label in labels), default=0) + 6
    every = max(1, math.ceil(widest / (plot_w / max(count, 1))))
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(
                f'<text x="{x_at(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="{MUTED}">'
                f"{escape(label)}</text>"
            )
    body.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{INK}" stroke-width="0.8"/>'
    )
    legend_x = left
    for index, line in enumerate(series):
        colour, dash, shape = SERIES_STYLES[index % len(SERIES_STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line x1="{legend_x}" y1="12" x2="{legend_x + 22}" y2="12" stroke="{colour}" stroke-width="2"{dash_attr}/>'
            + _marker(shape, legend_x + 11, 12, colour)
            + f'<text x="{legend_x + 27}" y="{12 + FONT_SIZE * 0.35:.1f}" fill="{INK}">{escape(line.name)}</text>'
        )
        legend_x += 27 + text_width(line.name) + 18
        # A missing value (no denominator) breaks the line rather than dropping to zero.
        runs, current = [], []
        for i, value in enumerate(line.values):
            if value is None:
                if current:
                    runs.append(current)
                current = []
            else:
                current.append((x_at(i), y_at(min(value, axis_top))))
        if current:
            runs.append(current)
        points = "".join(
            f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in run)}" fill="none" '
            f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
            for run in runs
        )
        markers = "".join(_marker(shape, x, y, colour) for run in runs for x, y in run) if count <= 40 else ""
        body.append(
            f'<g class="series" data-series="{escape(line.name)}" data-points="{sum(map(len, runs))}">'
            f"{points}{markers}</g>"
        )
    return _svg(width, height, title, body, kind="lines", extra=f' data-steps="{count}"')
