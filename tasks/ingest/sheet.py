"""One sheet's raw rows → a canonical DataFrame plus the row-level issues found on the way."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evalprep.template import Sheet
from tasks.ingest.headers import HeaderMatch, find_header, normalise_header
from tasks.ingest.issues import Issue
from tasks.ingest.values import Invalid, converter, dtype_for, fold, is_blank

TOTAL_WORDS = ("合计", "小计", "总计", "累计", "总数")
META_COLUMNS = ["_file", "_sheet", "_row"]


@dataclass
class ParsedSheet:
    """A sheet after normalisation: typed rows, issues, and the header that was found."""

    frame: pd.DataFrame
    issues: list[Issue] = field(default_factory=list)
    header: HeaderMatch | None = None
    missing_required: list[str] = field(default_factory=list)


def empty_frame(sheet: Sheet) -> pd.DataFrame:
    """A frame with the sheet's canonical columns and dtypes and no rows."""
    frame = pd.DataFrame({c.name: pd.Series(dtype=dtype_for(c)) for c in sheet.columns})
    frame["_file"] = pd.Series(dtype="str")
    frame["_sheet"] = pd.Series(dtype="str")
    frame["_row"] = pd.Series(dtype="int64")
    return frame


def _is_total_row(cells: list) -> bool:
    for cell in cells[:4]:
        if isinstance(cell, str) and cell and normalise_header(cell).startswith(TOTAL_WORDS):
            return True
    return False


def parse_sheet(rows: list[list], sheet: Sheet, file: str, sheet_name: str) -> ParsedSheet:
    """Find the header, skip title/blank/序号/合计 rows, normalise every value; never raises on bad cells."""
    header = find_header(rows, sheet)
    if header is None:
        return ParsedSheet(empty_frame(sheet), header=None, missing_required=[c.header for c in sheet.columns if c.required])
    present = set(header.columns.values())
    missing = [c.header for c in sheet.columns if c.required and c.name not in present]
    issues: list[Issue] = []
    columns = [sheet.column(name) for name in header.columns.values()]
    positions = list(header.columns)
    convert = {col.name: converter(col) for col in columns}
    caches: dict[str, dict] = {col.name: {} for col in columns}
    key = sheet.row_key
    records: list[dict[str, Any]] = []
    for offset, raw in enumerate(rows[header.data_start :]):
        excel_row = header.data_start + offset + 1
        cells = [raw[p] if p < len(raw) else None for p in positions]
        if all(is_blank(c) for c in cells) or _is_total_row(raw):
            continue
        record: dict[str, Any] = {"_file": file, "_sheet": sheet_name, "_row": excel_row}
        for pos, col, cell in zip(positions, columns, cells):
            written = header.written.get(pos, col.header)
            if is_blank(cell):
                record[col.name] = None
                if col.required:
                    issues.append(Issue.for_cell("DQ-REQUIRED", file, sheet_name, excel_row, written, ""))
                continue
            cache = caches[col.name]
            cache_key = (type(cell), cell)
            try:
                if cache_key in cache:
                    outcome = cache[cache_key]
                else:
                    try:
                        outcome = convert[col.name](cell)
                    except Invalid as exc:
                        outcome = exc
                    cache[cache_key] = outcome
            except TypeError:  # unhashable cell value
                try:
                    outcome = convert[col.name](cell)
                except Invalid as exc:
                    outcome = exc
            if isinstance(outcome, Invalid):
                record[col.name] = None
                issues.append(
                    Issue.for_cell(outcome.rule, file, sheet_name, excel_row, written, _shown(cell), allowed=outcome.detail)
                )
            else:
                record[col.name] = outcome
        if key and key in present and record.get(key) is None:
            # A row without its key cannot be attributed to anyone: reported, not kept.
            issues.append(Issue.for_row("DQ-ROW-NO-KEY", file, sheet_name, excel_row, header.written.get(_pos(header, key), key)))
            continue
        records.append(record)
    frame = _to_frame(records, sheet)
    return ParsedSheet(frame, issues, header, missing)


def _pos(header: HeaderMatch, name: str) -> int:
    return next(p for p, n in header.columns.items() if n == name)


def _shown(cell: Any) -> str:
    if isinstance(cell, float):
        return f"{cell:.6g}" if abs(cell) >= 1e15 else f"{cell:g}"
    return fold(str(cell))[:40]


def _to_frame(records: list[dict[str, Any]], sheet: Sheet) -> pd.DataFrame:
    if not records:
        return empty_frame(sheet)
    raw = pd.DataFrame.from_records(records)
    frame = pd.DataFrame(index=raw.index)
    for col in sheet.columns:
        values = raw[col.name] if col.name in raw else pd.Series([None] * len(raw), index=raw.index)
        dtype = dtype_for(col)
        if dtype == "datetime64[ns]":
            frame[col.name] = pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")
        elif dtype == "boolean":
            frame[col.name] = values.astype("boolean")
        elif dtype == "float64":
            frame[col.name] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            frame[col.name] = values.astype("str").where(values.notna())
    for meta in META_COLUMNS:
        frame[meta] = raw[meta]
    frame["_row"] = frame["_row"].astype("int64")
    return frame.reset_index(drop=True)
