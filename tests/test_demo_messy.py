"""Messy mode of the demo generator against the pipeline's pure functions: every file's outcome, every issue,
the rows that reach validation and the grades are exactly the manifest's (no Prefect)."""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from demo import build_county, generate_demo
from evalprep.template import sheets
from expectations.catalogue import load_profile
from tasks.assess import assess_readiness
from tasks.criteria_frames import criteria_frames
from tasks.ingest.references import load_register
from tasks.ingest.week import ingest_week
from tasks.quality_issues import merged_issues
from tasks.validate import validate_profile

SEED = 2016
WEEKS = ["2016-W36", "2016-W37", "2016-W38", "2016-W39"]
PROFILE = load_profile("xunyang-2016")
LIMIT = 50 * 1024 * 1024
TABLES = ("households", "members", "villages", "surveys", "projects")


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("messy-county")
    manifest = generate_demo(root, seed=SEED, small=True, messy=True)
    return root, manifest


@pytest.fixture(scope="module")
def runs(messy, tmp_path_factory) -> dict:
    """Each week through ingestion, criteria frames, GX validation, merged issues and readiness."""
    root, manifest = messy
    register = load_register(root / "reference", root / "reference")
    archive = tmp_path_factory.mktemp("archive")
    out = {}
    for week in WEEKS:
        ingest = ingest_week(week_dir=root / "inbox" / week, week=week, archive_dir=archive, register=register,
                             max_bytes=LIMIT)
        as_of = dt.date.fromisoformat(manifest["by_week"][week]["as_of"])
        frames = criteria_frames(ingest.tables, as_of, PROFILE)
        validation = validate_profile(frames, PROFILE)
        issues = merged_issues(ingest.issues, frames, validation.failures, ingest.headers)
        readiness = assess_readiness(frames, validation.failures, PROFILE)
        out[week] = {"ingest": ingest, "frames": frames, "issues": issues, "readiness": readiness}
    return out


def _located(issues: pd.DataFrame) -> set[tuple]:
    rows = [None if pd.isna(r) else int(r) for r in issues["row"]]
    return set(zip(issues["file"], issues["sheet"], rows, issues["column"], issues["rule"]))


def _county_townships(root: Path) -> set[str]:
    villages = pd.read_csv(root / "reference" / "villages.csv", dtype=str)
    return set(villages["township_code"])


# ---- the plan covers every bad shape -------------------------------------------------------------------------


def test_every_bad_shape_is_generated(messy):
    _, manifest = messy
    files = [f for b in manifest["by_week"].values() for f in b["files"]]
    forms = {f["form"] for f in files}
    assert forms == {"xlsx", "csv_dir", "csv_zip", "empty", "corrupt", "not_excel", "encrypted"}
    rules = {f["expected_rule"] for f in files if f["expected_status"] == "rejected"}
    assert rules == {"DQ-FILE-EMPTY", "DQ-FILE-CORRUPT", "DQ-FILE-TYPE", "DQ-FILE-ENCRYPTED", "DQ-SHEET-MISSING",
                     "DQ-COLUMN-MISSING"}
    issues = {i["rule"] for b in manifest["by_week"].values() for i in b["issues"]}
    assert issues >= {"DQ-ID-SCIENTIFIC", "DQ-ID-CHECK", "DQ-DICT", "DQ-NUMBER", "DQ-DATE", "DQ-BOOL", "DQ-REQUIRED",
                      "DQ-VILLAGE-CODE", "DQ-VILLAGE-UNKNOWN", "DQ-TOWNSHIP", "DQ-DUPLICATE", "DQ-ROW-NO-KEY",
                      "DQ-UNKNOWN-COLUMN"}
    statuses = {f["expected_status"] for f in files}
    assert statuses == {"accepted", "accepted_with_issues", "rejected"}
    assert any(not f["on_time"] and f["used"] for f in files)  # a late file still counts
    assert any(f["expected_status"] != "rejected" and not f["used"] for f in files)  # superseded by a newer one
    assert any(b["missing_townships"] for b in manifest["by_week"].values())
    assert not manifest["by_week"]["2016-W39"]["missing_townships"]
    names = {f["file"] for f in files}
    assert any("(修改版)" in n for n in names)


