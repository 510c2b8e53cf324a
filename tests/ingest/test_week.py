"""A week's inbox: archive first, newest accepted file wins, same bytes change nothing, completeness."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

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
