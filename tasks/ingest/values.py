"""Value normalisation at the border: raw cell values → typed canonical values, or a data-rule code."""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from evalprep.template import Column, vocabularies

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
TRUE_WORDS = {"是", "有", "y", "yes", "√", "✓", "✔", "1", "true", "通", "已通", "已参加", "参加", "已参保"}
FALSE_WORDS = {"否", "无", "n", "no", "×", "✗", "✘", "x", "0", "false", "未通", "未参加", "不通", "未参保"}
NONE_WORDS = {"无", "没有", "暂无", "/", "-", "—"}
CARRIERS = ("电信", "移动", "联通")
_NUMBER_NOISE = re.compile(r"[,\s元人户公里千米km%]|万元", re.IGNORECASE)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:\s.*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.IGNORECASE)


class Invalid(Exception):
    """A cell value that cannot be normalised; carries the data-rule code."""

    def __init__(self, rule: str, detail: str = ""):
        super().__init__(rule)
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True)
class Missing:
    """Marker for an empty cell (blank, whitespace, NaN)."""


MISSING = Missing()


def fold(text: str) -> str:
    """Full-width digits, letters and brackets to ASCII (NFKC), whitespace trimmed and collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()  # str.strip() removes full-width spaces too
    return isinstance(value, float) and math.isnan(value)


def to_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    return fold(str(value))


def to_code(value: Any, column: Column) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Excel keeps 15 significant digits: a longer code typed as a number has lost digits for good.
        if not float(value).is_integer() or abs(value) >= 1e15:
            raise Invalid("DQ-CODE-SCIENTIFIC")
        text = str(int(value))
    else:
        text = fold(str(value)).replace(" ", "")
        if _SCIENTIFIC.match(text):
            raise Invalid("DQ-CODE-SCIENTIFIC")
    if not text.isdigit() and column.digits:
        raise Invalid("DQ-CODE")
    if column.digits and len(text) != column.digits:
        raise Invalid("DQ-CODE")
    return text


def to_id_number(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise Invalid("DQ-ID-SCIENTIFIC")
    text = fold(str(value)).replace(" ", "").upper()
    if _SCIENTIFIC.match(text):
        raise Invalid("DQ-ID-SCIENTIFIC")
    return text


def to_number(value: Any) -> float:
    if isinstance(value, bool):
        raise Invalid("DQ-NUMBER")
    if isinstance(value, (int, float)):
        return float(value)
    text = _NUMBER_NOISE.sub("", fold(str(value)))
    try:
        number = float(text)
    except ValueError:
        raise Invalid("DQ-NUMBER") from None
    if math.isnan(number) or math.isinf(number):
        raise Invalid("DQ-NUMBER")
    return number


def to_int(value: Any) -> float:
    number = to_number(value)
    if not number.is_integer():
        raise Invalid("DQ-NUMBER")
    return number


def to_percent(value: Any) -> float:
    """0–100. A numeric cell ≤ 1 is an Excel percentage-formatted fraction (0.95 shown as 95%)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) * 100 if 0 < value <= 1 else float(value)
    return to_number(value)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if value in (0, 1):
            return bool(value)
        raise Invalid("DQ-BOOL")
    word = fold(str(value)).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise Invalid("DQ-BOOL")


def to_date(value: Any) -> pd.Timestamp:
    if isinstance(value, dt.datetime):
        return pd.Timestamp(value).normalize()
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 60000:  # Excel serial day numbers 1954–2064
            return pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=int(value)))
        raise Invalid("DQ-DATE")
    text = fold(str(value))
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return pd.Timestamp(dt.date(*(int(g) for g in match.groups())))
            except ValueError:
                raise Invalid("DQ-DATE") from None
    raise Invalid("DQ-DATE")


def to_enum(value: Any, vocabulary: str) -> str:
    text = fold(str(value)).replace(" ", "")
    allowed = vocabularies()[vocabulary]
    if text in allowed:
        return text
    raise Invalid("DQ-DICT", "、".join(allowed))


def to_carriers(value: Any) -> str:
    text = fold(str(value))
    if text in NONE_WORDS:
        return "无"
    tokens = [t for t in re.split(r"[、,，/;；\s]+", text) if t]
    found = []
    for token in tokens:
        match = next((c for c in CARRIERS if c in token), None)
        if match is None:
            raise Invalid("DQ-DICT", "电信、移动、联通 或 无")
        if match not in found:
            found.append(match)
    return "、".join(c for c in CARRIERS if c in found)


def converter(column: Column) -> Callable[[Any], Any]:
    """The normalising function for a column's kind."""
    kind = column.kind
    if kind.startswith("enum:"):
        vocab = column.vocabulary
        return lambda v: to_enum(v, vocab)
    return {
        "text": to_text,
        "code": lambda v: to_code(v, column),
        "id_number": to_id_number,
        "int": to_int,
        "number": to_number,
        "percent": to_percent,
        "bool": to_bool,
        "date": to_date,
        "carriers": to_carriers,
    }[kind]


def dtype_for(column: Column) -> str:
    """The pandas dtype of a canonical column (docs/data-model.md §1)."""
    if column.kind in ("int", "number", "percent"):
        return "float64"
    if column.kind == "bool":
        return "boolean"
    if column.kind == "date":
        return "datetime64[ns]"
    return "str"
