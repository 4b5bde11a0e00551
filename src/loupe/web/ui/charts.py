"""Charts drawn on the server as inline SVG geometry (no chart library, no CDN).

A chart is plain numbers the template turns into ``<rect>`` and ``<text>``; every chart
is also rendered as a table, so screen readers and text browsers get the data too.

>>> chart = column_chart([("Mon", 2), ("Tue", 4)], width=200, height=100)
>>> [bar.height for bar in chart.bars]
[40.0, 80.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "Chart", "bar_chart", "column_chart"]

PAD_TOP = 10.0
PAD_BOTTOM = 10.0


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    maximum: int


def column_chart(points: Sequence[tuple[str, int]], *, width: int, height: int) -> Chart:
    """Vertical bars, one per point, scaled to the largest value (labels below, 20px)."""
    maximum = max((value for _, value in points), default=0)
    plot = height - PAD_TOP - PAD_BOTTOM
    slot = width / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        h = plot * value / maximum if maximum else 0.0
        bars.append(
            Bar(
                x=round(i * slot + slot * 0.15, 2),
                y=round(PAD_TOP + plot - h, 2),
                width=round(slot * 0.7, 2),
                height=round(h, 2),
                label=label,
                value=value,
            )
        )
    return Chart(width=width, height=height, bars=bars, maximum=maximum)


def bar_chart(
    points: Sequence[tuple[str, int]], *, width: int, row: int = 28, label_width: int = 140
) -> Chart:
    """Horizontal bars, one row per point, with room for a label on the left."""
    maximum = max((value for _, value in points), default=0)
    room = width - label_width - 50
    bars = [
        Bar(
            x=float(label_width),
            y=float(i * row + 4),
            width=round(room * value / maximum, 2) if maximum else 0.0,
            height=float(row - 8),
            label=label,
            value=value,
        )
        for i, (label, value) in enumerate(points)
    ]
    return Chart(width=width, height=max(len(points), 1) * row, bars=bars, maximum=maximum)
