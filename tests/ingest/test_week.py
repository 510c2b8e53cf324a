"""A week's inbox: archive first, newest accepted file wins, same bytes change nothing, completeness."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from tasks.ingest.archive import content_hash
from tasks.ingest.references import load_register
from tasks.ingest.week import OFFICE_TZ, Deadline, ingest_week

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
WEEK = "2016-W39"  # ends Sunday 2016-10-02; due Monday 2016-10-03 12:00 by default
SHUHE, SHUANGHE = "610928103", "610928104"


def drop(inbox: Path, fixture: str, name: str, when: dt.datetime) -> Path:
    target = inbox / name
    source = FIXTURES / fixture
    shutil.copytree(source, target) if source.is_dir() else shutil.copyfile(source, target)
    stamp = when.replace(tzinfo=OFFICE_TZ).timestamp()
    os.utime(target, (stamp, stamp))
    return target


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "inbox" / WEEK
    folder.mkdir(parents=True)
    return folder


def ingest(inbox: Path, tmp_path: Path, **kwargs):
    register = load_register(REFERENCE, REFERENCE)
    return ingest_week(inbox, WEEK, tmp_path / "archive", register, 10 * 1024 * 1024, **kwargs)


def test_every_file_is_archived_unchanged_before_parsing_even_a_rejected_one(inbox, tmp_path):
    files = [drop(inbox, "corrupt.xlsx", "610928104_双河镇_2016-W39.xlsx", dt.datetime(2016, 10, 3, 8)),
             drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "610928103_蜀河镇_2016-W39.xlsx", dt.datetime(2016, 10, 3, 9))]
    result = ingest(inbox, tmp_path)
    for path in files:
        sha = content_hash(path)
        archived = tmp_path / "archive" / sha[:2] / sha / path.name
        assert archived.read_bytes() == path.read_bytes()
    statuses = dict(zip(result.submissions["file"], result.submissions["status"]))
    assert statuses["610928104_双河镇_2016-W39.xlsx"] == "rejected"
    assert statuses["610928103_蜀河镇_2016-W39.xlsx"] == "accepted"  # one bad township does not stop the others
    assert len(result.tables["households"]) == 2


def test_the_same_bytes_sent_again_change_nothing(inbox, tmp_path):
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "first.xlsx", dt.datetime(2016, 10, 3, 9))
    first = ingest(inbox, tmp_path)
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "again.xlsx", dt.datetime(2016, 10, 3, 10))
    second = ingest(inbox, tmp_path)
    receipts = (tmp_path / "archive" / "receipts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["file"] for r in receipts] == ["first.xlsx"]
    assert second.submissions[second.submissions["file"] != ""]["file"].tolist() == ["first.xlsx"]
    assert len(second.tables["households"]) == len(first.tables["households"]) == 2


def test_the_newest_accepted_submission_wins_and_earlier_issues_go(inbox, tmp_path):
    drop(inbox, "bad_values.xlsx", "蜀河镇第39周.xlsx", dt.datetime(2016, 10, 3, 8))
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "蜀河镇第39周(修改版).xlsx", dt.datetime(2016, 10, 3, 11))
    result = ingest(inbox, tmp_path)
    shuhe = result.submissions[result.submissions["township_code"] == SHUHE].set_index("file")
    assert shuhe["used"].to_dict() == {"蜀河镇第39周.xlsx": False, "蜀河镇第39周(修改版).xlsx": True}
    assert result.issues.empty
    assert set(result.tables["households"]["_file"]) == {"蜀河镇第39周(修改版).xlsx"}


def as_shuanghe(source: Path, target: Path) -> Path:
    """The clean 蜀河镇 fixture as 双河镇's: its codes and name replaced in every text cell."""
    book = openpyxl.load_workbook(source)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = cell.value.replace(SHUHE, SHUANGHE).replace("蜀河镇", "双河镇")
    book.save(target)
    return target


