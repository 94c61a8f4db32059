"""Chart geometry computed on the server; templates draw it as inline SVG (works offline, no JS)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Bar:
    """One horizontal bar."""

    label: str
    value: float
    text: str
    y: float
    w: float
    warn: bool = False


@dataclass
class BarChart:
    """Horizontal bars with labels on the left and values on the right."""

    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[Bar] = field(default_factory=list)


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    max_value: float | None = None,
    width: int = 560,
    label_width: int = 170,
    bar_height: int = 18,
    gap: int = 8,
    fmt: str = "{:,.0f}",
    warn_below: float | None = None,
) -> BarChart:
    """Bars for (label, value) pairs, scaled to the largest value (or max_value)."""
    top = max_value if max_value is not None else max((v for _, v in items), default=0.0)
    room = width - label_width - 56
    bars = []
    for i, (label, value) in enumerate(items):
        w = 0.0 if top <= 0 else max(0.0, min(1.0, value / top)) * room
        bars.append(
            Bar(
                label=label if len(label) <= 18 else label[:17] + "…",
                value=value,
                text=fmt.format(value),
                y=gap / 2 + i * (bar_height + gap),
                w=round(w, 1),
                warn=warn_below is not None and value < warn_below,
            )
        )
    height = max(30, len(bars) * (bar_height + gap) + gap)
    return BarChart(width=width, height=height, label_width=label_width, bar_height=bar_height, bars=bars)


@dataclass
class Column:
    """One vertical column."""

    label: str
    value: int
    x: float
    y: float
    h: float
    show_label: bool


@dataclass
class ColumnChart:
    """Vertical columns over time (e.g. updates per month)."""

    width: int
    height: int
    base: int
    col_width: float
    columns: list[Column] = field(default_factory=list)


def column_chart(items: Sequence[tuple[str, int]], *, width: int = 560, height: int = 180) -> ColumnChart:
    """Columns for (label, count) pairs in order; every few labels shown so they never overlap."""
    base = height - 22
    n = max(1, len(items))
    step = width / n
    col_width = max(2.0, step * 0.7)
    top = max((v for _, v in items), default=0)
    every = max(1, n // 8)
    cols = []
    for i, (label, value) in enumerate(items):
        h = 0.0 if top <= 0 else value / top * (base - 8)
        cols.append(
            Column(
                label=label,
                value=value,
                x=round(i * step + (step - col_width) / 2, 1),
                y=round(base - h, 1),
                h=round(h, 1),
                show_label=i % every == 0,
            )
        )
    return ColumnChart(width=width, height=height, base=base, col_width=round(col_width, 1), columns=cols)
