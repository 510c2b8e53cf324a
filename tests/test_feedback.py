"""Feedback workbook per township (issue 13, item 1): the township's own workbook back, exactly the cells of
issues.csv marked and listed, readable by openpyxl and LibreOffice, resubmitted corrected through the real
ingest and accepted without those problems; a rejected township and a clean one get one page; same bytes."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from evalprep import idcard
from evalprep.template import sheets, vocabularies
from tasks.feedback import LIST_SHEET, feedback_name, feedback_store, write_feedback
from tasks.feedback_xlsx import MARK_FILL
from tasks.ingest.references import load_register
from tasks.ingest.week import OFFICE_TZ, ingest_week
from tests.conftest import LAST_WEEK

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "ingest" / "fixtures"
REFERENCE = ROOT / "data" / "reference"
WEEK = "2016-W39"
SHUHE = "610928103"
LIMIT = 10 * 1024 * 1024
FILE = f"{SHUHE}_蜀河镇_{WEEK}.xlsx"


@pytest.fixture(autouse=True)
def _parse_in_process(monkeypatch):
    """Workbooks parsed in this process (the child-process memory ceiling is not what is tested here)."""
    monkeypatch.setenv("EVALPREP_INGEST_ISOLATION", "0")


def drop(inbox: Path, source: Path, name: str, hour: int = 9) -> Path:
    target = inbox / name
    shutil.copytree(source, target) if source.is_dir() else shutil.copyfile(source, target)
    stamp = dt.datetime(2016, 10, 3, hour, tzinfo=OFFICE_TZ).timestamp()
    os.utime(target, (stamp, stamp))
    return target


def sent(ingest) -> pd.Series:
    """The one received file's row of submissions.csv (the other townships are `missing`)."""
    rows = ingest.submissions[ingest.submissions["status"] != "missing"]
    assert len(rows) == 1
    return rows.iloc[0]


def run(tmp_path: Path, files: list[tuple[Path, str]], tag: str = "a"):
    """The real ingest on an inbox holding `files`, then the feedback workbooks into a folder of their own."""
    inbox = tmp_path / f"inbox-{tag}" / WEEK
    inbox.mkdir(parents=True)
    for hour, (source, name) in enumerate(files, start=8):
        drop(inbox, source, name, hour)
    register = load_register(REFERENCE, REFERENCE)
    archive = tmp_path / "archive"
    ingest = ingest_week(inbox, WEEK, archive, register, LIMIT)
    out = tmp_path / f"out-{tag}"
    written = write_feedback(out, WEEK, ingest.submissions, ingest.issues, archive, LIMIT)
    return ingest, out, written


def marked_cells(path: Path) -> dict[tuple[str, int, int], str]:
    """(sheet, row, column) → comment text of every cell with the mark fill, outside the list sheet."""
    book = openpyxl.load_workbook(path)
    marked = {}
    for ws in book.worksheets:
        if ws.title == LIST_SHEET:
            continue
        for row in ws.iter_rows():
            for cell in row:
                if cell.fill is not None and cell.fill.fgColor is not None and cell.fill.fgColor.rgb == MARK_FILL:
                    marked[(ws.title, cell.row, cell.column)] = cell.comment.text if cell.comment else ""
    return marked


def header_positions(original: Path) -> dict[str, dict[str, tuple[int, int]]]:
    """Sheet → header text → (row, column), read from the submitted file itself (its first 15 rows)."""
    book = CalamineWorkbook.from_path(str(original))
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for r, row in enumerate(rows[:15], start=1):
            for c, value in enumerate(row, start=1):
                text = str(value).strip()
                if text:
                    found.setdefault(name, {}).setdefault(text.lstrip("*"), (r, c))
    return found


