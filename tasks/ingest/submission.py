"""One township submission → canonical tables, its township, issues, and an accept/reject outcome."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evalprep.template import Sheet, sheets
from tasks.ingest.headers import find_header, normalise_header
from tasks.ingest.issues import Issue
from tasks.ingest.references import Register
from tasks.ingest.sheet import ParsedSheet, empty_frame, parse_sheet
from tasks.ingest.values import fold
from tasks.ingest.limits import Limits
from tasks.ingest.workbook import Rejected, Rows, read_submission_rows

ACCEPTED = "accepted"
ACCEPTED_WITH_ISSUES = "accepted_with_issues"
REJECTED = "rejected"
VILLAGE_CODE_TABLES = ("households", "villages", "surveys", "projects", "missed")


@dataclass
class SubmissionResult:
    """What one received file gave: its township, tables, issues and outcome."""

    file: str
    sha256: str
    status: str
    township_code: str = ""
    reason: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    headers: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet as written, column) → header


def match_sheets(raw: dict[str, Rows]) -> dict[str, tuple[str, Rows]]:
    """Template sheet key → (sheet name as written, rows): by name, then by name containment, then by headers."""
    found: dict[str, tuple[str, Rows]] = {}
    names = {normalise_header(n): n for n in raw}
    for key, sheet in sheets().items():
        target = normalise_header(sheet.name)
        exact = names.get(target)
        contained = next((n for norm, n in names.items() if target in norm), None)
        name = exact or contained
        if name is not None and name not in {v[0] for v in found.values()}:
            found[key] = (name, raw[name])
    for key, sheet in sheets().items():
        if key in found:
            continue
        unused = [n for n in raw if n not in {v[0] for v in found.values()}]
        best = max(
            ((len(m.columns), n) for n in unused if (m := find_header(raw[n], sheet)) is not None),
            default=None,
        )
        if best and best[0] >= max(3, sum(c.required for c in sheet.columns) // 2):
            found[key] = (best[1], raw[best[1]])
    return found


def parse_cover(rows: Rows, sheet: Sheet, file: str, sheet_name: str) -> ParsedSheet:
    """The cover sheet as a header row + one row, or as label/value pairs down the sheet."""
    parsed = parse_sheet(rows, sheet, file, sheet_name)
    if len(parsed.frame):
        return parsed
    labels = {normalise_header(c.header): c for c in sheet.columns}
    values: dict[str, object] = {}
    for r, row in enumerate(rows):
        for i, cell in enumerate(row[:-1]):
            col = labels.get(normalise_header(cell))
            following = row[i + 1]
            if col and col.name not in values and str(following).strip() and normalise_header(following) not in labels:
                values[col.name] = (r, following)
    if not values:
        return parsed
    pseudo = [[c.header for c in sheet.columns], [values.get(c.name, (0, None))[1] for c in sheet.columns]]
    return parse_sheet(pseudo, sheet, file, sheet_name)


def identify_township(tables: dict[str, pd.DataFrame], file_name: str, register: Register) -> tuple[str, list[Issue]]:
    """Township from the content (cover, 乡(镇) column, village codes); the file name is only checked."""
    candidates: list[str] = []
    cover = tables.get("cover")
    if cover is not None and len(cover):
        candidates += [c for c in cover["township_name"].dropna().map(register.township_by_name) if c]
    households = tables.get("households")
    if households is not None and len(households):
        named = households["township_name"].dropna().map(register.township_by_name).dropna()
        candidates += list(named.mode()[:1])
    if not candidates:
        prefixes = pd.concat(
            [t["village_code"].dropna().str[:9] for k, t in tables.items() if k in VILLAGE_CODE_TABLES and len(t)],
            ignore_index=True,
        ) if any(k in VILLAGE_CODE_TABLES and len(t) for k, t in tables.items()) else pd.Series(dtype="str")
        known = prefixes[prefixes.isin(list(register.township_names))]
        candidates += list(known.mode()[:1])
    if not candidates:
        return "", []
    code = candidates[0]
    issues = []
    named_in_file = township_in_file_name(file_name, register)
    if named_in_file and named_in_file != code:
        issues.append(Issue.for_file("DQ-TOWNSHIP", file_name, value=register.township_names[code]))
    return code, issues


def township_in_file_name(file_name: str, register: Register) -> str:
    """The township a file name names, by code or by name ('' when it names none)."""
    stem = fold(Path(file_name).stem)
    for code in re.findall(r"\d{9}", stem):
        if code in register.township_names:
            return code
    for code, name in register.township_names.items():
        if name in stem or name.removesuffix("镇") in stem:
            return code
    return ""


def _check_village_codes(frame: pd.DataFrame, table: str, township: str, register: Register, file: str,
                         written: dict[tuple[str, str], str]) -> tuple[pd.DataFrame, list[Issue]]:
    if not len(frame) or "village_code" not in frame:
        return frame, []
    codes = frame["village_code"]
    foreign = codes.notna() & (codes.str[:9] != township)
    unknown = codes.notna() & ~foreign & ~codes.map(register.knows_village).astype(bool)
    issues = []
    header = sheets()[table].column("village_code").header
    for rule, mask in (("DQ-VILLAGE-CODE", foreign), ("DQ-VILLAGE-UNKNOWN", unknown)):
        for _, row in frame[mask].iterrows():
            issues.append(Issue.for_cell(rule, file, row["_sheet"], int(row["_row"]),
                                         written.get((row["_sheet"], "village_code"), header), row["village_code"]))
    return frame[~(foreign | unknown)].reset_index(drop=True), issues


def _drop_duplicate_keys(frame: pd.DataFrame, table: str, file: str, written: dict[tuple[str, str], str]) -> tuple[pd.DataFrame, list[Issue]]:
    """Keep the first row of each key (户编号, 人编号 …); a repeated row is reported and not imported twice."""
    key = sheets()[table].row_key
    if not key or not len(frame):
        return frame, []
    repeated = frame[key].notna() & frame.duplicated(subset=[key], keep="first")
    issues = [
        Issue.for_cell("DQ-DUPLICATE", file, row["_sheet"], int(row["_row"]),
                       written.get((row["_sheet"], key), sheets()[table].column(key).header), row[key])
        for _, row in frame[repeated].iterrows()
    ]
    return frame[~repeated].reset_index(drop=True), issues


def rejected_result(name: str, sha256: str, register: Register, rule: str, detail: str = "") -> SubmissionResult:
    """A whole file refused: one file-level issue; the township only as far as the file name says."""
    issue = Issue.for_file(rule, name, detail=detail)
    township = township_in_file_name(name, register)
    return SubmissionResult(name, sha256, REJECTED, township, issue.message, issues=[issue.at_township(township)])


def read_submission(path: Path, sha256: str, register: Register, max_bytes: int) -> SubmissionResult:
    """Parse one received file. Bad files are rejected with a reason; bad cells become issues."""
    name = path.name
    try:
        size = sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else path.stat().st_size
        if size > max_bytes:
            raise Rejected("DQ-FILE-TOO-LARGE", f"{size / 1024 / 1024:.1f} MB")
        raw = read_submission_rows(path, Limits.for_max_bytes(max_bytes))
    except Rejected as exc:
        return rejected_result(name, sha256, register, exc.rule, exc.detail)
    found = match_sheets(raw)
    issues: list[Issue] = []
    tables: dict[str, pd.DataFrame] = {}
    fatal: list[Issue] = []
    headers: dict[tuple[str, str], str] = {}
    for key, sheet in sheets().items():
        if key not in found:
            tables[key] = empty_frame(sheet)
            if sheet.required:
                fatal.append(Issue.for_file("DQ-SHEET-MISSING", name, sheet=sheet.name))
            continue
        sheet_name, rows = found[key]
        parsed = parse_cover(rows, sheet, name, sheet_name) if key == "cover" else parse_sheet(rows, sheet, name, sheet_name)
        if parsed.header is None and sheet.required:
            fatal.append(Issue.for_file("DQ-HEADER-MISSING", name, sheet=sheet_name))
        elif parsed.missing_required and sheet.required:
            fatal.append(Issue.for_file("DQ-COLUMN-MISSING", name, sheet=sheet_name, column="、".join(parsed.missing_required)))
        if parsed.header is not None:
            issues += [Issue.for_file("DQ-UNKNOWN-COLUMN", name, sheet=sheet_name, column=text) for text in parsed.header.unknown.values()]
        tables[key] = parsed.frame
        issues += parsed.issues
        if parsed.header is not None:
            for pos, column in parsed.header.columns.items():
                headers[(sheet_name, column)] = parsed.header.written.get(pos, sheet.column(column).header)
    township, township_issues = identify_township(tables, name, register)
    if not township:
        fatal.append(Issue.for_file("DQ-TOWNSHIP-UNKNOWN", name))
    if fatal:
        township = township or township_in_file_name(name, register)
        all_issues = [i.at_township(township) for i in fatal + issues]
        return SubmissionResult(name, sha256, REJECTED, township, "；".join(i.message for i in fatal), issues=all_issues)
    issues += township_issues
    for key in VILLAGE_CODE_TABLES:
        tables[key], code_issues = _check_village_codes(tables[key], key, township, register, name, headers)
        issues += code_issues
    for key in tables:
        tables[key], duplicate_issues = _drop_duplicate_keys(tables[key], key, name, headers)
        issues += duplicate_issues
    for frame in tables.values():
        frame["township_code"] = township
    tables["villages"]["township_name"] = register.township_names[township]
    issues = [i.at_township(township) for i in issues]
    status = ACCEPTED_WITH_ISSUES if issues else ACCEPTED
    rows_read = {sheets()[k].name: len(tables[k]) for k in found}  # template names: the same columns for every file
    reason = f"{len(issues)} 个问题" if issues else ""
    return SubmissionResult(name, sha256, status, township, reason, tables, issues, rows_read, headers)
