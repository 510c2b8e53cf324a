"""The parsed-workbook cache: Parquet + JSON, never pickle; used only when it is whole, untampered and for
these very bytes (issue 12, item 7)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evalprep.files import write_atomic
from tasks.ingest import parsed
from tasks.ingest.archive import content_hash
from tasks.ingest.references import load_register
from tasks.ingest.submission import read_submission
from tasks.ingest.week import OFFICE_TZ, ingest_week

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
WEEK = "2016-W39"
LIMIT = 10 * 1024 * 1024
SHUHE, SHUANGHE = "610928103", "610928104"
SHUHE_FILE, SHUANGHE_FILE = "610928103_蜀河镇_2016-W39.xlsx", "双河镇.xlsx"


def shuanghe_workbook(path: Path) -> None:
    """The fixture township's workbook moved to 双河镇: another township's data."""
    from tests.ingest.fixtures.make_fixtures import base_rows, write_workbook

    def moved(value):
        return value.replace("610928103", SHUANGHE).replace("蜀河镇", "双河镇") if isinstance(value, str) else value

    data = {sheet: [{k: moved(v) for k, v in row.items()} for row in rows] for sheet, rows in base_rows().items()}
    write_workbook(path, data)


class RunsCode:
    """Unpickling this creates a file: proof that a planted pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def register():
    return load_register(REFERENCE, REFERENCE)


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "inbox" / WEEK
    folder.mkdir(parents=True)
    for hour, name in enumerate(("bad_values.xlsx", SHUHE_FILE, SHUANGHE_FILE), start=8):
        target = folder / name
        shutil.copyfile(FIXTURES / name, target) if name != SHUANGHE_FILE else shuanghe_workbook(target)
        stamp = dt.datetime(2016, 10, 3, hour, tzinfo=OFFICE_TZ).timestamp()
        os.utime(target, (stamp, stamp))
    return folder


def ingest(inbox: Path, tmp_path: Path, register):
    return ingest_week(inbox, WEEK, tmp_path / "archive", register, LIMIT)


def key_of(inbox: Path, name: str, register) -> tuple[str, str]:
    sha = content_hash(inbox / name)
    return parsed.entry_key(sha, name, parsed.parse_context(register, LIMIT)), sha


def counting(monkeypatch) -> list[str]:
    monkeypatch.setenv("EVALPREP_INGEST_ISOLATION", "0")  # parse in this process, where the call is counted
    calls: list[str] = []
    real = parsed.read_submission
    monkeypatch.setattr(parsed, "read_submission", lambda *a: calls.append(a[0].name) or real(*a))
    return calls


def assert_same(first, again):
    for key, frame in first.tables.items():
        pd.testing.assert_frame_equal(frame, again.tables[key], check_dtype=True)
    pd.testing.assert_frame_equal(first.issues, again.issues)
    pd.testing.assert_frame_equal(first.submissions, again.submissions)
    pd.testing.assert_frame_equal(first.headers, again.headers)


def test_a_kept_entry_is_parquet_and_json_and_gives_back_exactly_what_parsing_gave(inbox, tmp_path, register, monkeypatch):
    first = ingest(inbox, tmp_path, register)
    assert not list((tmp_path / "archive").rglob("*.pickle"))
    key, sha = key_of(inbox, SHUHE_FILE, register)
    folder = parsed.entry_dir(tmp_path / "archive", key)
    assert sorted(p.suffix for p in folder.iterdir()) == [".json"] + [".parquet"] * 7
    entry = json.loads((folder / parsed.ENTRY).read_text(encoding="utf-8"))
    assert (entry["sha256"], entry["key"], entry["township_code"]) == (sha, key, SHUHE)
    calls = counting(monkeypatch)
    again = ingest(inbox, tmp_path, register)
    assert calls == []
    assert_same(first, again)
    received = first.submissions[first.submissions["file"] != ""]
    assert dict(zip(received["file"], received["status"])) == {
        "bad_values.xlsx": "accepted_with_issues", SHUHE_FILE: "accepted", SHUANGHE_FILE: "accepted"}
    for name in ("bad_values.xlsx", SHUHE_FILE, SHUANGHE_FILE):  # issues, headers, counts: every field
        key, sha = key_of(inbox, name, register)
        kept = parsed.load_entry(parsed.entry_dir(tmp_path / "archive", key), key, sha, name)
        fresh = read_submission(inbox / name, sha, register, LIMIT)
        for table, frame in fresh.tables.items():
            pd.testing.assert_frame_equal(frame, kept.tables[table], check_dtype=True)
        assert dataclasses.replace(kept, tables={}) == dataclasses.replace(fresh, tables={})
        assert kept.issues or name != "bad_values.xlsx"


