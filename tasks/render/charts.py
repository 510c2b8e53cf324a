"""Geometry of the hand-written SVG charts: coordinates computed here, drawn by a Jinja macro (no raster)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tasks.render.formatting import is_missing

WIDTH, HEIGHT = 170.0, 112.0
LEFT, RIGHT, TOP, BOTTOM = 32.0, 152.0, 22.0, 92.0
MAX_POINT_LABELS = 6


def _value_text(value: float, percent: bool, unit: str, digits: int) -> str:
    return f"{value * 100:.{digits}f}%" if percent else f"{value:.0f}{unit}"


def _nice_step(span: float, integer: bool) -> float:
    """The round step (1, 2, 2.5 or 5 × 10^k) that cuts span into at most four intervals."""
    raw = span / 4 if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return max(1.0, math.ceil(step)) if integer else step


def _y_axis(values: list[float], percent: bool) -> list[float]:
    """Round tick values enclosing the values (and 0 for counts)."""
    lo, hi = min(values), max(values)
    if not percent:
        lo = 0.0
    hi += (hi - lo) * 0.1  # headroom for the value labels above the highest point
    step = _nice_step(hi - lo, integer=not percent)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    if last == first:
        last += 1
    return [round(k * step, 6) for k in range(first, last + 1)]


def line_panel(title: str, labels: Sequence[str], values: Sequence[Any], *, percent: bool,
               references: Sequence[tuple[float, str]] = (), unit: str = "") -> dict[str, Any]:
    """One small line chart: a value per week, reference lines (thresholds), in a WIDTH × HEIGHT box."""
    numbers = [None if is_missing(v) else float(v) for v in values]
    known = [v for v in numbers if v is not None]
    ticks = _y_axis(known + [r for r, _ in references] or [0.0], percent)
    lo, hi = ticks[0], ticks[-1]
    digits = 1 if percent and round((ticks[1] - ticks[0]) * 100, 6) % 1 else 0

    def y_of(value: float) -> float:
        return round(BOTTOM - (value - lo) / (hi - lo) * (BOTTOM - TOP), 1)

    count = len(labels)
    step = (RIGHT - LEFT - 16) / (count - 1) if count > 1 else 0.0
    xs = [round(LEFT + 8 + step * i, 1) if count > 1 else round((LEFT + RIGHT) / 2, 1) for i in range(count)]
    points, segments, current = [], [], []
    show = set(range(count)) if count <= MAX_POINT_LABELS else {0, count - 1}
    for index, (x, value) in enumerate(zip(xs, numbers)):
        if value is None:
            if len(current) > 1:
                segments.append(" ".join(current))
            current = []
            continue
        y = y_of(value)
        current.append(f"{x},{y}")
        points.append({"x": x, "y": y, "text": _value_text(value, percent, unit, 1) if index in show else ""})
    if len(current) > 1:
        segments.append(" ".join(current))
    return {
        "title": title,
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": RIGHT, "top": TOP, "bottom": BOTTOM,
        "segments": segments,
        "points": points,
        "x_ticks": [{"x": x, "text": text} for x, text in zip(xs, labels)],
        "y_ticks": [{"y": y_of(t), "text": _value_text(t, percent, unit, digits)} for t in ticks],
        "references": [{"y": y_of(value), "text": text} for value, text in references if lo <= value <= hi],
        "empty": not known,
    }
