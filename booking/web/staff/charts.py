"""Chart geometry for the staff pages: plain numbers the templates draw as SVG (no request
state), so a chart prints and reads on a phone, with a table beside it for screen readers."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Bar:
    label: str
    value: int
    y: float
    width: float


@dataclass
class Chart:
    """Horizontal bars, one row per label: readable at phone width, exact values at bar ends."""

    width: int
    height: int
    label_width: int
    row_height: int
    bar_height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (x, value) of vertical gridlines


def _nice_step(top: int, lines: int = 4) -> int:
    raw = max(1, top) / lines
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return max(1, int(factor * magnitude))
    return max(1, int(10 * magnitude))


def bar_chart(points: list[tuple[str, int]], width: int = 420, row_height: int = 26,
              label_width: int = 72) -> Chart:
    """Scale bars to a value axis rounded to 1-2-5 steps, leaving room for the value text."""
    top = max((value for _, value in points), default=0)
    step = _nice_step(top)
    axis_top = step * max(1, math.ceil(top / step))
    plot_width = width - label_width - 44
    bars = [Bar(label, value, index * row_height, plot_width * value / axis_top)
            for index, (label, value) in enumerate(points)]
    ticks = [(label_width + plot_width * v / axis_top, v) for v in range(0, axis_top + 1, step)]
    return Chart(width, row_height * len(points) + 18, label_width, row_height,
                 row_height - 8, bars, ticks)
