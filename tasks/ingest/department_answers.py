"""Departments' answers sent back: INBOX/<week>/departments/<any name> (.xlsx / .xls / .csv; anything else is reported).

A department fills the answer columns of its problem list's spreadsheet (工作机制, 解决办法, 工作主抓人,
工作责任人, 具体考核机制, 计划完成日期, beside each item's 问题编号) and sends the file back. Each file is archived
unchanged like a township file (tasks/ingest/archive.py), read within the same limits (limits.py) in a child
process under the same memory ceiling (isolated.py), and read as robustly: the header row wherever it is in
the first rows, any column order, header variants (ANSWER_ALIASES, compared like township headers), any sheet
holding a 问题编号 column and at least one answer column. The department is taken from a 部门 column when a row
has one, else from the file: the "说明" sheet's 部门 line (the county's own spreadsheet carries it), a sheet
name, then the file name naming a department. Bad cells — an unknown item id, an item of another department,
an over-long text, a date that is not a date — are reported with file, sheet, row and column and never stop
the run; a file that cannot be read at all is reported as rejected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from expectations.catalogue import Profile
from tasks.answers import ANSWER_FIELDS, ANSWER_HEADERS, KEY, STORE_COLUMNS, empty_answers, load_answers, merged_answers
from tasks.ingest.archive import archive_submission
from tasks.ingest.headers import HEADER_SCAN_ROWS, header_lookup, map_row, normalise_header
from tasks.ingest.isolated import MB, IsolatedReader, Read, reader_if_enabled, rows_or_rejection
from tasks.ingest.issues import data_rule
from tasks.ingest.limits import Limits
from tasks.ingest.values import Invalid, fold, is_blank, to_date, to_text
from tasks.ingest.week import received_at

FOLDER = "departments"  # INBOX/<week>/departments/: the township ingest leaves this folder alone
ACCEPTED, ACCEPTED_WITH_ISSUES, REJECTED = "accepted", "accepted_with_issues", "rejected"
ERROR, WARNING = "error", "warning"
# Text a department types into one cell: a person is a name or two; a mechanism or solution a paragraph.
MAX_PERSON_CHARS = 40
MAX_TEXT_CHARS = 300
PERSON_FIELDS = ("answer_lead", "answer_responsible")
ITEM, DEPARTMENT = "item_id", "department"
ANSWER_ALIASES: dict[str, tuple[str, ...]] = {
    ITEM: ("问题编号", "编号", "问题ID", "item_id", "整改编号", "台账编号"),
    DEPARTMENT: ("部门", "主责部门", "责任部门", "责任单位", "单位"),
    "mechanism": ("工作机制", "机制", "工作推进机制"),
    "solution": ("解决办法", "解决措施", "解决方案", "整改措施", "整改办法", "措施"),
    "answer_lead": ("工作主抓人", "主抓人", "主要负责人", "主抓领导", "分管领导"),
    "answer_responsible": ("工作责任人", "责任人", "具体责任人", "经办人"),
    "assessment": ("具体考核机制", "考核机制", "考核办法", "考核"),
    "due_date": ("计划完成日期", "计划完成时间", "完成时限", "完成时间", "完成期限"),
}
FILE_COLUMNS = ["department", "file", "sha256", "status", "reason", "answers", "issues", "received_at"]
ISSUE_COLUMNS = ["department", "file", "sheet", "row", "column", "rule", "severity", "message"]
ABOUT_SHEET = "说明"



# --------------------------------------------------------------------------------------------- reading files

@dataclass
class DepartmentFile:
    """One received department file: archived, and its raw rows per sheet (or why it could not be read)."""

    file: str
    sha256: str
    received_at: str
    sheets: dict[str, list[list]] | None = None
    rule: str = ""
    detail: str = ""


def department_files(week_dir: Path) -> list[Path]:
    """Every file in INBOX/<week>/departments/ whatever its suffix (hidden and Office lock files left out), oldest
    first (modification time, then name): the newest answer of an item wins. As with township files, one that
    cannot be read (a PDF, an .ods, a Word file) is still archived and reported (DQ-FILE-TYPE), never dropped
    unseen."""
    folder = week_dir / FOLDER
    if not folder.is_dir():
        return []
    entries = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))]
    return sorted(entries, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _read(path: Path, limits: Limits, reader: IsolatedReader | None) -> Read:
    size = path.stat().st_size
    if size == 0:
        return None, "DQ-FILE-EMPTY", ""
    if size > limits.max_bytes:
        return None, "DQ-FILE-TOO-LARGE", f"{size / MB:.1f} MB"
    return reader.rows(path, limits) if reader is not None else rows_or_rejection(path, limits)


def read_department_files(week_dir: Path, week: str, archive_dir: Path, max_bytes: int,
                          read: bool = True) -> list[DepartmentFile]:
    """Archive every department file of the week (receipt included), then read each distinct one in a child
    process under the ingest memory ceiling, as township files are (isolated.py; EVALPREP_INGEST_ISOLATION=0:
    in this process). `read=False` (a narrowed run, an inspection) reads nothing: it uses the stored answers
    only."""
    if not read:
        return []
    limits = Limits.for_max_bytes(max_bytes)
    out: list[DepartmentFile] = []
    seen: set[str] = set()
    with reader_if_enabled() as reader:
        for path in department_files(week_dir):
            sha, _, _ = archive_submission(path, archive_dir, week)
            if sha in seen:  # the same bytes sent twice change nothing
                continue
            seen.add(sha)
            sheets, rule, detail = _read(path, limits, reader)
            out.append(DepartmentFile(path.name, sha, received_at(path).isoformat(), sheets, rule, detail))
    return out


# ------------------------------------------------------------------------------------------ reading answers

@dataclass
class DepartmentAnswers:
    """What the week's department files gave: the answers in force (stored ones overridden by this week's),
    this week's new answers (recorded after publishing), one row per file and one per problem."""

    current: pd.DataFrame
    new: pd.DataFrame
    files: pd.DataFrame
    issues: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ISSUE_COLUMNS))