def test_files_are_in_the_forms_they_claim(messy):
    root, manifest = messy
    for week, block in manifest["by_week"].items():
        for f in block["files"]:
            path = root / f["path"]
            stamp = dt.datetime.fromisoformat(f["mtime"]).timestamp()
            assert path.stat().st_mtime == stamp, f["file"]
            assert (dt.datetime.fromisoformat(f["mtime"]) <= dt.datetime.fromisoformat(block["deadline"])) == f["on_time"]
            head = b"" if path.is_dir() else path.read_bytes()[:8]
            if f["form"] == "csv_dir":
                data = (path / "贫困户.csv").read_bytes()
                with pytest.raises(UnicodeDecodeError):
                    data.decode("utf-8")
                assert data.decode("gbk").startswith("户编号")
            elif f["form"] == "csv_zip":
                with zipfile.ZipFile(path) as archive:
                    assert sorted(archive.namelist()) == sorted(
                        f"{s}.csv" for s in ("填报说明", "贫困户", "家庭成员", "村基本情况", "满意度调查", "双七项目"))
                    assert archive.read("贫困户.csv").startswith("\ufeff户编号".encode("utf-8"))
            elif f["form"] == "empty":
                assert path.stat().st_size == 0
            elif f["form"] == "encrypted":
                assert head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            elif f["form"] == "not_excel":
                assert not head.startswith(b"PK")
            else:
                assert head.startswith(b"PK\x03\x04")


def test_encrypted_file_is_an_encrypted_office_document(messy):
    msoffcrypto = pytest.importorskip("msoffcrypto")
    root, manifest = messy
    [f] = [f for b in manifest["by_week"].values() for f in b["files"] if f["form"] == "encrypted"]
    office = msoffcrypto.OfficeFile(io.BytesIO((root / f["path"]).read_bytes()))
    assert office.is_encrypted()


def test_same_seed_same_bytes_and_times(messy, tmp_path):
    root, manifest = messy
    again = tmp_path / "again"
    assert generate_demo(again, seed=SEED, small=True, messy=True) == manifest
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (root / rel).read_bytes() == (again / rel).read_bytes(), rel
        if rel.parts[0] == "inbox":
            assert (root / rel).stat().st_mtime == (again / rel).stat().st_mtime, rel


# ---- the pipeline gives exactly the manifest ----------------------------------------------------------------


@pytest.mark.parametrize("week", WEEKS)
def test_file_outcomes_equal_the_manifest(messy, runs, week):
    root, manifest = messy
    block = manifest["by_week"][week]
    ingest = runs[week]["ingest"]
    received = ingest.submissions[ingest.submissions["file"] != ""]
    got = {r.file: (r.township_code, r.status, bool(r.used)) for r in received.itertuples()}
    want = {f["file"]: (f["township_code"], f["expected_status"], f["used"]) for f in block["files"]}
    assert got == want
    reported = ingest.issues
    for f in block["files"]:
        if f["expected_rule"]:
            mine = reported[reported["file"] == f["file"]]
            assert f["expected_rule"] in set(mine["rule"]), f["file"]
    if "on_time" in received:
        assert {r.file: bool(r.on_time) for r in received.itertuples()} == {f["file"]: f["on_time"] for f in block["files"]}
    if "status" in ingest.submissions and (ingest.submissions["status"] == "missing").any():
        missing = set(ingest.submissions.loc[ingest.submissions["status"] == "missing", "township_code"])
        assert missing & _county_townships(root) == set(block["missing_townships"])


@pytest.mark.parametrize("week", WEEKS)
def test_issues_equal_the_manifest_exactly(messy, runs, week):
    _, manifest = messy
    want = {(i["file"], i["sheet"], i["row"], i["column"], i["rule"]) for i in manifest["by_week"][week]["issues"]}
    got = _located(runs[week]["issues"])
    assert got - want == set(), "reported but not expected"
    assert want - got == set(), "expected but not reported"
    assert len(runs[week]["issues"]) == len(manifest["by_week"][week]["issues"])  # one report per cell and rule


