"""Resident ID numbers (GB 11643-1999): check character, validity, birth date, sex, masking."""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_PATTERN = r"^[0-9]{17}[0-9X]$"
_ID_RE = re.compile(ID_PATTERN)


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def birth_date(id_number: str) -> dt.date | None:
    """Birth date encoded in positions 7–14, or None when it is not a real date."""
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except (ValueError, IndexError):
        return None


def is_valid(id_number: object) -> bool:
    """True for an 18-character ID with a real birth date and the right check character."""
    if not isinstance(id_number, str) or not _ID_RE.match(id_number):
        return False
    return birth_date(id_number) is not None and check_char(id_number[:17]) == id_number[17]


def make(region: str, born: dt.date, sequence: int) -> str:
    """Build a valid ID: 6-digit region, birth date, 3-digit sequence (odd = male), check character."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def sex(id_number: str) -> str:
    """男 for an odd sequence digit, 女 for an even one."""
    return "男" if int(id_number[16]) % 2 else "女"


def mask(value: object) -> str:
    """Mask an ID number for a document a person reads: 610928********1234."""
    if not isinstance(value, str) or len(value) < 10:
        return "" if value is None or (isinstance(value, float) and np.isnan(value)) else "****"
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: object) -> str:
    """Mask a phone number: 138****5678."""
    if not isinstance(value, str) or len(value) < 7:
        return "" if not isinstance(value, str) else "****"
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def valid_mask(ids: pd.Series) -> pd.Series:
    """Vectorised is_valid over a Series (nulls and non-strings are invalid)."""
    text = ids.astype("string").fillna("")
    shaped = text.str.fullmatch(ID_PATTERN).fillna(False).astype(bool)
    result = pd.Series(False, index=ids.index)
    if not shaped.any():
        return result
    good = text[shaped]
    digits = np.frombuffer("".join(good.str[:17]).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    checks = np.array(list(CHECK_CHARS))[(digits * np.array(WEIGHTS)).sum(axis=1) % 11]
    births = pd.to_datetime(good.str[6:14], format="%Y%m%d", errors="coerce")
    result[shaped] = (checks == good.str[17].to_numpy()) & births.notna().to_numpy()
    return result


def ages(ids: pd.Series, on: dt.date) -> pd.Series:
    """Age in whole years on a date, from the birth date in each ID (NaN where unreadable)."""
    births = pd.to_datetime(ids.astype("string").str[6:14], format="%Y%m%d", errors="coerce")
    had_birthday = (births.dt.month < on.month) | ((births.dt.month == on.month) & (births.dt.day <= on.day))
    return on.year - births.dt.year - (~had_birthday).astype(int)
