"""The four reporting weeks of the demo county and their dates."""
from __future__ import annotations

import datetime as dt

WEEKS: tuple[str, ...] = ("2016-W36", "2016-W37", "2016-W38", "2016-W39")
NEVER = 99  # fix week of a gap that is still open after the last week


def number(week: str) -> int:
    """ISO week number of '2016-W38' → 38."""
    return int(week.split("-W")[1])


def monday(week: str) -> dt.date:
    year, num = week.split("-W")
    return dt.date.fromisocalendar(int(year), int(num), 1)


def as_of(week: str) -> dt.date:
    """统计截止日期: the Sunday that ends the ISO week."""
    return monday(week) + dt.timedelta(days=6)


def submitted_on(week: str) -> dt.date:
    """填报日期: the Monday after the week."""
    return monday(week) + dt.timedelta(days=7)


def label(num: int) -> str | None:
    """2016-W38 for 38, None for NEVER."""
    return None if num >= NEVER else f"2016-W{num:02d}"
