"""Feedback workbook per township (issue 13): the clerk's own workbook back, every cell with a problem marked.

`OUT/<week>/feedback/<township code>_<township name>_<week>_反馈.xlsx`, one per township that sent a file:

- its winning workbook as archived (an .xlsx: patched in place, tasks/feedback_xlsx.py; a CSV folder, a .zip,
  an .xls or an .xlsx that cannot be patched: the blank template, evalprep/blank_template.py, filled with what
  was read), every cell with a problem filled and commented (rule, what is wrong, what to write), a problem of a
  whole row on the row's first cell, of a column on its header cell, and a first sheet 问题清单 listing every
  problem with a link to its cell;
- a township whose files were all rejected: a one-page workbook saying why and what to do;
- a township with no problem: a one-page receipt (file, time, rows read per sheet), so every township that
  sent something gets one file back.

The copy holds the township's own personal data unmasked — the clerk must see the ID number to correct it —
so it is written here, outside the redaction gate, on purpose (`_stored_unmasked`, the one place); whatever
this module adds itself (file names, messages) is masked. It is for that township only: index.html does not
link the folder. Same inputs, same bytes: fixed document dates (the week's Sunday) and zip entry times."""
from __future__ import annotations

import datetime as dt
import io
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import xlsxwriter

from evalprep.blank_template import write_blank_template
from evalprep.fingerprint import sources_fingerprint
from evalprep.redaction import redact_text
from evalprep.settings import PROJECT_ROOT
from evalprep.template import sheets
from evalprep.weeks import week_sunday
from tasks.document_store import DocumentStore, digest
from tasks.feedback_xlsx import Cell, ListSheet, Unpatchable, cell_ref, normalised, patch_workbook
from tasks.ingest.headers import find_header, normalise_header
from tasks.ingest.issues import data_rule
from tasks.ingest.limits import Limits
from tasks.ingest.sheet import parse_sheet
from tasks.ingest.submission import REJECTED, match_sheets
from tasks.ingest.values import is_blank
from tasks.ingest.isolated import IsolatedReader, reader_if_enabled, rows_or_rejection
from tasks.ingest.workbook import Rejected
from tasks.render.paths import MAX_NAME_BYTES, safe_name

LOG = logging.getLogger(__name__)
FEEDBACK_FOLDER = "feedback"
LIST_SHEET = "问题清单"
SUFFIX = "_反馈.xlsx"
PATCHED_SUFFIXES = (".xlsx",)  # .xlsm/.et/.xls/CSV: the blank template filled (macros never go back out)
LIST_COLUMNS = (("序号", 6), ("工作表", 12), ("行", 7), ("列", 16), ("问题类型", 20), ("问题说明", 60), ("怎么改", 36))

# What to write instead, where the rule says it (the message already says what is wrong).
WHAT_TO_WRITE = {
    "DQ-REQUIRED": "填写这一项（必填项）",
    "DQ-ID-FORMAT": "18位身份证号码：先把单元格设为文本，再照身份证输入",
    "DQ-ID-CHECK": "照身份证重新输入18位号码（校验位不对，说明有数字抄错）",
    "DQ-ID-SCIENTIFIC": "先把这一列设为文本格式，再照身份证重新输入完整的18位号码",
    "DQ-DICT": "从下拉列表中选择一项，不要自己输入其他写法",
    "DQ-NUMBER": "只填阿拉伯数字，如 3100（不带单位、不带逗号）",
    "DQ-DATE": "日期，写成 2016-09-28 的样子",
    "DQ-BOOL": "“是”或“否”",
    "DQ-VILLAGE-CODE": "本镇的12位村代码",
    "DQ-VILLAGE-UNKNOWN": "全县行政村名册中的12位村代码",
    "DQ-DUPLICATE": "删除重复的这一行；若是另一户（人），改成它自己的编号",
    "DQ-CODE": "模板规定位数的纯数字编号（先把单元格设为文本）",
    "DQ-CODE-SCIENTIFIC": "先把这一列设为文本格式，再重新输入完整编号",
    "DQ-ROW-NO-KEY": "补填这一行的编号",
    "DQ-UNKNOWN-COLUMN": "删除这一列，或把列名改回模板中的写法",
    "DQ-ID-SEX": "与身份证号码第17位一致的性别（单数为男，双数为女）",
    "DQ-MEMBER-ORPHAN": "「贫困户」表中已有的户编号",
    "DQ-HOUSEHOLD-SIZE": "「家庭成员」表中该户的实际人数",
    "DQ-INCOME-SUM": "工资性、生产经营性、财产性、转移性收入之和",
    "DQ-INCOME-PER-CAPITA": "家庭年纯收入 ÷ 家庭人口数",
}
PRIVATE = "本文件含本镇群众的姓名、身份证号码等个人信息，只发给本镇，请勿转发、外传。"