@pytest.mark.parametrize("week", WEEKS)
def test_clean_rows_of_a_partly_bad_submission_reach_validation(messy, runs, week):
    _, manifest = messy
    frames = runs[week]["frames"]
    used = [f for f in manifest["by_week"][week]["files"] if f["used"]]
    assert used
    for f in used:
        for key in TABLES:
            assert (frames[key]["_file"] == f["file"]).sum() == f["rows"][key], (f["file"], key)
    for key in TABLES:
        assert len(frames[key]) == sum(f["rows"][key] for f in used), key


@pytest.mark.parametrize("week", WEEKS)
def test_grades_equal_the_truth_of_what_reached_validation(messy, runs, week):
    _, manifest = messy
    truth = manifest["by_week"][week]["villages"]
    villages = runs[week]["readiness"].villages.set_index("village_code")
    assert sorted(villages.index) == sorted(truth)
    for code, expected in truth.items():
        row = villages.loc[code]
        assert row["grade"] == expected["grade"], code
        assert sorted(row["failing_criteria"]) == expected["failing_criteria"], code
        assert row["households"] == expected["households"], code
    households = runs[week]["readiness"].households
    failing = {h: sorted(c) for h, c in zip(households["household_id"], households["failing_criteria"]) if len(c)}
    assert failing == manifest["by_week"][week]["households_failing"]


KEYS = {"households": "household_id", "members": "person_id", "villages": "village_code", "surveys": "survey_id",
        "projects": "project_id"}


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


@pytest.fixture(scope="module")
def county():
    return build_county(SEED, small=True)


@pytest.mark.parametrize("week", WEEKS)
def test_every_value_form_reads_back_to_the_canonical_value(messy, runs, county, week):
    """Title rows, merged headers, 3,100元, 2016年9月28日, Y/√/1, lower-case x, full-width digits …: every cell
    that reaches the tables equals the county's canonical value, except the cells an issue is reported at."""
    _, manifest = messy
    canonical = county.frames(week)
    ingest = runs[week]["ingest"]
    written = {(f, s, c): w for f, s, c, w in ingest.headers[["file", "sheet", "column", "written"]].itertuples(index=False)}
    flagged = {(i["file"], i["sheet"], i["row"], i["column"]) for i in manifest["by_week"][week]["issues"]}
    compared = 0
    for key, id_column in KEYS.items():
        got = ingest.tables[key]
        want = canonical[key].set_index(id_column)
        assert got[id_column].is_unique
        for column in sheets()[key].column_names:
            if column == id_column:
                continue
            expected = want[column].reindex(got[id_column]).tolist()
            for value, should, file, sheet, row in zip(got[column].tolist(), expected, got["_file"], got["_sheet"], got["_row"]):
                compared += 1
                if (_missing(value) and _missing(should)) or (not _missing(value) and value == should):
                    continue
                assert (file, sheet, int(row), written[(file, sheet, column)]) in flagged, (key, column, row, value, should)
    assert compared > 40_000


def test_an_oversized_file_is_rejected_and_the_others_still_read(messy, tmp_path):
    """Oversized files are not generated: a small limit makes the week's workbooks 'enormous'."""
    root, manifest = messy
    week = "2016-W37"
    limit = 4096
    register = load_register(root / "reference", root / "reference")
    ingest = ingest_week(week_dir=root / "inbox" / week, week=week, archive_dir=tmp_path / "archive",
                         register=register, max_bytes=limit)
    got = {r.file: r.status for r in ingest.submissions.itertuples() if r.file}
    rules = {(r.file, r.rule) for r in ingest.issues.itertuples()}
    for f in manifest["by_week"][week]["files"]:
        path = root / f["path"]
        size = sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else path.stat().st_size
        if size > limit:
            assert got[f["file"]] == "rejected" and (f["file"], "DQ-FILE-TOO-LARGE") in rules, f["file"]
        else:
            assert got[f["file"]] == f["expected_status"], f["file"]
    assert not any(ingest.submissions["used"])


def test_manifest_is_written(messy):
    root, manifest = messy
    assert json.loads((root / "manifest.json").read_text("utf-8")) == manifest
    assert manifest["messy"] is True