def test_a_rejected_file_is_kept_too(tmp_path, register):
    folder = tmp_path / "inbox" / WEEK
    folder.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "corrupt.xlsx", folder / "corrupt.xlsx")
    first = ingest(folder, tmp_path, register)
    key, sha = key_of(folder, "corrupt.xlsx", register)
    kept = parsed.load_entry(parsed.entry_dir(tmp_path / "archive", key), key, sha, "corrupt.xlsx")
    assert kept == read_submission(folder / "corrupt.xlsx", sha, register, LIMIT)
    assert kept.status == "rejected" and kept.issues


def test_a_pickle_planted_where_the_old_cache_kept_entries_is_never_opened(inbox, tmp_path, register):
    key, _ = key_of(inbox, SHUHE_FILE, register)
    marker = tmp_path / "code-ran"
    planted = pickle.dumps(RunsCode(marker))
    old = tmp_path / "archive" / parsed.PARSED_FOLDER / key[:2] / f"{key}.pickle"
    write_atomic(old, planted)
    folder = parsed.entry_dir(tmp_path / "archive", key)
    for name in (parsed.ENTRY, "households.parquet", f"{key}.pickle"):
        write_atomic(folder / name, planted)
    result = ingest(inbox, tmp_path, register)
    assert not marker.exists()
    households = result.tables["households"]
    assert set(households["township_code"]) == {SHUHE, SHUANGHE}
    assert len(households[households["township_code"] == SHUHE]) == 2


def _entry(tmp_path, inbox, name, register) -> tuple[Path, dict]:
    key, _ = key_of(inbox, name, register)
    folder = parsed.entry_dir(tmp_path / "archive", key)
    return folder, json.loads((folder / parsed.ENTRY).read_text(encoding="utf-8"))


def test_another_townships_data_under_the_right_key_is_not_used(inbox, tmp_path, register, monkeypatch):
    first = ingest(inbox, tmp_path, register)
    shuhe, shuhe_entry = _entry(tmp_path, inbox, SHUHE_FILE, register)
    shuanghe, _ = _entry(tmp_path, inbox, SHUANGHE_FILE, register)
    # 1. a Parquet file swapped for the other township's: its hash no longer matches the entry
    shutil.copyfile(shuanghe / "households.parquet", shuhe / "households.parquet")
    calls = counting(monkeypatch)
    again = ingest(inbox, tmp_path, register)
    assert calls == [SHUHE_FILE]
    assert_same(first, again)
    # 2. the same swap with entry.json rewritten to match: the rows name another file and township
    data = (shuanghe / "households.parquet").read_bytes()
    write_atomic(shuhe / "households.parquet", data)
    shuhe_entry["tables"]["households"] = hashlib.sha256(data).hexdigest()
    write_atomic(shuhe / parsed.ENTRY, json.dumps(shuhe_entry, ensure_ascii=False).encode("utf-8"))
    again = ingest(inbox, tmp_path, register)
    assert calls == [SHUHE_FILE, SHUHE_FILE]
    assert_same(first, again)
    # 3. the other township's whole entry copied under this key: it names another source sha256
    shutil.rmtree(shuhe)
    shutil.copytree(shuanghe, shuhe)
    again = ingest(inbox, tmp_path, register)
    assert calls == [SHUHE_FILE] * 3
    assert_same(first, again)


@pytest.mark.parametrize("damage", ["no entry.json", "a table missing", "entry.json cut short", "not Parquet"])
def test_an_incomplete_or_damaged_entry_is_parsed_again_without_crashing(damage, inbox, tmp_path, register, monkeypatch):
    first = ingest(inbox, tmp_path, register)
    folder, _ = _entry(tmp_path, inbox, SHUHE_FILE, register)
    if damage == "no entry.json":
        (folder / parsed.ENTRY).unlink()
    elif damage == "a table missing":
        (folder / "members.parquet").unlink()
    elif damage == "entry.json cut short":
        text = (folder / parsed.ENTRY).read_bytes()
        write_atomic(folder / parsed.ENTRY, text[: len(text) // 2])
    else:
        write_atomic(folder / "households.parquet", b"PAR1 not really")
    calls = counting(monkeypatch)
    again = ingest(inbox, tmp_path, register)
    assert calls == [SHUHE_FILE]
    assert_same(first, again)
    assert parsed.load_entry(folder, *key_of(inbox, SHUHE_FILE, register), SHUHE_FILE) is not None  # rewritten whole