def expected_cells(issues: pd.DataFrame, original: Path, file: str | None = None) -> set[tuple[str, int, int]]:
    """Each issue of the file with a sheet and a column: its cell, or its column's header cell (no row)."""
    headers = header_positions(original)
    out = set()
    for issue in issues.itertuples(index=False):
        if issue.file != (file or original.name) or not issue.sheet or not issue.column:
            continue
        header_row, column = headers[issue.sheet][issue.column]
        out.add((issue.sheet, header_row if pd.isna(issue.row) else int(issue.row), column))
    return out


def test_exactly_the_cells_of_issues_csv_are_marked_commented_and_listed(tmp_path):
    ingest, out, written = run(tmp_path, [(FIXTURES / "bad_values.xlsx", FILE)])
    assert written == [f"feedback/{feedback_name(SHUHE, '蜀河镇', WEEK)}"]
    path = out / written[0]
    issues = ingest.issues[ingest.issues["township_code"] == SHUHE]
    assert len(issues) == 5
    marked = marked_cells(path)
    assert set(marked) == expected_cells(issues, FIXTURES / "bad_values.xlsx", FILE)
    for issue in issues.itertuples(index=False):  # the comment: rule, what is wrong, what to write
        comment = next(text for (sheet, row, _), text in marked.items() if sheet == issue.sheet and row == issue.row
                       and issue.message in text)
        assert "应填写" in comment
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == LIST_SHEET and book.active.title == LIST_SHEET
    assert book.sheetnames[1:] == openpyxl.load_workbook(FIXTURES / "bad_values.xlsx").sheetnames
    listing = book[LIST_SHEET]
    rows = [r for r in listing.iter_rows(min_row=1) if isinstance(r[0].value, int)]
    assert len(rows) == len(issues)
    links = {cell.hyperlink.location for r in rows for cell in r if cell.hyperlink is not None}
    assert links == {f"'{sheet}'!{openpyxl.utils.get_column_letter(c)}{r}" for sheet, r, c in marked}
    assert {r[5].value for r in rows} == set(issues["message"])
    assert not [ws.title for ws in book.worksheets if any(v.tabSelected for v in ws.views.sheetView)
                and ws.title != LIST_SHEET]  # one selected tab: sheets never open grouped


def valid_value(sheet_name: str, header: str, rule: str, old: object) -> object:
    """What a clerk would write in the cell to put it right."""
    key = next(k for k, s in sheets().items() if s.name == sheet_name)
    column = next(c for c in sheets()[key].columns if c.header == header)
    if rule in ("DQ-VILLAGE-CODE", "DQ-VILLAGE-UNKNOWN"):
        return f"{SHUHE}201"
    if rule == "DQ-DUPLICATE":
        return str(old)[:-4] + "9999"
    if rule.startswith("DQ-ID"):
        return idcard.make("610928", dt.date(1980, 5, 6), 123)
    if column.vocabulary:
        return vocabularies()[column.vocabulary][0]
    return {"bool": "是", "number": 3500, "date": "2016-09-28"}.get(column.kind, "张三")


def resubmit(tmp_path: Path, feedback: Path, name: str, fix) -> tuple:
    """Correct every marked cell of the feedback workbook as sent back (问题清单 kept), save, ingest again."""
    book = openpyxl.load_workbook(feedback)
    for sheet, row, column in marked_cells(feedback):
        cell = book[sheet].cell(row, column)
        header = next(str(book[sheet].cell(r, column).value).lstrip("*") for r in range(1, 4)
                      if book[sheet].cell(r, column).value)
        cell.value = fix(sheet, header, cell.value)
    corrected = tmp_path / "corrected" / name
    corrected.parent.mkdir(parents=True, exist_ok=True)
    book.save(corrected)
    inbox = tmp_path / "again" / WEEK
    inbox.mkdir(parents=True)
    drop(inbox, corrected, name, 11)
    register = load_register(REFERENCE, REFERENCE)
    return ingest_week(inbox, WEEK, tmp_path / "archive-again", register, LIMIT), book


@pytest.mark.parametrize("fixture", ["bad_values.xlsx", "duplicate_household.xlsx", "foreign_village_code.xlsx",
                                     "id_scientific.xlsx"])