def feedback_name(township_code: str, township_name: str, week: str) -> str:
    """<code>_<name>_<week>_反馈.xlsx, within the project's name cap (the code and week kept whole)."""
    head, tail = f"{township_code}_", f"_{week}{SUFFIX}"
    room = MAX_NAME_BYTES - len(head.encode("utf-8")) - len(tail.encode("utf-8"))
    return f"{head}{safe_name(township_name or '', room)}{tail}"


def feedback_path(township_code: str, township_name: str, week: str) -> str:
    return f"{FEEDBACK_FOLDER}/{feedback_name(township_code, township_name, week)}"


# ---- where each problem is in the workbook sent back -------------------------------------------------------

@dataclass
class SheetLayout:
    """One sheet of the submission as it appears in the feedback workbook."""

    name: str  # sheet name in the feedback workbook
    columns: dict[str, int] = field(default_factory=dict)  # header as written (and template header) → column
    header_row: dict[int, int] = field(default_factory=dict)  # column → row of its header cell
    first_column: int = 1
    offset: int = 0  # feedback row = submitted Excel row + offset
    labels: dict[str, tuple[int, int]] | None = None  # cover written as label/value pairs: header → value cell

    def locate(self, row: object, column: str) -> tuple[int, int] | None:
        if self.labels is not None:
            return self.labels.get(normalise_header(column))
        col = self.columns.get(column) if column else None
        if row is None or pd.isna(row):
            return (self.header_row[col], col) if col else None
        return int(row) + self.offset, col or self.first_column


def _cover_labels(rows: list[list], sheet) -> dict[str, tuple[int, int]] | None:
    """The cover as label/value pairs (parse_cover's second form): header → (row, column) of its value."""
    if len(parse_sheet(rows, sheet, "", "").frame):
        return None
    wanted = {normalise_header(c.header) for c in sheet.columns}
    found: dict[str, tuple[int, int]] = {}
    for r, row in enumerate(rows):
        for i, cell in enumerate(row[:-1]):
            key = normalise_header(cell)
            if key in wanted and key not in found:
                found[key] = (r + 1, i + 2)
    return found


def _written_columns(header, sheet) -> dict[int, str]:
    """Column position → header text as issues name it (as written, else the template's)."""
    texts = {pos: header.written.get(pos, sheet.column(name).header) for pos, name in header.columns.items()}
    return {**{pos: text for pos, text in header.unknown.items()}, **texts}


