"""Departments answer back (issue 13, item 3): answers filled into the department spreadsheet come back into
the next week's lists, dossiers and store, bad cells and broken files are reported, and answers persist."""
from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from expectations.catalogue import load_profile
from tasks.answers import attach_answers, dossier_answers, load_answers, record_answers
from tasks.departments import with_answers
from tasks.ingest.department_answers import (
    DepartmentFile, department_answers, find_answer_header, match_department,
)

PROFILE = load_profile("xunyang-2016")
FIRST, ANSWERED, NEXT = "2016-W38", "2016-W39", "2016-W40"
SOLUTION = "镇村联动逐户核查，十月底前完成硬化"
MECHANISM = "周调度、月通报"
ASSESSMENT = "纳入年度目标责任考核"
LONG = "很长的解决办法" * 60  # 420 characters: over the 300 a cell may hold


def pdf_text(path: Path) -> str:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text)


def sheet_rows(path: Path, sheet: str = "问题清单") -> tuple[list[str], list[dict]]:
    book = openpyxl.load_workbook(path)
    rows = list(book[sheet].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return header, [dict(zip(header, r)) for r in rows[1:]]


# ------------------------------------------------------------------------------------------- small parts

def _items() -> pd.DataFrame:
    return pd.DataFrame({"department": ["水利局", "水利局", "交通运输局"], "item_id": ["V-WATER:1", "V-WATER:2", "V-ROAD:1"],
                         "village_code": ["1", "2", "1"]})


def test_attach_answers_keys_on_department_and_item_and_keeps_the_frame():
    answers = pd.DataFrame([{"department": "水利局", "item_id": "V-WATER:2", "solution": "打井", "answer_responsible": "王五",
                             "week": "2016-W38"},
                            {"department": "交通运输局", "item_id": "V-WATER:1", "solution": "不是它的", "week": "2016-W38"}])
    frame = _items().assign(other=[1, 2, 3])
    out = attach_answers(frame, answers)
    assert list(out["item_id"]) == list(frame["item_id"]) and list(out["other"]) == [1, 2, 3]
    assert list(out["solution"]) == ["", "打井", ""] and list(out["answer_week"]) == ["", "2016-W38", ""]
    assert list(attach_answers(frame, None)["solution"]) == ["", "", ""]


def test_stored_answers_hold_until_a_newer_week_answers_again(tmp_path):
    first = pd.DataFrame([{"department": "水利局", "item_id": "V-WATER:1", "solution": "旧办法", "answer_responsible": "甲"}])
    second = pd.DataFrame([{"department": "水利局", "item_id": "V-WATER:1", "solution": "新办法", "answer_responsible": "乙"}])
    record_answers(tmp_path, "p", "2016-W37", first)
    assert load_answers(tmp_path, "p", "2016-W40")["solution"].tolist() == ["旧办法"]
    record_answers(tmp_path, "p", "2016-W39", second)
    assert load_answers(tmp_path, "p", "2016-W40")["solution"].tolist() == ["新办法"]
    assert load_answers(tmp_path, "p", "2016-W38")["solution"].tolist() == ["旧办法"]  # a rerun of an earlier week
    assert load_answers(tmp_path, "p", "2016-W36").empty
    assert record_answers(tmp_path, "p", "2016-W41", second.iloc[0:0]) is None


def test_unanswered_items_come_first_after_the_no_project_items():
    from tests.test_departments import ITEMS

    own = ITEMS[ITEMS["department"] == "住建局"]
    last = own.iloc[0]
    answered = pd.DataFrame([{"department": "住建局", "item_id": last["item_id"], "solution": "统规自建",
                              "answer_responsible": "李四", "week": "2016-W38"}])
    ordered = with_answers(own, answered, PROFILE)
    assert ordered["item_id"].iloc[-1] == last["item_id"] and not ordered["unanswered"].iloc[-1]
    assert ordered["unanswered"].iloc[:-1].all()


def test_headers_are_found_in_any_order_and_variant():
    rows = [["交通局问题清单回复"], [], ["责任人", "措施", "问题编号", "主要负责人"], ["张三", "修路", "V-ROAD:1", "李四"]]
    header = find_answer_header(rows)
    assert header.row == 2
    assert header.columns == {0: "answer_responsible", 1: "solution", 2: "item_id", 3: "answer_lead"}
    assert find_answer_header([["ITEM_ID", "解决 办法*", "措施"]]).columns == {0: "item_id", 1: "solution"}  # any case
    assert match_department("旬阳县交通运输局", list(PROFILE.departments)) == "交通运输局"
    assert match_department("发改局（移民搬迁办）", list(PROFILE.departments)) == "发改局(移民搬迁办)"


def test_a_file_naming_no_department_and_a_wrong_department_are_reported(tmp_path):
    rows = [["问题编号", "解决办法", "部门"], ["V-ROAD:1", "修路", ""], ["V-WATER:1", "打井", "交通运输局"],
            ["V-WATER:2", "打井", "不存在局"]]
    files = [DepartmentFile("回复.xlsx", "x", "", {"Sheet1": rows})]
    got = department_answers(files, _items(), tmp_path, PROFILE, "2016-W39")
    assert got.new.empty
    assert list(zip(got.issues["row"], got.issues["rule"])) == [
        (2, "DA-DEPARTMENT"), (3, "DA-ITEM-DEPARTMENT"), (4, "DA-DEPARTMENT")]
    assert got.files["status"].tolist() == ["rejected"]


def test_the_newest_file_wins_per_item_and_a_rejected_cell_keeps_the_earlier_answer(tmp_path):
    """By hand: last week 水利局 answered V-WATER:1 and V-WATER:2; this week an older file answers V-WATER:1, a newer
    one answers it again with an over-long 解决办法 and a 工作责任人, and a date that is not one for V-WATER:2."""
    record_answers(tmp_path, PROFILE.name, "2016-W38", pd.DataFrame([
        {"department": "水利局", "item_id": "V-WATER:1", "solution": "旧办法", "answer_responsible": "甲"},
        {"department": "水利局", "item_id": "V-WATER:2", "solution": "打井", "due_date": "2016-11-30"}]))
    older = DepartmentFile("水利局-1.xlsx", "a", "", {"问题清单": [["问题编号", "解决办法"], ["V-WATER:1", "新办法"]]})
    newer = DepartmentFile("水利局-2.xlsx", "b", "", {"问题清单": [
        ["问题编号", "解决办法", "工作责任人", "计划完成日期"], ["V-WATER:1", LONG, "乙", None],
        ["V-WATER:2", None, None, "十一月底"]]})
    got = department_answers([older, newer], _items(), tmp_path, PROFILE, "2016-W39")
    current = got.current.set_index("item_id")
    # V-WATER:1: the newer file's row replaces the older file's whole; its too-long 解决办法 keeps the answer in
    # force before that file (the older file's 新办法), its 工作责任人 is taken
    assert (current.loc["V-WATER:1", "solution"], current.loc["V-WATER:1", "answer_responsible"]) == ("新办法", "乙")
    assert current.loc["V-WATER:1", "file"] == "水利局-2.xlsx"
    # V-WATER:2: the bad date is not taken, last week's date stays; the solution cell was blank in the new row
    assert (current.loc["V-WATER:2", "due_date"], current.loc["V-WATER:2", "solution"]) == ("2016-11-30", "")
    assert sorted(got.issues["rule"]) == ["DA-DATE", "DA-TOO-LONG"]
    assert got.files["status"].tolist() == ["accepted", "accepted_with_issues"]


def _bomb_xlsx(path: Path, member: str, data: bytes) -> None:
    """An .xlsx-shaped zip whose one worksheet member holds `data` (deflated: a few KB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(member, data)


def test_bombs_among_department_files_are_rejected_and_the_other_files_read(tmp_path):
    """Department files go through the township files' limits and isolation (limits.py, a child process under
    the memory ceiling): a sheet declaring 91 million cells, a zip bomb (a 40 MB sheet in 40 KB) and a file
    over max_file_bytes, dropped beside a good answer file, are each one rejected file in department_issues;
    the good file's answer is taken and the stage goes on."""
    from tasks.ingest.department_answers import read_department_files
    from tasks.publish import write_csv

    week_dir = tmp_path / "inbox" / "2016-W39"
    folder = week_dir / "departments"
    folder.mkdir(parents=True)
    book = openpyxl.Workbook()
    book.active.append(["问题编号", "解决办法"])
    book.active.append(["V-ROAD:1", "修路"])
    book.save(folder / "交通运输局.xlsx")
    _bomb_xlsx(folder / "水利局.xlsx", "xl/worksheets/sheet1.xml",
               b'<worksheet><dimension ref="A1:Z3500000"/><sheetData/></worksheet>')
    _bomb_xlsx(folder / "财政局.xlsx", "xl/worksheets/sheet1.xml", b"<worksheet>" + b" " * (40 << 20) + b"</worksheet>")
    (folder / "民政局.csv").write_bytes(b"x" * (2 << 20))

    files = read_department_files(week_dir, "2016-W39", tmp_path / "archive", max_bytes=1 << 20)
    got = department_answers(files, _items(), tmp_path / "history", PROFILE, "2016-W39")

    status = got.files.set_index("file")["status"].to_dict()
    assert status == {"交通运输局.xlsx": "accepted", "水利局.xlsx": "rejected", "财政局.xlsx": "rejected",
                      "民政局.csv": "rejected"}
    assert got.new[["department", "item_id", "solution"]].values.tolist() == [["交通运输局", "V-ROAD:1", "修路"]]
    rejected = got.issues.set_index("file")
    assert set(rejected["rule"]) == {"DQ-FILE-TOO-LARGE"} and len(rejected) == 3
    assert "91,000,000" in rejected.loc["水利局.xlsx", "message"] or "3,500,000" in rejected.loc["水利局.xlsx", "message"]
    write_csv(tmp_path / "out" / "department_issues.csv", got.issues)
    written = pd.read_csv(tmp_path / "out" / "department_issues.csv", dtype=str, encoding="utf-8-sig")
    assert sorted(written["file"]) == ["民政局.csv", "水利局.xlsx", "财政局.xlsx"]


