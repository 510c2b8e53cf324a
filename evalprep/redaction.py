"""The one redaction gate: every byte a person reads (PDF, HTML, CSV, XLSX and its properties, logs, Prefect
artifacts) passes through here, so an ID number or a mobile number typed anywhere — a name, a village, a
header, a numeric cell, a file name — is masked wherever it appears, not only in its own column.

What counts (docs/decisions.md "One redaction gate"):
- a resident ID number: 17 digits and a digit or X (also written 6-8-4 with single spaces or hyphens, also in
  full-width digits) whose positions 7–14 are a real birth date between 1900 and 2099. The check character is
  not required (a mistyped ID is still a person's ID). The date is what separates an ID from the project's
  own 18-digit person codes (人编号 = 户编号 + 2 digits: positions 7–10 are a township code, never a year);
- a mobile number: 1[3-9] and 9 more digits (also 3-4-4 grouped, also after +86 / 0086 / 86);
- neither inside a longer run of digits or hex letters: village codes (12 digits), household ids (16),
  survey ids (15), sha256 and document ids stay as they are.
Masking keeps the style of evalprep.idcard: 610928********1234, 138****5678.

And `csv_cell_safe`: the OWASP rule against formula injection for every CSV cell.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import numbers
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Light on purpose: evalprep/__init__.py installs the log gate, so importing this module must not pull in
# pandas or numpy (they are imported where a frame is handled, and evalprep.idcard when a number is masked).

_D = "[0-9\uff10-\uff19]"  # ASCII and full-width digits
_SEP = "[ \\-]?"
# An ID may touch Latin letters ("ID610928…"): 18 digits with a real date inside a hex string are too rare to
# matter, unlike 11 digits, so only the phone pattern keeps off hex letters.
_ID_RE = re.compile(
    r"(?<![0-9\uff10-\uff19])(?<![0-9]\.)"
    + f"(?P<id>{_D}{{6}}{_SEP}{_D}{{8}}{_SEP}{_D}{{3}}[0-9\uff10-\uff19Xx\uff38\uff58])(?![0-9\uff10-\uff19])")
_PHONE_RE = re.compile(
    r"(?<![0-9\uff10-\uff19A-Fa-f])(?<![0-9]\.)"
    + f"(?P<prefix>(?:(?:\\+|00)?86[ \\-]?)?)(?P<phone>[1\uff11][3-9\uff13-\uff19]{_D}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}})"
    + r"(?![0-9\uff10-\uff19A-Fa-f])")  # not inside a run of digits or hex letters, nor a decimal fraction
# Both patterns contain 11 digits in a row with at most two separators; text without that has nothing to mask
# (the common case, and fast: the full patterns cost ~0.5 µs a character on digit-rich text such as a chart).
_QUICK = re.compile(f"{_D}{{3}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}")
_TO_ASCII = str.maketrans("０１２３４５６７８９Ｘｘx", "0123456789XXX", " -")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "＝", "＋", "－", "＠")
_LEADING_BLANKS = " \u3000"


def _birth_date_is_real(digits: str) -> bool:
    try:
        born = dt.date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2099


def _mask_id(match: re.Match) -> str:
    from evalprep.idcard import mask

    digits = match.group("id").translate(_TO_ASCII)
    return mask(digits) if _birth_date_is_real(digits) else match.group(0)


def _mask_phone(match: re.Match) -> str:
    from evalprep.idcard import mask_phone

    return match.group("prefix") + mask_phone(match.group("phone").translate(_TO_ASCII))


def redact_text(text: str) -> str:
    """The text with every ID number and mobile number in it masked; everything else as it was."""
    if not _QUICK.search(text):
        return text
    return _PHONE_RE.sub(_mask_phone, _ID_RE.sub(_mask_id, text))


def _number_text(value: float | int) -> str | None:
    """The digits of a whole number as a person would see them in a cell ('13812345678' for 13812345678.0)."""
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        return None
    number = int(value)
    return str(number) if 10**10 <= abs(number) < 10**18 else None


def _redact_number(value: numbers.Real) -> Any:
    digits = _number_text(int(value) if isinstance(value, numbers.Integral) else float(value))
    if digits is not None:
        masked = redact_text(digits)
        if masked != digits:
            return masked
    return value


def redact_value(value: Any) -> Any:
    """Any value on its way to a person: text redacted; a number that is a phone or ID number typed into a
    numeric cell becomes its masked text; containers redacted item by item; everything else as it was.
    (Called for every value a template prints: the common types take the first, cheap branches.)"""
    kind = type(value)
    if kind is str:
        return redact_text(value)
    if kind is int or kind is float:
        return value if -1e10 < value < 1e10 else _redact_number(value)
    if isinstance(value, str):
        redacted = redact_text(value)
        if redacted == value:
            return value
        return kind(redacted) if hasattr(value, "__html__") else redacted  # Markup stays Markup
    if value is None or isinstance(value, bool) or kind.__name__ == "bool_":
        return value
    if isinstance(value, numbers.Real):
        return _redact_number(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


def redact_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the frame with every text cell and column name redacted, and every whole number that reads
    as a phone or ID number replaced by its masked text (that column then holds text)."""
    import pandas as pd

    out = frame.copy()
    out.columns = [redact_text(c) if isinstance(c, str) else c for c in out.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if pd.api.types.is_bool_dtype(column.dtype):
            continue
        if pd.api.types.is_numeric_dtype(column.dtype):
            numbers_ = pd.to_numeric(column, errors="coerce").astype("float64")
            suspect = numbers_.abs().ge(1e10) & numbers_.abs().lt(1e18) & numbers_.mod(1).eq(0)
            if not suspect.any():
                continue
            changed = column.astype(object)
            changed[suspect] = column[suspect].map(redact_value)
            out.isetitem(position, changed)
            continue
        out.isetitem(position, column.map(redact_value, na_action="ignore"))
    return out


def csv_cell_safe(value: Any) -> Any:
    """OWASP formula-injection rule: a text cell that a spreadsheet would read as a formula (= + - @, tab, CR,
    LF, NUL or their full-width forms first, after any leading blanks) gets a leading ' so it is shown, never
    run. Numbers stay numbers (-3 is written as -3)."""
    if isinstance(value, str) and value.lstrip(_LEADING_BLANKS).startswith(FORMULA_STARTS):
        return "'" + value
    return value


CSV_ENCODING = "utf-8-sig"  # Excel on Chinese Windows opens UTF-8 CSV correctly only with a BOM


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as it may be written to a CSV a person opens: redacted, every text cell formula-safe."""
    import pandas as pd

    out = redact_frame(frame)
    out.columns = [csv_cell_safe(c) for c in out.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if not (pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype)):
            out.isetitem(position, column.map(csv_cell_safe, na_action="ignore"))
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The one CSV writer's bytes: redacted, formula-safe, UTF-8 with a BOM, \\n line ends, no index."""
    return csv_frame(frame).to_csv(index=False, lineterminator="\n").encode(CSV_ENCODING)


# ------------------------------------------------------------------------------------------------ logs

_FACTORY_MARK = "_evalprep_redacts"


def install_log_redaction() -> None:
    """Redact every log record of the process as it is created (a LogRecord factory): evalprep's own logger,
    Prefect's run loggers and whatever handler Prefect configures later (console, API) all see only the
    redacted message and traceback. Installed once, on import of evalprep."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _FACTORY_MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's business, not ours
            return record
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        return record

    setattr(factory, _FACTORY_MARK, True)
    logging.setLogRecordFactory(factory)