def test_the_corrected_copy_is_accepted_as_sent_back_and_its_problems_are_gone(tmp_path, fixture):
    ingest, out, written = run(tmp_path, [(FIXTURES / fixture, FILE)])
    issues = ingest.issues[ingest.issues["township_code"] == SHUHE]
    rules = {(i.sheet, i.row, i.column): i.rule for i in issues.itertuples(index=False)}
    assert rules

    def fix(sheet, header, old):
        return valid_value(sheet, header, next(r for (s, _, c), r in rules.items() if s == sheet and c == header), old)

    again, _ = resubmit(tmp_path, out / written[0], FILE, fix)
    outcome = sent(again)
    assert (outcome["status"], outcome["township_code"]) == ("accepted", SHUHE), outcome["reason"]
    assert again.issues.empty  # the problems marked are gone, and 问题清单 was read as no data sheet
    first, _, _ = run(tmp_path, [(FIXTURES / fixture, FILE)], tag="rows")
    read = {k: len(v) for k, v in again.tables.items()}
    before = {k: len(v) for k, v in first.tables.items()}
    dropped = 1 if fixture in ("duplicate_household.xlsx", "foreign_village_code.xlsx") else 0
    assert read["households"] == before["households"] + dropped and read["members"] == before["members"]


def gbk_folder_with_bad_cells(tmp_path: Path) -> Path:
    """The GBK CSV folder fixture with a word in a number column and a blank required cell."""
    folder = tmp_path / "src" / "蜀河镇_csv"
    shutil.copytree(FIXTURES / "蜀河镇_gbk_csv", folder)
    path = next(p for p in folder.iterdir() if p.stem == "贫困户")
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("gb18030"))))
    header = rows[0]
    rows[1][header.index("人均纯收入(元)")] = "三千多"
    rows[2][header.index("户主姓名")] = ""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode("gb18030"))
    return folder


def test_a_csv_folder_comes_back_as_the_template_filled_with_what_was_read(tmp_path):
    source = gbk_folder_with_bad_cells(tmp_path)
    ingest, out, written = run(tmp_path, [(source, "610928103_蜀河镇_csv")])
    assert sent(ingest)["status"] == "accepted_with_issues"
    path = out / written[0]
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == LIST_SHEET and "字典" in book.sheetnames  # the template, its lists' source kept
    households = book["贫困户"]
    assert households.data_validations.dataValidation  # the template's drop-down lists
    header = {str(c.value).lstrip("*"): c.column for c in households[1]}
    assert set(marked_cells(path)) == {("贫困户", 2, header["人均纯收入(元)"]), ("贫困户", 3, header["户主姓名"])}
    assert households.cell(2, header["人均纯收入(元)"]).value == "三千多"
    again, _ = resubmit(tmp_path, path, "610928103_蜀河镇_重报.xlsx",
                        lambda sheet, column, old: 3500 if column == "人均纯收入(元)" else "张三")
    assert sent(again)["status"] == "accepted" and again.issues.empty
    assert len(again.tables["households"]) == len(ingest.tables["households"])
    assert len(again.tables["members"]) == len(ingest.tables["members"])


def test_a_rejected_township_gets_one_page_with_the_reason_and_what_to_do(tmp_path):
    ingest, out, written = run(tmp_path, [(FIXTURES / "encrypted.xlsx", FILE)])
    reason = sent(ingest)["reason"]
    book = openpyxl.load_workbook(out / written[0])
    assert book.sheetnames == ["未接收原因"]
    text = [c.value for row in book.active.iter_rows() for c in row if c.value]
    assert reason in text and any(str(t).startswith("怎么办") for t in text)