def test_a_file_that_is_no_spreadsheet_is_reported_not_dropped(tmp_path, monkeypatch):
    """A department that sends its answers as a PDF learns it, as a township would (DQ-FILE-TYPE)."""
    from tasks.ingest.department_answers import read_department_files

    monkeypatch.setenv("EVALPREP_INGEST_ISOLATION", "0")
    folder = tmp_path / "2016-W39" / "departments"
    folder.mkdir(parents=True)
    (folder / "交通运输局回复.pdf").write_bytes(b"%PDF-1.4\n%answers printed\n")
    (folder / "~$交通运输局.xlsx").write_bytes(b"lock")
    files = read_department_files(tmp_path / "2016-W39", "2016-W39", tmp_path / "archive", max_bytes=1 << 20)
    got = department_answers(files, _items(), tmp_path / "history", PROFILE, "2016-W39")
    assert got.files[["file", "department", "status"]].values.tolist() == [["交通运输局回复.pdf", "交通运输局", "rejected"]]
    assert got.issues["rule"].tolist() == ["DQ-FILE-TYPE"] and "PDF" in got.issues.loc[0, "message"]


# --------------------------------------------------------------------------------- through the weekly flow

def _run(inbox: Path, week: str, out: Path, reference: Path) -> Path:
    from flows.weekly import weekly_county_run

    return Path(weekly_county_run(inbox=str(inbox), week=week, out=str(out), reference=str(reference)))


