"""Bar charts as server-rendered inline SVG: the geometry is worked out here, the template only draws it.

No script and no style attribute (the CSP allows neither): colours come from classes in console.css.
A chart repeats what the table under it says, for the eye; the table is what a screen reader reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 40  # room for the count axis and the period labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # which series, for its colour class (bar-0, bar-1...)
    title: str  # shown by the browser on hover: "3 Dec: 12 calls"


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]
    baseline: float
    left: int
    right: float


def nice_top(largest: int) -> int:
    """The top of the count axis: 2, 4 or 10 times a power of ten, at or above the largest count, so that
    its half (the one tick between) is a whole number too."""
    largest = max(largest, 2)
    power: int = 10 ** math.floor(math.log10(largest))
    return next(step * power for step in (1, 2, 4, 10) if step * power >= largest and step * power >= 2)


def bars(periods: list[tuple[str, tuple[int, ...]]], names: tuple[str, ...], *, label_every: int = 1) -> Chart:
    """Grouped bars: one group per period (label, one count per series), series side by side."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    top = nice_top(max((count for _, counts in periods for count in counts), default=0))
    group = plot_width / max(len(periods), 1)
    bar_width = group * 0.8 / max(len(names), 1)
    drawn: list[Bar] = []
    labels: list[Label] = []
    for index, (label, counts) in enumerate(periods):
        start = LEFT + index * group + group * 0.1
        for series, count in enumerate(counts):
            height = plot_height * count / top
            drawn.append(Bar(x=round(start + series * bar_width, 1), y=round(baseline - height, 1),
                             width=round(max(bar_width - 1, 1), 1), height=round(height, 1), series=series,
                             title=f"{label}: {count:,} {names[series]}"))  # fmt: skip
        if index % label_every == 0:
            labels.append(Label(x=round(LEFT + index * group + group / 2, 1), text=label))
    ticks = tuple(Tick(y=round(baseline - plot_height * share, 1), label=f"{round(top * share):,}")
                  for share in (0, 0.5, 1))  # fmt: skip
    return Chart(WIDTH, HEIGHT, tuple(drawn), ticks, tuple(labels), baseline, LEFT, WIDTH - RIGHT)