def test_tables_follow_the_township_code_not_the_arrival(inbox, tmp_path):
    """A township that sends again arrives last, yet its rows keep their place: every document made from a
    county-wide frame keeps its key (tasks/document_store.py), so a resubmission re-renders only its own."""
    shuanghe = as_shuanghe(FIXTURES / "610928103_蜀河镇_2016-W39.xlsx", tmp_path / "610928104_双河镇_2016-W39.xlsx")
    drop(inbox, shuanghe, shuanghe.name, dt.datetime(2016, 10, 3, 8))
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "610928103_蜀河镇_2016-W39.xlsx", dt.datetime(2016, 10, 3, 9))
    first = ingest(inbox, tmp_path)
    drop(inbox, "value_forms.xlsx", "610928103_蜀河镇_2016-W39(修改版).xlsx", dt.datetime(2016, 10, 3, 11))
    again = ingest(inbox, tmp_path)
    for result in (first, again):  # arrival order would put 双河镇 (…104) first
        codes = result.tables["households"]["township_code"].tolist()
        assert codes == sorted(codes) and set(codes) == {SHUHE, SHUANGHE}
    files = again.tables["households"].drop_duplicates("township_code").set_index("township_code")["_file"]
    assert files[SHUHE] == "610928103_蜀河镇_2016-W39(修改版).xlsx"


def test_a_newer_rejected_file_keeps_the_older_data_and_says_why(inbox, tmp_path):
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "610928103_蜀河镇_2016-W39.xlsx", dt.datetime(2016, 10, 3, 8))
    drop(inbox, "empty.xlsx", "610928103_蜀河镇_2016-W39(修改版).xlsx", dt.datetime(2016, 10, 3, 11))
    result = ingest(inbox, tmp_path)
    assert len(result.tables["households"]) == 2
    assert result.issues["rule"].tolist() == ["DQ-FILE-EMPTY"]
    assert result.issues["township_code"].tolist() == [SHUHE]


def test_completeness_and_timeliness_per_township(inbox, tmp_path):
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "a.xlsx", dt.datetime(2016, 10, 3, 12, 0))  # on the minute: on time
    drop(inbox, "value_forms.xlsx", "b.xlsx", dt.datetime(2016, 10, 3, 12, 1))  # 蜀河镇 again, late
    result = ingest(inbox, tmp_path, townships=(SHUHE, SHUANGHE))
    rows = result.submissions.set_index(["township_code", "file"])
    assert rows.loc[(SHUHE, "a.xlsx"), "on_time"] and not rows.loc[(SHUHE, "b.xlsx"), "on_time"]
    assert rows.loc[(SHUHE, "b.xlsx"), "used"]
    assert rows.loc[(SHUANGHE, ""), "status"] == "missing"
    assert rows.loc[(SHUHE, "a.xlsx"), "deadline"] == "2016-10-03T12:00:00+08:00"


def test_every_township_of_the_county_is_expected_unless_narrowed(inbox, tmp_path):
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "a.xlsx", dt.datetime(2016, 10, 3, 9))
    result = ingest(inbox, tmp_path)
    assert len(result.submissions) == 21
    assert (result.submissions["status"] == "missing").sum() == 20


def test_a_narrowed_run_passes_over_other_townships_files_unread(inbox, tmp_path):
    """An inspection of one township does not load the other townships' parsed tables (their entry's JSON
    names the township); a county run still reads, and checks, every one."""
    shuanghe = as_shuanghe(FIXTURES / "610928103_蜀河镇_2016-W39.xlsx", tmp_path / "610928104_双河镇_2016-W39.xlsx")
    drop(inbox, shuanghe, shuanghe.name, dt.datetime(2016, 10, 3, 8))
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "610928103_蜀河镇_2016-W39.xlsx", dt.datetime(2016, 10, 3, 9))
    whole = ingest(inbox, tmp_path)
    parsed = sorted((tmp_path / "archive" / ".parsed").rglob("households.parquet"))
    assert len(parsed) == 2
    other = next(p for p in parsed if (p.parent / "entry.json").read_text(encoding="utf-8").count(SHUANGHE))
    other.write_bytes(b"cut short")  # read, it would fail its hash and the file would be parsed again
    narrowed = ingest(inbox, tmp_path, townships=(SHUHE,))
    assert other.read_bytes() == b"cut short"
    assert set(narrowed.tables["households"]["township_code"]) == {SHUHE}
    assert narrowed.tables["households"].equals(whole.tables["households"][whole.tables["households"]["township_code"] == SHUHE]
                                                .reset_index(drop=True))
    assert set(narrowed.submissions["township_code"]) == {SHUHE}
    again = ingest(inbox, tmp_path)  # the county run reads it, finds it damaged, parses the file again
    assert other.read_bytes() != b"cut short" and again.tables["households"].equals(whole.tables["households"])