def test_a_township_without_problems_gets_a_receipt_and_a_missing_one_nothing(tmp_path):
    ingest, out, written = run(tmp_path, [(FIXTURES / "610928103_蜀河镇_2016-W39.xlsx", FILE)])
    assert ingest.issues.empty
    assert written == [f"feedback/{feedback_name(SHUHE, '蜀河镇', WEEK)}"]  # the 20 townships that sent nothing: none
    book = openpyxl.load_workbook(out / written[0])
    assert book.sheetnames == ["报送回执"]
    assert "未发现问题" in book.active["A1"].value


def test_same_inputs_same_bytes_with_fixed_dates(tmp_path):
    files = [(FIXTURES / "bad_values.xlsx", FILE), (FIXTURES / "encrypted.xlsx", "610928104_双河镇_2016-W39.xlsx")]
    _, first, written = run(tmp_path, files, "one")
    _, second, again = run(tmp_path, files, "two")
    assert written == again and len(written) == 2
    for relative in written:
        data = (first / relative).read_bytes()
        assert data == (second / relative).read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
            core = archive.read("docProps/core.xml").decode("utf-8")
        assert "2016-10-02T00:00:00Z" in core  # the week's Sunday, not the time of the run


def test_the_problem_list_prints_one_landscape_page_wide(tmp_path):
    import openpyxl

    _, out, written = run(tmp_path, [(FIXTURES / "bad_values.xlsx", FILE)])
    sheet = openpyxl.load_workbook(out / written[0])["问题清单"]
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed (developer check)")
def test_libreoffice_opens_the_feedback_workbook(tmp_path):
    _, out, written = run(tmp_path, [(FIXTURES / "bad_values.xlsx", FILE)])
    done = subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"),
                           str(out / written[0])], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and (tmp_path / "pdf" / Path(written[0]).with_suffix(".pdf").name).stat().st_size


# ---- through the real weekly flow -----------------------------------------------------------------------------

@pytest.mark.slow
def test_the_weekly_run_publishes_one_feedback_workbook_per_township_for_it_alone(small_run, small_county):
    feedback = sorted((small_run / "feedback").glob("*.xlsx"))
    submissions = pd.read_csv(small_run / "submissions.csv", dtype=str, keep_default_na=False)
    assert [p.name for p in feedback] == sorted(feedback_name(c, n, LAST_WEEK) for c, n in
                                                zip(submissions["township_code"], submissions["township_name"]))
    issues = pd.read_csv(small_run / "issues.csv", dtype={"township_code": str, "row": "Int64"}, keep_default_na=False)
    issues["row"] = issues["row"].astype("object").where(issues["row"].notna(), None)
    originals = {p.name: p for p in (small_county / "inbox" / LAST_WEEK).iterdir()}
    ids = {code: set(re.findall(r"\d{17}[\dX]", " ".join(zipfile.ZipFile(originals[f]).read(n).decode("utf-8", "replace")
                                                         for n in zipfile.ZipFile(originals[f]).namelist())))
           for code, f in zip(submissions["township_code"], submissions["file"])}
    for code, file, path in zip(submissions["township_code"], submissions["file"], feedback):
        own = issues[issues["township_code"] == code]
        assert own.empty or set(marked_cells(path)) == expected_cells(own, originals[file])
        with zipfile.ZipFile(path) as archive:
            text = " ".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
        numbers = set(re.findall(r"(?<!\d)\d{17}[\dX](?!\d)", text))
        others = set().union(*(v for k, v in ids.items() if k != code))
        assert numbers <= ids[code] and not numbers & others
    assert "feedback/" not in (small_run / "index.html").read_text(encoding="utf-8")


def test_a_workbook_not_patched_safely_comes_back_as_the_filled_template(tmp_path):
    """A sheet that already has comments (the clerk's own) is not patched: the template filled instead."""
    book = openpyxl.load_workbook(FIXTURES / "bad_values.xlsx")
    book["贫困户"]["A1"].comment = openpyxl.comments.Comment("镇上自己的批注", "张三")
    source = tmp_path / "commented.xlsx"
    book.save(source)
    ingest, out, written = run(tmp_path, [(source, FILE)])
    path = out / written[0]
    result = openpyxl.load_workbook(path)
    assert result.sheetnames[0] == LIST_SHEET and "字典" in result.sheetnames
    assert len(marked_cells(path)) == len(ingest.issues) == 5
    listing = [c.value for row in result[LIST_SHEET].iter_rows() for c in row if isinstance(c.value, str)]
    assert any("县上下发的模板" in text for text in listing)


