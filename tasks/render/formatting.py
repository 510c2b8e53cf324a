"""Words, marks and number formats shared by every document: status is a word and a symbol, never colour alone."""
from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from expectations.catalogue import Profile
from tasks.assess import FAIL, GRADE_EXCELLENT, GRADE_FAIL, GRADE_PASS, PASS, UNKNOWN

GRADES = (GRADE_FAIL, GRADE_PASS, GRADE_EXCELLENT)
PASSING_GRADES = frozenset({GRADE_PASS, GRADE_EXCELLENT})
GRADE_SYMBOL = {GRADE_FAIL: "✘", GRADE_PASS: "✔", GRADE_EXCELLENT: "★"}
GRADE_CLASS = {GRADE_FAIL: "fail", GRADE_PASS: "pass", GRADE_EXCELLENT: "excellent"}
UNKNOWN_WORD = "无法判定"
STATUS_TEXT = {PASS: "✔ 达标", FAIL: "✘ 未达标", UNKNOWN: f"？ {UNKNOWN_WORD}"}
NO_DATA_TEXT = "✘ 无数据"
VETO_MARK = "◆ 否决"
NOT_NAMED = "未明确"
# Every count of households names its population (docs/decisions.md "Exit cohort"): the exit cohort the
# evaluators judge (脱贫户: 预脱贫/已脱贫), or every registered household (建档立卡户).
COHORT, REGISTERED = "脱贫户", "建档立卡户"
COUNT_UNIT = {"household": "户", "project": "个项目"}
COUNT_WHO = {"household": COHORT, "project": "项目"}  # whom a criterion's failing_count counts



def is_missing(value: Any) -> bool:
    """None, NA, NaT or a float NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def clean_text(value: Any, default: str = "") -> str:
    """A cell as trimmed text; the default when missing or blank."""
    return default if is_missing(value) or str(value).strip() == "" else str(value).strip()


def as_int(value: Any) -> int | None:
    return None if is_missing(value) else int(value)


def as_flag(value: Any) -> bool:
    return False if is_missing(value) else bool(value)


def as_date(value: Any) -> dt.date:
    return value if type(value) is dt.date else pd.Timestamp(value).date()


def format_date(value: Any) -> str:
    """2016-09-25 → 2016年9月25日; missing → —."""
    if is_missing(value):
        return "—"
    day = as_date(value)
    return f"{day.year}年{day.month}月{day.day}日"


def format_pct(rate: Any, digits: int = 1) -> str:
    """A fraction as a percentage with fixed digits: 0.72 → 72.0%; missing → —."""
    return "—" if is_missing(rate) else f"{float(rate) * 100:.{digits}f}%"


_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def format_against(value: Any, threshold: float, op: str, passed: bool, *, scale: float = 100, digits: int = 1,
                   max_digits: int = 6, unit: str = "%") -> str:
    """A measured value printed beside its threshold so that the printed figure reads on the same side of the
    printed threshold as the verdict: `op` is how a value passes ("<" for an incidence below its maximum,
    ">=" for a rate at or above its minimum); `passed` the verdict already decided (✔ / ✘); value and
    threshold are fractions, printed × `scale`. Digits grow from `digits` until the rounded figure reads
    right (0.029994 under a maximum of 0.03 prints "2.999%", not "3.0%"; coverage 0.996 under a minimum of 1
    prints "99.6%", not "100%"); past `max_digits` the figure is rounded toward the verdict's side. When the
    value itself lies on the other side (the verdict rests on something else, e.g. an approved project), the
    figure reads on the value's own side: never a rounded figure that contradicts the value. Missing → —."""
    if is_missing(value):
        return "—"
    exact = Decimal(repr(float(value))) * Decimal(repr(float(scale)))
    limit = Decimal(str(threshold)) * Decimal(repr(float(scale)))
    passes = _COMPARE[op]
    # the side to read on: the verdict's, unless the value itself lies on the other side
    side = passed if passes(exact, limit) == passed else not passed
    for places in range(digits, max_digits + 1):
        printed = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
        if passes(printed, limit) == side:
            return f"{printed:f}{unit}"
    toward = ROUND_FLOOR if exact < limit else ROUND_CEILING
    return f"{exact.quantize(Decimal(1).scaleb(-max_digits), rounding=toward):f}{unit}"


def format_threshold(rate: float) -> str:
    """A catalogue threshold as the shortest percentage: 0.025 → 2.5%."""
    return f"{float(Fraction(str(rate)) * 100):g}%"


def codes_of(value: Any) -> list[str]:
    """failing_criteria as a list of codes, whether stored as a list, an array or a ';'-joined string."""
    if isinstance(value, str):
        return [code for code in (part.strip() for part in value.split(";")) if code]
    if isinstance(value, Iterable):
        return [str(code) for code in value]
    return []


def labels_of(profile: Profile, codes: Iterable[str]) -> list[str]:
    """Catalogue labels of criterion codes (an unknown code stays as it is)."""
    known = {c.code: c.label for c in profile.criteria}
    return [known.get(code, code) for code in codes]