def copy_layouts(raw: Mapping[str, list[list]]) -> dict[str, SheetLayout]:
    """Sheet as written → its layout, for the workbook sent back as it was (same sheets, rows, columns)."""
    layouts = {}
    for key, (name, rows) in match_sheets(dict(raw)).items():
        sheet = sheets()[key]
        if key == "cover" and (labels := _cover_labels(rows, sheet)) is not None:
            layouts[name] = SheetLayout(name, labels=labels)
            continue
        header = find_header(rows, sheet)
        if header is None:
            continue
        layout = SheetLayout(name, first_column=min(header.columns) + 1)
        for pos, text in _written_columns(header, sheet).items():
            layout.columns.setdefault(text, pos + 1)
            on = [r for r in header.header_rows if pos < len(rows[r]) and str(rows[r][pos] or "").strip() == text]
            layout.header_row[pos + 1] = (on[0] if on else header.header_rows[-1]) + 1
        for pos, name_ in header.columns.items():
            layout.columns.setdefault(sheet.column(name_).header, pos + 1)
        layouts[name] = layout
    return layouts


def _plain(value: object) -> object:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def template_fill(raw: Mapping[str, list[list]]) -> tuple[dict[str, dict[tuple[int, int], Cell]], dict[str, SheetLayout]]:
    """What was read, placed into the blank template: each sheet's rows under the template's header (row 1),
    columns in the template's order, columns the template lacks after them under their own header."""
    cells: dict[str, dict[tuple[int, int], Cell]] = {}
    layouts: dict[str, SheetLayout] = {}
    for key, (name, rows) in match_sheets(dict(raw)).items():
        sheet = sheets()[key]
        out = cells.setdefault(sheet.name, {})
        place = {c.name: i + 1 for i, c in enumerate(sheet.columns)}
        if key == "cover" and (labels := _cover_labels(rows, sheet)) is not None:
            layout = SheetLayout(sheet.name, labels={})
            for column in sheet.columns:
                at = labels.get(normalise_header(column.header))
                if at and at[1] - 1 < len(rows[at[0] - 1]) and not is_blank(rows[at[0] - 1][at[1] - 1]):
                    out[(2, place[column.name])] = Cell(_plain(rows[at[0] - 1][at[1] - 1]))
                layout.labels[normalise_header(column.header)] = (2, place[column.name])
            layouts[name] = layout
            continue
        header = find_header(rows, sheet)
        if header is None:
            continue
        target = {pos: place[n] for pos, n in header.columns.items()}
        for k, pos in enumerate(sorted(header.unknown), start=len(sheet.columns) + 1):
            target[pos] = k
            out[(1, k)] = Cell(header.unknown[pos])
        layout = SheetLayout(sheet.name, first_column=1, offset=2 - (header.data_start + 1))
        for pos, text in _written_columns(header, sheet).items():
            layout.columns.setdefault(text, target[pos])
            layout.header_row[target[pos]] = 1
        for pos, name_ in header.columns.items():
            layout.columns.setdefault(sheet.column(name_).header, target[pos])
        for i in range(header.data_start, len(rows)):
            row = rows[i]
            for pos, column in target.items():
                if pos < len(row) and not is_blank(row[pos]):
                    out[(i + 1 + layout.offset, column)] = Cell(_plain(row[pos]))
        layouts[name] = layout
    return cells, layouts


@lru_cache(maxsize=1)
def blank_template_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return write_blank_template(Path(folder) / "template.xlsx").read_bytes()


# ---- the workbooks -----------------------------------------------------------------------------------------

def comment_text(rule: str, message: str) -> str:
    hint = WHAT_TO_WRITE.get(rule)
    text = f"【{data_rule(rule)['label']}】{redact_text(message)}"
    return f"{text}\n应填写：{hint}" if hint else text


def archived_path(archive_dir: Path, sha: str) -> Path | None:
    folder = archive_dir / sha[:2] / sha
    kept = sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []
    return kept[0] if kept else None


def _created(week: str) -> dt.datetime:
    return dt.datetime.combine(week_sunday(week), dt.time())


def _when(text: object) -> str:
    text = "" if text is None or pd.isna(text) else str(text)
    return text[:16].replace("T", " ")