def test_a_lost_archived_file_lists_the_problems_and_the_run_goes_on(tmp_path):
    ingest, out, written = run(tmp_path, [(FIXTURES / "bad_values.xlsx", FILE)])
    for folder in (tmp_path / "archive").glob("??/*"):
        shutil.rmtree(folder)
    again = write_feedback(tmp_path / "out-lost", WEEK, ingest.submissions, ingest.issues, tmp_path / "archive", LIMIT)
    book = openpyxl.load_workbook(tmp_path / "out-lost" / again[0])
    listing = book[LIST_SHEET]
    assert [r[0].value for r in listing.iter_rows() if isinstance(r[0].value, int)] == [1, 2, 3, 4, 5]


def test_the_winning_file_is_read_again_under_the_ingest_memory_ceiling(tmp_path, monkeypatch):
    """The feedback stage reads a township's file again in a child process under the ingest ceiling, as ingest
    did (isolated.py): a file the child cannot read within it (here: a ceiling of 0 MB) costs that township its
    marks only — its problems are listed on the template — and the stage goes on."""
    ingest, _, _ = run(tmp_path, [(FIXTURES / "bad_values.xlsx", FILE)])
    shutil.rmtree(feedback_store(tmp_path / "archive").root)  # made again, not linked from the first run's
    monkeypatch.setenv("EVALPREP_INGEST_ISOLATION", "1")
    monkeypatch.setenv("EVALPREP_INGEST_MEMORY_MB", "0")
    [again] = write_feedback(tmp_path / "out-ceiling", WEEK, ingest.submissions, ingest.issues, tmp_path / "archive",
                             LIMIT)
    path = tmp_path / "out-ceiling" / again
    assert marked_cells(path) == {}
    listing = openpyxl.load_workbook(path)[LIST_SHEET]
    assert [r[0].value for r in listing.iter_rows() if isinstance(r[0].value, int)] == [1, 2, 3, 4, 5]


def listed(path: Path) -> int:
    return sum(isinstance(r[0].value, int) for r in openpyxl.load_workbook(path)[LIST_SHEET].iter_rows())


def test_an_unchanged_township_gets_its_stored_workbook_without_its_file_being_read_again(tmp_path):
    """A rerun whose township rows did not change links the workbook made before (same bytes, and the archived
    file is not read: here it is gone); a changed issue list makes a new workbook, from the file."""
    ingest, out, [first] = run(tmp_path, [(FIXTURES / "bad_values.xlsx", FILE)])
    assert marked_cells(out / first) and listed(out / first) == len(ingest.issues)
    archived = next((tmp_path / "archive").rglob(FILE))
    kept = archived.read_bytes()
    archived.unlink()
    [again] = write_feedback(tmp_path / "rerun", WEEK, ingest.submissions, ingest.issues, tmp_path / "archive", LIMIT)
    assert (tmp_path / "rerun" / again).read_bytes() == (out / first).read_bytes()
    fewer = ingest.issues.iloc[1:].reset_index(drop=True)
    [blind] = write_feedback(tmp_path / "blind", WEEK, ingest.submissions, fewer, tmp_path / "archive", LIMIT)
    assert marked_cells(tmp_path / "blind" / blind) == {}  # made anew, and without the file it can only list
    archived.write_bytes(kept)
    shutil.rmtree(feedback_store(tmp_path / "archive").root)
    [changed] = write_feedback(tmp_path / "changed", WEEK, ingest.submissions, fewer, tmp_path / "archive", LIMIT)
    assert marked_cells(tmp_path / "changed" / changed) and listed(tmp_path / "changed" / changed) == len(fewer)
