"""Header rows: find them wherever they are and map headers as written to canonical names."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from evalprep.template import Sheet, sheets
from tasks.ingest.values import fold

HEADER_SCAN_ROWS = 15


def normalise_header(text: object) -> str:
    """Header as compared: full-width folded, no whitespace or line breaks, no required-marks (*)."""
    if text is None:
        return ""
    return re.sub(r"[\s*＊]", "", fold(str(text)))


def header_lookup(columns: Iterable[tuple[str, Iterable[str]]],
                  key: Callable[[object], str] = normalise_header) -> dict[str, str]:
    """Header as compared (`key`) → canonical name, from (canonical name, the headers it may be written as)
    pairs; the first column to claim a header keeps it."""
    table: dict[str, str] = {}
    for name, written in columns:
        for text in written:
            table.setdefault(key(text), name)
    return table


@lru_cache(maxsize=None)
def alias_table(sheet_key: str) -> dict[str, str]:
    """Normalised header or declared alias → canonical column name, for one sheet."""
    return header_lookup((c.name, (c.header, *c.aliases)) for c in sheets()[sheet_key].columns)


@dataclass(frozen=True)
class HeaderMatch:
    """Where the header is and which sheet column holds which canonical column."""

    header_rows: tuple[int, ...]  # 0-based row indexes of the header (two for a merged two-level header)
    columns: dict[int, str]  # column index → canonical name
    written: dict[int, str]  # column index → header as written (for messages)
    unknown: dict[int, str]  # column index → header nobody maps (序号 included)

    @property
    def data_start(self) -> int:
        return self.header_rows[-1] + 1


def map_row(row: list, table: dict[str, str], key: Callable[[object], str] = normalise_header) -> dict[int, str]:
    """Column index → canonical name of the cells of `row` that `table` knows (each name once, leftmost)."""
    mapped: dict[int, str] = {}
    for idx, cell in enumerate(row):
        name = table.get(key(cell))
        if name and name not in mapped.values():
            mapped[idx] = name
    return mapped


def find_header(rows: list[list], sheet: Sheet) -> HeaderMatch | None:
    """The row among the first HEADER_SCAN_ROWS that names most template columns (≥ 2), if any."""
    table = alias_table(sheet.key)
    best: tuple[int, dict[int, str]] | None = None
    for idx, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapped = map_row(row, table)
        if len(mapped) >= 2 and (best is None or len(mapped) > len(best[1])):
            best = (idx, mapped)
    if best is None:
        return None
    idx, mapped = best
    header_rows = (idx,)
    # A merged two-level header: some names in one row, the rest in the row above or below.
    for other in (idx - 1, idx + 1):
        if 0 <= other < len(rows):
            extra = {i: n for i, n in map_row(rows[other], table).items() if n not in mapped.values() and i not in mapped}
            if extra:
                mapped = {**mapped, **extra}
                header_rows = tuple(sorted((idx, other)))
                break
    written = {}
    unknown = {}
    for r in header_rows:
        for col, cell in enumerate(rows[r]):
            text = "" if cell is None else str(cell).strip()
            if col in mapped and (col not in written or r == header_rows[-1] and text):
                if text:
                    written[col] = text
            elif col not in mapped and text and normalise_header(text) not in ("", "序号"):
                unknown.setdefault(col, text)
    unknown = {c: t for c, t in unknown.items() if c not in mapped}
    return HeaderMatch(header_rows=header_rows, columns=dict(sorted(mapped.items())), written=written, unknown=unknown)