def _mark(cells: dict, layouts: Mapping[str, SheetLayout], issues: pd.DataFrame, file: str) -> list:
    """Each issue's cell (sheet, row, column) in the feedback workbook, or None; marked cells get their comment."""
    located: list[tuple[str, int, int] | None] = []
    for issue in issues.itertuples(index=False):
        layout = layouts.get(issue.sheet) if issue.file == file else None
        at = layout.locate(issue.row, issue.column) if layout else None
        located.append((layout.name, *at) if at else None)
        if at:
            cell = cells.setdefault(layout.name, {}).get(at) or Cell()
            text = comment_text(issue.rule, issue.message)
            cell.comment = text if cell.comment is None else f"{cell.comment}\n{text}"
            cells[layout.name][at] = cell
    return located


def marked_workbook(path: Path, issues: pd.DataFrame, township: str, week: str, submission: Mapping,
                    newer_rejected: pd.DataFrame, max_bytes: int, reader: IsolatedReader | None = None) -> bytes:
    """The township's winning file back with every problem marked and listed first: an .xlsx patched in place,
    anything else (or an .xlsx of a shape not patched) as the blank template filled with what was read. The
    file is read again as ingest read it: by `reader`'s child process under the memory ceiling when given."""
    limits = Limits.for_max_bytes(max_bytes)
    raw, rule, detail = reader.rows(path, limits) if reader is not None else rows_or_rejection(path, limits)
    if raw is None:
        raise Rejected(rule, detail)
    title = f"{township} {week} 报表问题反馈"
    if path.is_file() and path.suffix.lower() in PATCHED_SUFFIXES:
        cells: dict = {}
        located = _mark(cells, copy_layouts(raw), issues, submission["file"])
        first = problem_list(issues, located, township, week, submission, newer_rejected, template=False)
        try:
            return patch_workbook(path.read_bytes(), cells, first, title, _created(week))
        except Unpatchable:
            pass
    cells, layouts = template_fill(raw)
    located = _mark(cells, layouts, issues, submission["file"])
    first = problem_list(issues, located, township, week, submission, newer_rejected, template=True)
    return patch_workbook(blank_template_bytes(), cells, first, title, _created(week))


def problem_list(issues: pd.DataFrame, located: list, township: str, week: str, submission: Mapping,
                 newer_rejected: pd.DataFrame, template: bool) -> ListSheet:
    file = redact_text(str(submission["file"]))
    lines = [f"{township} {week} 报表问题清单（共 {len(issues)} 个问题）",
             f"县上采用的文件：{file}（收到时间 {_when(submission.get('received_at'))}）。有问题的单元格已用橙色标出，"
             "鼠标移到单元格上可看批注；点“转到该单元格”可直接跳过去。",
             "请逐条改正后，把本工作簿整个重新报送（本页可以保留，县上读取时会跳过）。"]
    if template:
        lines.append("县上无法在您报送的文件上直接标注（它不是 .xlsx 工作簿，如 CSV、压缩包、旧版 .xls，或表中已有批注）："
                     "本工作簿是县上下发的模板，填入了县上读到的内容，行号以本工作簿为准（问题说明里的“第N行”是原文件的"
                     "行号）。以后请直接用模板 .xlsx 报送。")
    for row in newer_rejected.itertuples(index=False):
        lines.append(f"您后来报送的「{redact_text(str(row.file))}」未被接收：{redact_text(str(row.reason))}。"
                     "县上本周采用的仍是上面这个文件。")
    lines.append(PRIVATE)
    rows, links = [], {}
    for i, (issue, at) in enumerate(zip(issues.itertuples(index=False), located)):
        label = data_rule(issue.rule)["label"]
        hint = WHAT_TO_WRITE.get(issue.rule, "")
        if at:
            sheet, r, c = at
            links[i] = (sheet, cell_ref(r, c))
            rows.append([i + 1, sheet, r, redact_text(issue.column) or "（整行）", label, redact_text(issue.message), hint])
        else:
            rows.append([i + 1, redact_text(issue.sheet) or "（整个文件）", "", redact_text(issue.column), label,
                         redact_text(issue.message), hint])
    return ListSheet(LIST_SHEET, lines, LIST_COLUMNS, rows, links)