def _key(text: object) -> str:
    """A header or department as compared: as township headers are (normalise_header), and in any case."""
    return normalise_header(text).lower()


ALIASES = header_lookup(ANSWER_ALIASES.items(), _key)  # the township headers' lookup (headers.py), own names


def match_department(written: object, known: list[str]) -> str | None:
    """A department as written → its name in the catalogue: equal after folding, else the longest known name
    the text contains (旬阳县交通运输局 → 交通运输局)."""
    text = _key(written)
    if not text:
        return None
    keyed = {_key(name): name for name in known}
    if text in keyed:
        return keyed[text]
    inside = [name for k, name in keyed.items() if k and k in text]
    return max(inside, key=len) if inside else None


@dataclass(frozen=True)
class _Header:
    row: int
    columns: dict[int, str]  # column index → canonical name
    written: dict[int, str]


def find_answer_header(rows: list[list]) -> _Header | None:
    """The row among the first HEADER_SCAN_ROWS naming 问题编号 and at least one answer column (most names wins)."""
    best: _Header | None = None
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapped = map_row(row, ALIASES, _key)
        written = {col: str(row[col]).strip() for col in mapped}
        if ITEM in mapped.values() and any(n in ANSWER_FIELDS for n in mapped.values()):
            if best is None or len(mapped) > len(best.columns):
                best = _Header(index, mapped, written)
    return best


def _about_department(sheets: dict[str, list[list]], known: list[str]) -> str | None:
    """The 部门 line of the spreadsheet's 说明 sheet (label in one cell, the department in the next)."""
    for name, rows in sheets.items():
        if _key(name) != _key(ABOUT_SHEET):
            continue
        for row in rows[:20]:
            cells = [c for c in row if not is_blank(c)]
            if len(cells) >= 2 and _key(cells[0]) == _key("部门"):
                return match_department(cells[1], known)
    return None


def file_department(file: str, sheets: dict[str, list[list]], known: list[str]) -> str | None:
    """The department a file answers for: the 说明 sheet, a sheet's name, the file name."""
    found = _about_department(sheets, known)
    if found:
        return found
    for name in sheets:
        found = match_department(name, known)
        if found:
            return found
    return match_department(Path(file).stem, known)