def test_deadline_is_configurable():
    assert Deadline(day=2, time="18:30").for_week(WEEK) == dt.datetime(2016, 10, 4, 18, 30, tzinfo=OFFICE_TZ)


def test_missing_week_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        ingest(tmp_path / "nope", tmp_path)


def test_a_file_parsed_once_is_not_parsed_again_until_it_or_the_context_changes(inbox, tmp_path, monkeypatch):
    from tasks.ingest import parsed

    monkeypatch.setenv("EVALPREP_INGEST_ISOLATION", "0")  # parse in this process, where the call is counted
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "蜀河镇.xlsx", dt.datetime(2016, 10, 3, 9))
    first = ingest(inbox, tmp_path)
    assert list((tmp_path / "archive" / parsed.PARSED_FOLDER).rglob(parsed.ENTRY))
    calls = []
    real = parsed.read_submission
    monkeypatch.setattr(parsed, "read_submission", lambda *a: calls.append(a[0].name) or real(*a))
    again = ingest(inbox, tmp_path)
    assert calls == []
    for key, frame in first.tables.items():
        assert frame.equals(again.tables[key]), key
    assert first.issues.equals(again.issues) and first.submissions.equals(again.submissions)
    register = load_register(REFERENCE, REFERENCE)
    ingest_week(inbox, WEEK, tmp_path / "archive", register, 5 * 1024 * 1024)  # another size limit: parsed again
    assert calls == ["蜀河镇.xlsx"]
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "蜀河镇-改.xlsx", dt.datetime(2016, 10, 3, 10))  # same bytes, another name
    ingest(inbox, tmp_path)
    assert calls == ["蜀河镇.xlsx"]  # the same bytes again change nothing


def opendocument(sheet_text: str = "户编号") -> bytes:
    """A minimal OpenDocument spreadsheet as LibreOffice writes it: `mimetype` stored first, then the content."""
    import io
    import zipfile

    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
               '<office:spreadsheet><table:table table:name="建档立卡户"><table:table-row><table:table-cell '
               f'office:value-type="string"><text:p>{sheet_text}</text:p></table:table-cell></table:table-row>'
               '</table:table></office:spreadsheet></office:body></office:document-content>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                         'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>', zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def put(inbox: Path, name: str, data: bytes, when: dt.datetime) -> Path:
    target = inbox / name
    target.write_bytes(data)
    stamp = when.replace(tzinfo=OFFICE_TZ).timestamp()
    os.utime(target, (stamp, stamp))
    return target


XIAOHE, ZHAOWAN = "610928105", "610928106"