def _fill(source: Path, target: Path, answer: list[str], long_item: str, unknown_item: str) -> dict:
    """The department's filled-in file, as a clerk would send it: a title row above the header, the columns
    shuffled, header variants (主要负责人, 责任人), no 说明 sheet (the department is in the file name)."""
    header, rows = sheet_rows(source)
    rename = {"工作主抓人": "主要负责人", "工作责任人": "责任人"}
    order = header[:]
    random.Random(13).shuffle(order)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "问题清单"
    sheet.append(["部门问题清单回复（请勿改动问题编号）"])
    sheet.append([rename.get(h, h) for h in order])
    written = {}
    for row in rows:
        item = row["问题编号"]
        if item in answer:
            row = {**row, "解决办法": SOLUTION, "工作机制": MECHANISM, "工作主抓人": f"主抓{len(written)}",
                   "工作责任人": f"责任{len(written)}", "具体考核机制": ASSESSMENT, "计划完成日期": "2016年11月30日"}
            written[item] = row
        if item == long_item:
            row = {**row, "解决办法": LONG, "工作责任人": "赵六"}
        sheet.append([row.get(h) for h in order])
    sheet.append([{"问题编号": unknown_item, "解决办法": "无此问题"}.get(h) for h in order])
    book.save(target)
    return written