class _Report:
    """Issues of one file, worded for the department's clerk."""

    def __init__(self, department: str, file: str):
        self.department, self.file, self.rows = department, file, []

    def add(self, rule: str, severity: str, message: str, sheet: str = "", row: int | None = None,
            column: str = "") -> None:
        where = f"工作表「{sheet}」第{row}行" if sheet and row else f"工作表「{sheet}」" if sheet else ""
        where += f"「{column}」" if column else ""
        text = f"{self.file}：{where}{'：' if where else ''}{message}"
        self.rows.append({"department": self.department, "file": self.file, "sheet": sheet, "row": row,
                          "column": column, "rule": rule, "severity": severity, "message": text})


def _shown(cell: Any) -> str:
    return fold(str(cell))[:30]


def _answer_value(field_name: str, cell: Any) -> str:
    """A cell as stored: text folded (dates as 2016-11-30); raises Invalid for what cannot be taken."""
    if field_name == "due_date":
        return to_date(cell).date().isoformat()
    # free text as written (no NFKC: Chinese punctuation，stays), whitespace trimmed and collapsed
    text = re.sub(r"\s+", " ", cell).strip() if isinstance(cell, str) else to_text(cell)
    limit = MAX_PERSON_CHARS if field_name in PERSON_FIELDS else MAX_TEXT_CHARS
    if len(text) > limit:
        raise Invalid("DA-TOO-LONG", str(limit))
    return text


def _read_file(source: DepartmentFile, items: dict[str, set[str]], villages: dict[str, str], known: list[str],
               previous: dict[tuple[str, str], dict[str, str]], report: _Report) -> tuple[list[dict], str | None]:
    """One readable file → its answer rows (STORE_COLUMNS minus week) and its department."""
    sheets = source.sheets or {}
    department = file_department(source.file, sheets, known)
    report.department = department or ""
    headers = {name: h for name, rows in sheets.items() if (h := find_answer_header(rows)) is not None}
    if not headers:
        report.add("DA-NO-HEADER", ERROR, "文件中没有找到“问题编号”列和回复列（解决办法、工作责任人等），未读取；"
                                          "请在县上下发的本部门问题清单表格（.xlsx）的“问题清单”工作表中填写后报送")
        return [], department
    answers: dict[tuple[str, str], dict] = {}
    for sheet, header in headers.items():
        positions = header.columns
        for offset, raw in enumerate(sheets[sheet][header.row + 1:]):
            excel_row = header.row + offset + 2
            cells = {name: (raw[p] if p < len(raw) else None) for p, name in positions.items()}
            given = {f: cells[f] for f in ANSWER_FIELDS if f in cells and not is_blank(cells[f])}
            item = "" if is_blank(cells.get(ITEM)) else fold(str(cells[ITEM])).replace(" ", "")
            if not given:
                continue  # not answered (or a blank row): the item keeps what it had
            item_column = header.written[next(p for p, n in positions.items() if n == ITEM)]
            if not item:
                report.add("DA-NO-ITEM", ERROR, "填写了回复，但“问题编号”为空，无法对应到问题，此行未采用；"
                                                "请保留县上下发表格中的问题编号", sheet, excel_row, item_column)
                continue
            owner = department
            if DEPARTMENT in cells and not is_blank(cells[DEPARTMENT]):
                owner = match_department(cells[DEPARTMENT], known)
                if owner is None:
                    column = header.written[next(p for p, n in positions.items() if n == DEPARTMENT)]
                    report.add("DA-DEPARTMENT", ERROR, f"「{_shown(cells[DEPARTMENT])}」不是责任部门的名称，此行未采用；"
                                                       "请填写部门全称（如 交通运输局）", sheet, excel_row, column)
                    continue
            if owner is None:
                report.add("DA-DEPARTMENT", ERROR, "无法确定是哪个部门的回复，此行未采用；请在文件名中写明部门名称"
                                                   "（如 交通运输局.xlsx），或保留表格中的“说明”工作表", sheet, excel_row)
                continue
            owners = items.get(item)
            if not owners:
                report.add("DA-ITEM-UNKNOWN", ERROR, f"问题编号「{_shown(item)}」不在本周的问题清单中（可能已整改达标，"
                                                     "或编号填错），此行未采用；请核对编号", sheet, excel_row, item_column)
                continue
            if owner not in owners:
                report.add("DA-ITEM-DEPARTMENT", ERROR, f"问题编号「{_shown(item)}」是{'、'.join(sorted(owners))}的问题，"
                                                        f"不在{owner}的问题清单中，此行未采用；请只回复本部门清单中的问题",
                           sheet, excel_row, item_column)
                continue
            before = previous.get((owner, item), {})
            row = {"department": owner, "item_id": item, "village_code": villages.get(item, ""), "file": source.file}
            for name in ANSWER_FIELDS:
                cell = cells.get(name)
                column = next((header.written[p] for p, n in positions.items() if n == name), ANSWER_HEADERS[name])
                if name not in cells or is_blank(cell):
                    row[name] = ""
                    continue
                try:
                    row[name] = _answer_value(name, cell)
                except Invalid as exc:
                    row[name] = before.get(name, "")  # the cell is not taken; the item keeps its earlier answer
                    kept = "保留原有回复" if row[name] else "该项视为未填"
                    if exc.rule == "DA-TOO-LONG":
                        report.add("DA-TOO-LONG", WARNING, f"内容过长（{len(to_text(cell))} 字，上限 {exc.detail} 字），"
                                                           f"未采用，{kept}；请精简后重新报送", sheet, excel_row, column)
                    else:
                        report.add("DA-DATE", WARNING, f"「{_shown(cell)}」不是日期，未采用，{kept}；"
                                                       "请按 2016-11-30 的格式填写", sheet, excel_row, column)
            answers[(owner, item)] = row  # a later row of the same item wins
    return list(answers.values()), department


