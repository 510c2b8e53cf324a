"""ISO weeks as the county names them (2016-W39): parsing, cut-off dates."""
from __future__ import annotations

import datetime as dt
import re

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(week: str) -> tuple[int, int]:
    match = WEEK_RE.match(week)
    if not match:
        raise ValueError(f"周次格式应为 YYYY-Www（如 2016-W39），收到 {week!r}")
    year, number = int(match.group(1)), int(match.group(2))
    dt.date.fromisocalendar(year, number, 1)  # raises for a week that does not exist
    return year, number


def week_monday(week: str) -> dt.date:
    return dt.date.fromisocalendar(*parse_week(week), 1)


def week_sunday(week: str) -> dt.date:
    """The data cut-off date of a week: the Sunday that ends it."""
    return dt.date.fromisocalendar(*parse_week(week), 7)


def week_of(day: dt.date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"
