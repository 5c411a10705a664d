"""Small charts drawn on the server as SVG: no script, no outside assets, readable on a phone.

Each chart scales to its container (a ``viewBox`` and ``width="100%"``), names itself for
screen readers (``role="img"`` with ``<title>`` and ``<desc>``, the desc listing every
value), and uses presentation attributes rather than inline styles, which the console's
content security policy does not allow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR = "#337ab7"  # Bootstrap 3's primary blue, as the console's buttons
MUTED = "#777777"
GRID = "#dddddd"
FONT = 'font-family="Helvetica Neue, Helvetica, Arial, sans-serif"'


@dataclass(frozen=True)
class Point:
    label: str  # on the axis ("Mon 30")
    value: float
    text: str  # the value as people read it ("12", "180.00 EUR", "75 %")
    long_label: str = ""  # for the description ("Mon 30 Nov 2026"); the label if empty


def column_chart(title: str, points: list[Point], *, chart_id: str, unit: str = "") -> Markup:
    """Vertical bars, one per point (a day), for up to ~90 points; every n-th label shown."""
    width, height, left, bottom, top = 400, 190, 40, 30, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = _nice(max((p.value for p in points), default=0))
    n = max(len(points), 1)
    step = plot_w / n
    bar_w = max(step * 0.7, 1)
    every = max(1, -(-n // 7))  # at most 7 labels: "Mon 30" needs ~45 units
    parts = [_open(chart_id, title, points, width, height, unit)]
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
                     f'fill="{MUTED}" {FONT}>{escape(_axis_number(peak * fraction))}</text>')
    for index, point in enumerate(points):
        x = left + index * step + (step - bar_w) / 2
        bar_h = plot_h * point.value / peak
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w:.1f}" '
            f'height="{bar_h:.1f}" fill="{BAR}"><title>{escape(point.long_label or point.label)}'
            f': {escape(point.text)}</title></rect>')
        if index % every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 18}" text-anchor="middle" '
                f'font-size="12" fill="{MUTED}" {FONT}>{escape(point.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(title: str, points: list[Point], *, chart_id: str, peak: float | None = None
              ) -> Markup:
    """Horizontal bars with their label above each (long names fit a phone), value right."""
    width, row_h, left = 400, 46, 2
    height = max(len(points), 1) * row_h + 4
    peak = peak or max((p.value for p in points), default=0) or 1
    plot_w = width - left - 130
    parts = [_open(chart_id, title, points, width, height, "")]
    for index, point in enumerate(points):
        y = index * row_h
        bar_w = max(plot_w * min(point.value / peak, 1), 1)
        parts.append(f'<text x="{left}" y="{y + 15}" font-size="15" fill="#333333" {FONT}>'
                     f'{escape(_clip(point.label, 48))}</text>')
        parts.append(f'<rect x="{left}" y="{y + 22}" width="{plot_w}" height="14" '
                     f'fill="{GRID}"/>')
        parts.append(f'<rect x="{left}" y="{y + 22}" width="{bar_w:.1f}" height="14" '
                     f'fill="{BAR}"><title>{escape(point.long_label or point.label)}: '
                     f'{escape(point.text)}</title></rect>')
        parts.append(f'<text x="{width - 2}" y="{y + 34}" text-anchor="end" font-size="14" '
                     f'fill="#333333" {FONT}>{escape(point.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(chart_id, title, points, width, height, unit) -> str:
    listed = "; ".join(f"{p.long_label or p.label}: {p.text}" for p in points) or "no data"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="dashboard-chart" '
            f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
            f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(listed)}</desc>')


def _nice(peak: float) -> float:
    """The axis' top: 1, 2, 2.5 or 5 times a power of ten, so the middle line is round."""
    if peak <= 0:
        return 1
    power = 10 ** math.floor(math.log10(peak))
    for step in (1, 2, 2.5, 5, 10):
        if peak <= step * power:
            return step * power
    return 10 * power


def _axis_number(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}" if value == int(value) or value >= 10 else f"{value:.1f}"


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