def test_every_received_file_is_archived_and_listed_whatever_its_format(inbox, tmp_path):
    when = dt.datetime(2016, 10, 3, 9)
    files = [put(inbox, "610928104_双河镇_2016-W39.ods", opendocument(), when),
             put(inbox, "610928105_小河镇_2016-W39.xlsx", opendocument("户主"), when + dt.timedelta(minutes=1)),  # .ods renamed
             put(inbox, "610928106_赵湾镇_2016-W39.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
                 when + dt.timedelta(minutes=2))]
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "610928103_蜀河镇_2016-W39.xlsx", when)
    result = ingest(inbox, tmp_path, townships=(SHUHE, SHUANGHE, XIAOHE, ZHAOWAN))
    for path in files:
        sha = content_hash(path)
        assert (tmp_path / "archive" / sha[:2] / sha / path.name).read_bytes() == path.read_bytes()
    rows = result.submissions.set_index("file")
    for path, code in zip(files, (SHUANGHE, XIAOHE, ZHAOWAN)):
        assert rows.loc[path.name, "status"] == "rejected", path.name
        assert rows.loc[path.name, "township_code"] == code
        assert "另存为 .xlsx 后重新报送" in rows.loc[path.name, "reason"]
        assert ".xls、.et" in rows.loc[path.name, "reason"] and ".csv" in rows.loc[path.name, "reason"]  # what is accepted
    assert "OpenDocument 表格（.ods）" in rows.loc["610928104_双河镇_2016-W39.ods", "reason"]
    assert "OpenDocument" in rows.loc["610928105_小河镇_2016-W39.xlsx", "reason"]  # not "corrupt", not "same format"
    assert "损坏" not in rows.loc["610928105_小河镇_2016-W39.xlsx", "reason"]
    assert "PDF" in rows.loc["610928106_赵湾镇_2016-W39.pdf", "reason"]
    assert "missing" not in set(result.submissions["status"])  # each of the four townships sent something
    issues = result.issues.set_index("file")
    assert set(issues.loc[[p.name for p in files], "rule"]) == {"DQ-FILE-TYPE"}
    assert rows.loc["610928103_蜀河镇_2016-W39.xlsx", "status"] == "accepted"


def test_a_file_of_no_township_is_kept_in_a_narrowed_run(inbox, tmp_path):
    put(inbox, "扫描件.jpg", b"\xff\xd8\xff\xe0 not a table", dt.datetime(2016, 10, 3, 9))
    result = ingest(inbox, tmp_path, townships=(SHUHE,))
    row = result.submissions[result.submissions["file"] == "扫描件.jpg"].iloc[0]
    assert (row["status"], row["township_code"]) == ("rejected", "")
    assert "文件格式（.jpg）不是表格" in row["reason"]


def test_hidden_files_lock_files_and_the_departments_folder_are_not_submissions(inbox, tmp_path):
    from evalprep.inbox import DEPARTMENTS_FOLDER, received_files

    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "a.xlsx", dt.datetime(2016, 10, 3, 9))
    (inbox / ".DS_Store").write_bytes(b"\0")
    (inbox / "~$a.xlsx").write_bytes(b"lock")
    (inbox / DEPARTMENTS_FOLDER).mkdir()
    (inbox / DEPARTMENTS_FOLDER / "answers.xlsx").write_bytes(b"x")
    (inbox / "说明.txt").write_text("本周数据", encoding="utf-8")
    assert [p.name for p in received_files(inbox)] == ["a.xlsx", "说明.txt"]
    result = ingest(inbox, tmp_path, townships=(SHUHE,))
    assert sorted(result.submissions["file"]) == ["a.xlsx", "说明.txt"]


def test_row_counts_are_whole_numbers_and_empty_when_unknown(inbox, tmp_path):
    from evalprep.redaction import csv_bytes
    from evalprep.template import sheets

    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "a.xlsx", dt.datetime(2016, 10, 3, 9))
    drop(inbox, "empty.xlsx", "610928103_蜀河镇_空.xlsx", dt.datetime(2016, 10, 3, 10))
    result = ingest(inbox, tmp_path, townships=(SHUHE, SHUANGHE))
    text = csv_bytes(result.submissions).decode("utf-8-sig")
    import csv as csv_module
    import io as io_module

    rows = list(csv_module.DictReader(io_module.StringIO(text)))
    counts = [k for k in rows[0] if k.startswith("rows_")]
    assert counts
    by_file = {r["file"]: r for r in rows}
    assert all(by_file["a.xlsx"][k].isdigit() for k in counts), by_file["a.xlsx"]  # 2, never 2.0
    assert by_file["a.xlsx"][f"rows_{sheets()['households'].name}"] == "2"
    assert all(by_file[""][k] == "" for k in counts)  # the missing township: unknown, empty
    assert all(by_file["610928103_蜀河镇_空.xlsx"][k] == "" for k in counts)
    assert ".0" not in text.replace("2016-", "")