def department_answers(files: list[DepartmentFile], problems: pd.DataFrame, history_dir: Path, profile: Profile,
                       week: str) -> DepartmentAnswers:
    """The answers in force this week: the stored ones (latest week ≤ this one) overridden, item by item, by
    this week's files (oldest first, so the newest file wins), checked against this week's problem lists."""
    stored = load_answers(history_dir, profile.name, week)
    known = list(dict.fromkeys([*profile.departments, *(d for c in profile.criteria for d in c.departments),
                                *(str(d) for d in problems.get("department", []))]))
    items: dict[str, set[str]] = {}
    villages: dict[str, str] = {}
    for department, item, village in zip(problems.get("department", []), problems.get("item_id", []),
                                         problems.get("village_code", [])):
        items.setdefault(str(item), set()).add(str(department))
        villages[str(item)] = str(village)
    previous = {(d, i): row for d, i, row in zip(stored["department"], stored["item_id"], stored.to_dict("records"))}
    new: dict[tuple[str, str], dict] = {}
    file_rows, issue_rows = [], []
    for source in files:
        report = _Report("", source.file)
        if source.sheets is None:
            rule = data_rule(source.rule) if source.rule else {"message": "文件无法读取"}
            message = rule["message"].format(detail=source.detail, row="", column="", value="", allowed="", sheet="")
            report.department = file_department(source.file, {}, known) or ""
            report.add(source.rule or "DQ-FILE-CORRUPT", ERROR, message)
            rows, department = [], report.department or None
            status, reason = REJECTED, message
        else:
            rows, department = _read_file(source, items, villages, known, {**previous, **new}, report)
            status = REJECTED if not rows and report.rows else ACCEPTED_WITH_ISSUES if report.rows else ACCEPTED
            reason = report.rows[0]["message"] if status == REJECTED else ""
        for row in rows:
            new[(row["department"], row["item_id"])] = row
        file_rows.append({"department": department or "", "file": source.file, "sha256": source.sha256,
                          "status": status, "reason": reason, "answers": len(rows), "issues": len(report.rows),
                          "received_at": source.received_at})
        issue_rows += report.rows
    fresh = pd.DataFrame(list(new.values()), columns=[c for c in STORE_COLUMNS if c != "week"])
    fresh = fresh.assign(week=week)[STORE_COLUMNS] if len(fresh) else empty_answers()
    issues = pd.DataFrame(issue_rows, columns=ISSUE_COLUMNS)
    issues["row"] = issues["row"].astype("Int64")
    return DepartmentAnswers(
        current=merged_answers(stored, fresh),
        new=fresh.sort_values(KEY, kind="stable").reset_index(drop=True),
        files=pd.DataFrame(file_rows, columns=FILE_COLUMNS),
        issues=issues,
    )
