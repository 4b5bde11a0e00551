"""Charts drawn on the server as inline SVG geometry (no chart library, no CDN).

A chart is plain numbers the template turns into ``<rect>`` and ``<text>``; every chart
is also rendered as a table, so screen readers and text browsers get the data too.

>>> chart = column_chart([("Mon", 2), ("Tue", 4)], width=200, height=100)
>>> [bar.height for bar in chart.bars]
[40.0, 80.0]
>>> lines = line_chart([("model", [(0, 0.5, ""), (10, 1.0, "")])], width=200, height=100,
...                    x_range=(0, 10), y_max=1.0)
>>> lines.lines[0].segments
['48.0,40.0 180.0,10.0']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "Bar",
    "Chart",
    "Line",
    "LineChart",
    "Point",
    "Tick",
    "bar_chart",
    "column_chart",
    "line_chart",
    "nice_ceiling",
]

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


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    title: str  # the point's value in words (a tooltip; the table repeats it)


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    index: int  # styles the line (colour and dash): .series-0, .series-1, ...
    points: list[Point]
    segments: list[str]  # polyline ``points`` attributes, split where a value is missing


@dataclass(frozen=True, slots=True)
class Tick:
    at: float  # pixel position along its axis
    label: str


@dataclass(frozen=True, slots=True)
class LineChart:
    width: int
    height: int
    left: float  # the plot area
    top: float
    right: float
    bottom: float
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]


LEFT, RIGHT, TOP, BOTTOM = 48.0, 20.0, 10.0, 30.0


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 (times a power of ten) at least ``value``.

    >>> nice_ceiling(0.0), nice_ceiling(7.3), nice_ceiling(0.21)
    (1.0, 10.0, 0.25)
    """
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power + 1e-12:
            return step * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def line_chart(
    series: Sequence[tuple[str, Sequence[tuple[float, float | None, str]]]],
    *,
    width: int,
    height: int,
    x_range: tuple[float, float],
    y_max: float | None = None,
    x_ticks: Sequence[tuple[float, str]] = (),
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
    y_ticks: int = 5,
) -> LineChart:
    """Lines of ``(x, y, title)`` points over ``x_range`` and ``[0, y_max]`` (default: a nice
    ceiling of the largest y). A ``None`` y breaks its line; ``x_ticks`` are ``(x, label)``."""
    left, top, right, bottom = LEFT, TOP, width - RIGHT, height - BOTTOM
    ys = [y for _, points in series for _, y, _ in points if y is not None]
    top_value = y_max if y_max is not None else nice_ceiling(max(ys, default=0.0))
    x0, x1 = x_range
    span = (x1 - x0) or 1.0

    def sx(x: float) -> float:
        return round(left + (right - left) * (x - x0) / span, 1)

    def sy(y: float) -> float:
        return round(bottom - (bottom - top) * min(y, top_value) / top_value, 1)

    lines = []
    for index, (name, raw) in enumerate(series):
        points: list[Point] = []
        segments: list[str] = []
        run: list[str] = []
        for x, y, title in raw:
            if y is None:
                if run:
                    segments.append(" ".join(run))
                run = []
                continue
            point = Point(sx(x), sy(y), title)
            points.append(point)
            run.append(f"{point.x},{point.y}")
        if run:
            segments.append(" ".join(run))
        lines.append(Line(name=name, index=index, points=points, segments=segments))
    return LineChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        lines=lines,
        x_ticks=[Tick(sx(x), label) for x, label in x_ticks],
        y_ticks=[
            Tick(sy(top_value * i / y_ticks), y_format(top_value * i / y_ticks))
            for i in range(y_ticks + 1)
        ],
    )