@pytest.fixture(scope="module")
def patient_harness():
    """Prefect's test harness with room to start on a loaded machine (the shared one gives up after 120 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=600):
        yield


@pytest.mark.slow
def test_answers_come_back_into_the_next_weeks_documents_and_persist(small_county, patient_harness, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("EVALPREP_DATA_DIR", str(tmp_path / "data"))
    inbox, out, reference = tmp_path / "inbox", tmp_path / "out", small_county / "reference"
    for week in (FIRST, ANSWERED):
        shutil.copytree(small_county / "inbox" / week, inbox / week)
    first = _run(inbox, FIRST, out, reference)

    # the department with the most items that still fit the PDF's printed rows answers all but two of them
    sizes = {p: len(sheet_rows(p)[1]) for p in (first / "departments").glob("*.xlsx")}
    source = max((p for p, n in sizes.items() if 4 <= n <= 40), key=lambda p: sizes[p])
    department = source.stem
    header, rows = sheet_rows(source)
    assert header[1] == "问题编号" and {"工作机制", "解决办法", "工作主抓人", "工作责任人", "具体考核机制", "计划完成日期"} <= set(header)
    fill = openpyxl.load_workbook(source)["问题清单"]
    colours = {c.value: c.fill.fgColor.rgb for c in fill[1]}
    assert colours["解决办法"] == colours["具体考核机制"] != colours["问题编号"]
    assert not fill.protection.sheet
    items = [r["问题编号"] for r in rows]
    assert all(re.fullmatch(r"[A-Z]+-[A-Z-]+:\S+", i) for i in items)
    answer, long_item, left = items[2:], items[1], items[0]

    returned = inbox / ANSWERED / "departments"
    returned.mkdir()
    written = _fill(source, returned / f"{department}回复.xlsx", answer, long_item, "V-ROAD:999999999999")
    (returned / "坏文件.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    second = _run(inbox, ANSWERED, out, reference)

    # the reports: the file accepted with its two problems located, the broken file rejected
    files = pd.read_csv(second / "departments.csv", dtype=str, keep_default_na=False).set_index("file")
    assert files.loc[f"{department}回复.xlsx", "status"] == "accepted_with_issues"
    assert files.loc[f"{department}回复.xlsx", "department"] == department
    assert files.loc["坏文件.xlsx", "status"] == "rejected" and files.loc["坏文件.xlsx", "reason"]
    issues = pd.read_csv(second / "department_issues.csv", dtype=str, keep_default_na=False)
    header_row = 2  # the title row, then the header
    long_row = header_row + 1 + items.index(long_item)  # Excel rows: the first item is right under the header
    located = set(zip(issues["file"], issues["sheet"], issues["row"], issues["column"], issues["rule"]))
    assert (f"{department}回复.xlsx", "问题清单", str(long_row), "解决办法", "DA-TOO-LONG") in located
    assert any(r == "DA-ITEM-UNKNOWN" and row == str(header_row + 1 + len(items))
               for r, row in zip(issues["rule"], issues["row"]))
    assert (issues["file"] == "坏文件.xlsx").any()

    # the stored answers: every answered item still on this week's list (one may have been resolved meanwhile:
    # reported as not on the list, like the made-up id)
    listed = {r["问题编号"] for r in sheet_rows(second / "departments" / f"{department}.xlsx")[1]}
    stored = load_answers(tmp_path / "data" / "history", PROFILE.name, ANSWERED).set_index("item_id")
    assert set(written) & listed and set(stored.index) == (set(written) | {long_item}) & listed
    assert len(issues[issues["rule"] == "DA-ITEM-UNKNOWN"]) == 1 + len((set(written) | {long_item}) - listed)
    one = sorted(set(written) & listed)[0]
    assert stored.loc[one, "solution"] == SOLUTION and stored.loc[one, "due_date"] == "2016-11-30"
    assert stored.loc[one, "answer_lead"] == written[one]["工作主抓人"]
    if long_item in listed:
        assert stored.loc[long_item, "solution"] == "" and stored.loc[long_item, "answer_responsible"] == "赵六"

    def check_week(folder: Path) -> None:
        header, listed = sheet_rows(folder / "departments" / f"{department}.xlsx")
        by_item = {r["问题编号"]: r for r in listed}
        kept = [i for i in answer if i in by_item]
        assert kept, "no answered item is still on the list"
        for item in kept:
            assert (by_item[item]["解决办法"], by_item[item]["工作机制"], by_item[item]["具体考核机制"]) == (
                SOLUTION, MECHANISM, ASSESSMENT)
            assert (by_item[item]["工作主抓人"], by_item[item]["工作责任人"]) == (
                written[item]["工作主抓人"], written[item]["工作责任人"])
        order = [r["问题编号"] for r in listed]
        if left in by_item:  # without a solution: listed before every answered item
            assert order.index(left) < min(order.index(i) for i in kept)
        text = pdf_text(folder / "departments" / f"{department}.pdf")
        assert f"解决办法：{SOLUTION}" in text and written[kept[0]]["工作责任人"] in text
        assert "部门未回复" in text or left not in by_item
        village = by_item[kept[0]]["村代码"]
        dossier = next((folder / "dossiers").rglob(f"{village}*.pdf"))
        text = pdf_text(dossier)
        assert "责任部门回复" in text and SOLUTION in text

    check_week(second)

    # one more week with the same township files and no department file: the answers persist, nothing recorded
    shutil.copytree(inbox / ANSWERED, inbox / NEXT, ignore=shutil.ignore_patterns("departments"))
    store = tmp_path / "data" / "history" / PROFILE.name / "answers.parquet"
    before = store.read_bytes()
    third = _run(inbox, NEXT, out, reference)
    check_week(third)
    assert store.read_bytes() == before
    assert pd.read_csv(third / "departments.csv").empty