def one_page(title: str, lines: list[str], table: list[tuple[str, str]], sheet: str, week: str) -> bytes:
    """A one-sheet workbook: a title, a table of (item, content), then what to do."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": title, "author": "县脱贫攻坚指挥部", "created": _created(week)})
    big = book.add_format({"bold": True, "font_size": 14, "font_name": "宋体"})
    head = book.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "font_name": "宋体", "valign": "top"})
    text = book.add_format({"text_wrap": True, "valign": "top", "border": 1, "font_name": "宋体"})
    plain = book.add_format({"text_wrap": True, "valign": "top", "font_name": "宋体"})
    ws = book.add_worksheet(sheet)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 80)
    ws.write_string(0, 0, title, big)
    r = 2
    for item, value in table:
        ws.write_string(r, 0, item, head)
        ws.write_string(r, 1, value, text)
        r += 1
    r += 1
    for line in lines:
        ws.merge_range(r, 0, r, 1, line, plain)
        ws.set_row(r, 32)
        r += 1
    ws.fit_to_pages(1, 1)
    book.close()
    return normalised(buffer.getvalue(), title, _created(week))


def rejected_workbook(township: str, week: str, files: pd.DataFrame, used: Mapping | None = None) -> bytes:
    """Why each file was not accepted and what to do; `used`: the earlier file the county uses meanwhile."""
    table = []
    for row in files.itertuples(index=False):
        table += [("文件", redact_text(str(row.file))), ("收到时间", _when(row.received_at)),
                  ("未接收原因", redact_text(str(row.reason)))]
    lines = ["怎么办：按上面的“未接收原因”改正后，用县上下发的模板（.xlsx，不要设密码、不要改表头和工作表名称）"
             "重新报送；本周数据以重新报送、被接收的文件为准。",
             "在重新报送并被接收之前，本镇本周的数据县上无法使用，各村评定按缺报处理。", PRIVATE]
    if used is not None:
        table += [("县上采用的文件", f"{redact_text(str(used['file']))}（收到时间 {_when(used.get('received_at'))}，"
                                    "未发现需要改正的问题）")]
        lines[1] = "在重新报送并被接收之前，县上本周使用上面“县上采用的文件”中的数据。"
    return one_page(f"{township} {week} 报表未被接收", lines, table, "未接收原因", week)


def receipt_workbook(township: str, week: str, submission: Mapping) -> bytes:
    table = [("文件", redact_text(str(submission["file"]))), ("收到时间", _when(submission.get("received_at")))]
    table += [(f"读到的行数：{key[len('rows_'):]}", str(int(value))) for key, value in submission.items()
              if key.startswith("rows_") and value is not None and not pd.isna(value)]
    lines = ["县上已收到并采用本镇本周的报表，没有发现需要改正的问题。请核对上面读到的行数与本镇台账是否一致。"]
    return one_page(f"{township} {week} 报表已收到，未发现问题", lines, table, "报送回执", week)


# Everything a feedback workbook's bytes depend on besides its township's rows: this module, the patcher, the
# reader that reads the file again, the blank template and the labels of the data rules.
FEEDBACK_SOURCES = (PROJECT_ROOT / "tasks" / "feedback.py", PROJECT_ROOT / "tasks" / "feedback_xlsx.py",
                    PROJECT_ROOT / "tasks" / "ingest", PROJECT_ROOT / "evalprep" / "blank_template.py",
                    PROJECT_ROOT / "evalprep" / "template.py", PROJECT_ROOT / "evalprep" / "redaction.py",
                    PROJECT_ROOT / "expectations" / "catalogue.yaml")


@lru_cache(maxsize=1)
def feedback_fingerprint() -> str:
    from importlib.metadata import version

    return sources_fingerprint(FEEDBACK_SOURCES, *(f"{p} {version(p)}" for p in ("xlsxwriter", "openpyxl")))


def feedback_store(archive_dir: Path) -> DocumentStore:
    """Feedback workbooks made, by the content hash of what they are made from, kept beside the archive (they hold
    the archived files' personal data unmasked: as private as the archive, never under OUT but in feedback/)."""
    return DocumentStore(archive_dir)


def _stored_unmasked(store: DocumentStore, key: str, data: bytes) -> None:
    """The one place evalprep writes personal data unmasked: a township's own workbook back to that township
    (the clerk must see the ID number that is wrong), stored beside the archive and linked into that township's
    feedback/ file. Everything else goes through evalprep/redaction.py."""
    store.put(key, ".xlsx", data)


def township_feedback(code: str, name: str, week: str, files: pd.DataFrame, issues: pd.DataFrame,
                      archive_dir: Path, max_bytes: int, reader: IsolatedReader | None = None) -> bytes:
    """The feedback workbook of one township from its rows of submissions.csv and issues.csv."""
    label = f"{name}（{code}）"
    used = files[files["used"].astype(bool)]
    if not len(used):
        return rejected_workbook(label, week, files[files["status"] == REJECTED])
    winner = used.iloc[-1].to_dict()
    newer = files[(files["status"] == REJECTED) & (files["received_at"].astype(str) > str(winner["received_at"]))]
    if not len(issues):
        return receipt_workbook(label, week, winner)
    if not (issues["file"] == winner["file"]).any():  # only a newer file's rejection to tell: nothing to mark
        return rejected_workbook(label, week, newer, used=winner)
    path = archived_path(archive_dir, str(winner["sha256"]))
    try:
        if path is None:
            raise FileNotFoundError(f"archived file of {winner['file']} ({winner['sha256']})")
        return marked_workbook(path, issues, label, week, winner, newer, max_bytes, reader)
    except (Rejected, Unpatchable, OSError, ValueError, KeyError, IndexError) as exc:
        # One township's odd workbook never stops the county run: its problems listed on the blank template.
        LOG.warning("%s：反馈工作簿无法在原文件上标注（%s），只列出问题", label, type(exc).__name__)
        listing = problem_list(issues, [None] * len(issues), label, week, winner, newer, template=True)
        return patch_workbook(blank_template_bytes(), {}, listing, f"{label} {week} 报表问题反馈", _created(week))


def write_feedback(stage: Path, week: str, submissions: pd.DataFrame, issues: pd.DataFrame, archive_dir: Path,
                   max_bytes: int) -> list[str]:
    """Every township that sent a file this run gets its feedback workbook under stage/feedback/; returns the
    paths written (relative to stage). Townships that sent nothing get none; a file whose township could not be
    told (rejected, no township in its name) has nobody to go back to. A workbook whose inputs (the township's
    rows of submissions.csv and issues.csv, the code that makes it) did not change since an earlier run is linked
    from the store instead of made again: the file is not read a second time."""
    written, store = [], feedback_store(archive_dir)
    sent = submissions[(submissions["status"] != "missing") & submissions["township_code"].fillna("").astype(bool)]
    with reader_if_enabled() as reader:  # as ingest read the files
        for code, files in sent.groupby("township_code", sort=True):
            name = str(files["township_name"].iloc[0] or "")
            own = issues[issues["township_code"] == code].reset_index(drop=True)
            key = digest("feedback", str(code), name, week, files.reset_index(drop=True), own, max_bytes,
                         feedback_fingerprint())
            if not store.has(key, (".xlsx",)):
                data = township_feedback(str(code), name, week, files, own, archive_dir, max_bytes, reader)
                _stored_unmasked(store, key, data)
            relative = feedback_path(str(code), name, week)
            store.link(key, ".xlsx", stage / relative)
            written.append(relative)
    return written
