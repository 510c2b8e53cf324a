"""The rectification ledger (整改台账, tasks/ledger.py): status rules on a hand-made case, stable ids of data
problems, storage in the week history, and the four demo weeks against the generator's truth."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from expectations.catalogue import load_profile
from tasks.history import previous_ledger, record_ledger
from tasks.ledger import (
    FIXED, KIND_DATA, NEW, OPEN, REOPENED, TOWNSHIP_OWNER, advance_ledger, closure, data_items, problem_items,
)

PROFILE = load_profile("xunyang-2016")
EVALUATION = dt.date(2016, 12, 31)
W36, W37, W38 = "2016-W36", "2016-W37", "2016-W38"
SUNDAY = {W36: dt.date(2016, 9, 11), W37: dt.date(2016, 9, 18), W38: dt.date(2016, 9, 25)}


def item(item_id: str, township: str = "610928100", department: str = "交通运输局", kind: str = "criterion",
         deadline: dt.date = dt.date(2016, 11, 1)) -> dict:
    return {"item_id": item_id, "department": department, "township_code": township, "township_name": "城关镇",
            "village_code": township + "201", "village_name": "甲村", "kind": kind, "rule": item_id.split(":")[0],
            "problem": "通村硬化路未达标", "lead": "未明确", "responsible_person": "未明确", "count": 1,
            "deadline": deadline}


def items(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def status(ledger: pd.DataFrame, item_id: str) -> dict:
    return ledger.set_index("item_id").loc[item_id].to_dict()


A, B, C, D = "V-ROAD:610928100201", "V-POWER:610928100201", "V-CLINIC:610928100201", "V-CULTURE:610928100201"
DATA = "DQ-REQUIRED:610928101/households/6109281012010001/head_name"
AWAY = "V-ROAD:610928102201"  # a township that sends nothing in W37
TOWNSHIPS = {"610928100", "610928101", "610928102"}


def three_weeks() -> list[pd.DataFrame]:
    data = item(DATA, township="610928101", department=TOWNSHIP_OWNER, kind=KIND_DATA, deadline=dt.date(2016, 9, 18))
    weeks = [
        (W36, [item(A), item(B), item(C), data, item(AWAY, township="610928102")], TOWNSHIPS),
        (W37, [item(A), item(C), data], TOWNSHIPS - {"610928102"}),  # B fixed, C still open, AWAY not reported
        (W38, [item(A), item(B), item(D), data], TOWNSHIPS),  # B back, C fixed, D new, AWAY fixed
    ]
    ledgers, previous = [], None
    for week, rows, covered in weeks:
        previous = advance_ledger(previous, items(*rows), week, SUNDAY[week], covered)
        ledgers.append(previous)
    return ledgers


def test_statuses_over_three_weeks():
    w36, w37, w38 = three_weeks()
    assert {i: status(w36, i)["status"] for i in (A, B, C, DATA, AWAY)} == dict.fromkeys((A, B, C, DATA, AWAY), NEW)
    assert status(w37, A)["status"] == OPEN and status(w37, A)["weeks_open"] == 2
    assert (status(w37, B)["status"], status(w37, B)["fixed_week"]) == (FIXED, W37)
    assert status(w37, AWAY)["status"] == OPEN  # its township sent nothing: nothing shows it fixed
    a, b, c, d = (status(w38, i) for i in (A, B, C, D))
    assert (a["status"], a["first_seen"], a["weeks_open"]) == (OPEN, W36, 3)
    assert (b["status"], b["reopened"], b["fixed_week"], b["first_seen"]) == (REOPENED, 1, "", W36)
    assert (c["status"], c["fixed_week"]) == (FIXED, W38)
    assert (d["status"], d["first_seen"]) == (NEW, W38)
    assert (status(w38, AWAY)["status"], status(w38, AWAY)["fixed_week"]) == (FIXED, W38)
    # a fixed item stays in the ledger, fixed in the week it went
    w39 = advance_ledger(w38, items(item(A), item(B), item(D)), "2016-W39", dt.date(2016, 10, 2), TOWNSHIPS)
    assert (status(w39, C)["status"], status(w39, C)["fixed_week"]) == (FIXED, W38)
    assert (status(w39, DATA)["status"], status(w39, DATA)["fixed_week"]) == (FIXED, "2016-W39")
    assert status(w39, B)["status"] == OPEN and len(w39) == 6


def test_overdue_on_a_known_date():
    # a data problem first seen in W36 is due with the next week's submission (Sunday of W37)
    w36, w37, w38 = three_weeks()
    assert not status(w37, DATA)["overdue"] and status(w38, DATA)["overdue"]
    assert status(w38, DATA)["deadline"] == dt.date(2016, 9, 18)
    # a criterion is due the catalogue's days before the evaluation: V-ROAD 60 days → 2016-11-01
    road = problem_items(pd.DataFrame([{
        "item_id": A, "department": "交通运输局", "township_code": "610928100", "township_name": "城关镇",
        "village_code": "610928100201", "village_name": "甲村", "kind": "criterion", "code": "V-ROAD",
        "project_id": "", "project_name": "", "owner_gaps": "", "lead": "", "responsible_person": "张三"}]),
        PROFILE, EVALUATION)
    assert road.loc[0, "deadline"] == dt.date(2016, 11, 1) and road.loc[0, "lead"] == "未明确"
    on_time = advance_ledger(None, road, "2016-W44", dt.date(2016, 11, 1), TOWNSHIPS)
    late = advance_ledger(None, road, "2016-W44", dt.date(2016, 11, 2), TOWNSHIPS)
    assert not on_time.loc[0, "overdue"] and late.loc[0, "overdue"]
    fixed_late = advance_ledger(late, road.iloc[0:0], "2016-W45", dt.date(2016, 11, 6), TOWNSHIPS)
    assert fixed_late.loc[0, "status"] == FIXED and not fixed_late.loc[0, "overdue"]


def test_closure_rates_by_department():
    w38 = three_weeks()[-1]
    table = closure(w38, "department").set_index("department")
    assert table.loc["交通运输局", ["items", "fixed", "open", "reopened", "overdue"]].tolist() == [5, 2, 3, 1, 0]
    assert table.loc[TOWNSHIP_OWNER, ["items", "fixed", "overdue"]].tolist() == [1, 0, 1]
    assert table.loc["交通运输局", "rate"] == pytest.approx(0.4)


def test_a_data_problem_keeps_its_id_when_rows_move():
    """The same empty cell of the same household, at another Excel row next week: the same item; another
    household's: another item."""
    def week(rows: dict[int, str], file: str) -> pd.DataFrame:
        frames = {"households": pd.DataFrame({"_file": file, "_sheet": "贫困户", "_row": list(rows),
                                              "household_id": list(rows.values()), "township_code": "610928101"})}
        issues = pd.DataFrame([{"township_code": "610928101", "file": file, "sheet": "贫困户", "row": r,
                                "column": "户主姓名", "rule": "DQ-REQUIRED", "severity": "error", "message": "",
                                "village_code": "610928101201"} for r in rows])
        headers = pd.DataFrame([{"file": file, "sheet": "贫困户", "column": "head_name", "written": "户主姓名"}])
        return data_items(issues, frames, headers, {"610928101": "吕河镇"}, W36)

    first = week({5: "6109281012010001", 9: "6109281012010002"}, "610928101_吕河镇_2016-W36.xlsx")
    moved = week({12: "6109281012010001"}, "610928101_吕河镇_2016-W37.xlsx")
    assert set(moved["item_id"]) < set(first["item_id"]) and len(set(first["item_id"])) == 2
    assert moved.loc[0, "item_id"] == "DQ-REQUIRED:610928101/households/6109281012010001/head_name"
    assert moved.loc[0, "department"] == TOWNSHIP_OWNER and moved.loc[0, "township_name"] == "吕河镇"


def test_history_keeps_the_ledger_by_week(tmp_path):
    w36, w37, _ = three_weeks()
    record_ledger(tmp_path, "xunyang-2016", W36, w36)
    record_ledger(tmp_path, "xunyang-2016", W37, w37)
    assert previous_ledger(tmp_path, "xunyang-2016", W36) is None
    assert previous_ledger(tmp_path, "xunyang-2016", W37)["item_id"].tolist() == w36["item_id"].tolist()
    again = previous_ledger(tmp_path, "xunyang-2016", W38)
    assert again["status"].tolist() == w37["status"].tolist()
    # computed from what is stored, the next week is the same as from the frame in memory
    nxt = advance_ledger(again, items(item(A)), W38, SUNDAY[W38], TOWNSHIPS)
    assert nxt.equals(advance_ledger(w37, items(item(A)), W38, SUNDAY[W38], TOWNSHIPS))


# --------------------------------------------------------------------------------- the four demo weeks

DEMO_WEEKS = ["2016-W36", "2016-W37", "2016-W38", "2016-W39"]
RESENT = "2016-W40"


@pytest.fixture(scope="module")
def demo_ledgers(small_county, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The ledger of each demo week, the stages called as plain functions (no PDFs), each week computed from
    the previous week's ledger as stored in the history."""
    from pathlib import Path

    from evalprep.weeks import week_sunday
    from tasks.assess import assess_readiness
    from tasks.criteria_frames import criteria_frames
    from tasks.departments import department_problem_list
    from tasks.ingest.references import load_register
    from tasks.ingest.week import ingest_week
    from tasks.ledger import week_ledger
    from tasks.quality_issues import merged_issues
    from tasks.validate import validate_profile

    reference = Path(__file__).resolve().parents[1] / "data" / "reference"
    register = load_register(small_county / "reference", reference)
    work = tmp_path_factory.mktemp("ledger-weeks")
    # a fifth week in which every township sends its W36 workbook again: what was fixed since comes back
    import shutil

    shutil.copytree(small_county / "inbox" / DEMO_WEEKS[0], work / "inbox" / RESENT)
    out = {}
    for week in [*DEMO_WEEKS, RESENT]:
        folder = small_county / "inbox" / week if week != RESENT else work / "inbox" / RESENT
        ingest = ingest_week(folder, week, work / "archive", register, 50 * 1024 * 1024)
        frames = criteria_frames(ingest.tables, week_sunday(week), PROFILE)
        failures = validate_profile(frames, PROFILE).failures
        readiness = assess_readiness(frames, failures, PROFILE)
        issues = merged_issues(ingest.issues, frames, failures, ingest.headers)
        problems = department_problem_list(readiness, frames["projects"], PROFILE)
        ledger = week_ledger(previous_ledger(work / "history", PROFILE.name, week), problems, issues, frames,
                             ingest.headers, ingest.submissions, PROFILE, week, week_sunday(week), EVALUATION)
        record_ledger(work / "history", PROFILE.name, week, ledger)
        out[week] = ledger
    return out


def expected_statuses(present: list[bool]) -> list[str | None]:
    """The status each week of an item seen in the weeks marked True (None before it is first seen)."""
    out, seen, fixed = [], False, False
    for now in present:
        if now:
            out.append(REOPENED if fixed else OPEN if seen else NEW)
            seen, fixed = True, False
        else:
            fixed = fixed or seen
            out.append(FIXED if seen else None)
    return out


def test_demo_weeks_follow_the_generators_edits(demo_ledgers, small_manifest):
    """Village criteria, project owner gaps and injected ID defects: each week's status is what the
    generator's week-to-week edits imply (first seen, still open, fixed the week it went, back again)."""
    from evalprep.template import sheets
    from tasks.ledger_ids import item_id, project_item, village_item

    by_week = small_manifest["by_week"]
    expected: dict[str, list[bool]] = {}
    for n, week in enumerate(DEMO_WEEKS):
        present = set()
        for code, village in by_week[week]["villages"].items():
            present |= {village_item(c, code) for c in village["failing_criteria"] if c != "P-OWNER"}
        for d in by_week[week]["defects"]:
            if d["code"] == "P-OWNER":
                present.add(project_item("P-OWNER", d["village_code"], d["project_id"]))
            elif d["code"] == "DQ-ID-CHECK":
                table = next(key for key, spec in sheets().items() if spec.name == d["sheet"])
                column = next(c.name for c in sheets()[table].columns if c.header == d["column"])
                record = d["person_id"] if table == "members" else d["household_id"]
                present.add(item_id("DQ-ID-CHECK", d["township_code"], table, record, column))
        for identity in present:
            expected.setdefault(identity, [False] * len(DEMO_WEEKS))[n] = True
    counts = {FIXED: 0, OPEN: 0, NEW: 0, REOPENED: 0}
    for n, week in enumerate(DEMO_WEEKS):
        got = demo_ledgers[week].groupby("item_id")["status"].agg(set)
        for identity, present in expected.items():
            want = expected_statuses(present)[n]
            if want is None:
                assert identity not in got.index, (week, identity)
                continue
            assert got.get(identity) == {want}, (week, identity, present, got.get(identity))
            counts[want] += 1
    # the demo's edits fix problems and leave others open (it never breaks a fixed one again: see below)
    assert counts[FIXED] > 50 and counts[OPEN] > 50 and counts[NEW] == sum(p[0] for p in expected.values())
    last = demo_ledgers[DEMO_WEEKS[-1]]
    fixed = last[last["status"] == FIXED]
    assert set(fixed["fixed_week"]) == set(DEMO_WEEKS[1:])
    assert (last["first_seen"] <= last["last_seen"]).all()

    # W36's workbooks sent again: project owner gaps and ID defects (nothing in them depends on the date) that
    # were fixed come back as 反弹, those never fixed are still 未整改
    resent = demo_ledgers[RESENT].groupby("item_id")["status"].agg(set)
    lasting = {i: p for i, p in expected.items() if i.startswith(("P-OWNER", "DQ-ID-CHECK")) and p[0]}
    back = [i for i, p in lasting.items() if not p[-1]]
    assert back and all(resent.get(i) == {REOPENED} for i in back), [(i, resent.get(i)) for i in back]
    assert all(resent.get(i) == {OPEN} for i, p in lasting.items() if p[-1])
    assert demo_ledgers[RESENT].set_index("item_id").loc[back, "reopened"].eq(1).all()


# ------------------------------------------------------------------------------------------- in the roll-ups

def test_rollups_show_closure_and_department_lists_put_overdue_first():
    from tasks.assess import Readiness
    from tasks.departments import department_problem_list
    from tasks.ledger import ordered_problems, week_ledger
    from tasks.render.html import render_html
    from demo.preview import RUN, sample_county
    from tasks.render.rollup_views import (
        OVERDUE_MARK, county_summary_with_ledger, department_list_context, township_summary_context,
    )

    county = sample_county(PROFILE, villages=6)
    readiness = Readiness(county["villages"], county["village_criteria"], county["households"])
    problems = department_problem_list(readiness, county["projects"], PROFILE)
    no_issues = pd.DataFrame(columns=["township_code", "file", "sheet", "row", "column", "rule", "severity",
                                      "message", "village_code"])
    headers = pd.DataFrame(columns=["file", "sheet", "column", "written"])
    submissions = pd.DataFrame({"township_code": county["villages"]["township_code"].unique(), "township_name": "",
                                "used": True})
    # two weeks: in the second, the first village's items are gone (fixed); it is 2016-12-01, so every open
    # item due 60 days before the evaluation or earlier is overdue
    first = week_ledger(None, problems, no_issues, {}, headers, submissions, PROFILE, "2016-W47", dt.date(2016, 11, 27),
                        EVALUATION)
    gone = county["villages"]["village_code"].iloc[0]
    later = problems[problems["village_code"] != gone]
    ledger = week_ledger(first, later, no_issues, {}, headers, submissions, PROFILE, "2016-W48", dt.date(2016, 12, 4),
                         EVALUATION)
    assert (ledger.loc[ledger["village_code"] == gone, "status"] == FIXED).all()
    overdue = ledger[ledger["overdue"]]
    assert len(overdue) and not ledger.loc[ledger["status"] == FIXED, "overdue"].any()

    ordered = ordered_problems(later, ledger)
    department = overdue["department"].value_counts().index[0]
    items = ordered[ordered["department"] == department]
    assert items["overdue"].iloc[0] and items["overdue"].is_monotonic_decreasing  # overdue first
    run = {**RUN, "as_of": dt.date(2016, 12, 4)}
    ctx = department_list_context(PROFILE, department, items, run, ledger=ledger[ledger["department"] == department])
    assert ctx["rows"][0]["problem"].startswith(OVERDUE_MARK)
    mine = ledger[ledger["department"] == department]
    assert ctx["ledger"]["rate"] == f"{(mine['status'] == FIXED).sum()} / {len(mine)}（{(mine['status'] == FIXED).mean():.0%}）"
    html = render_html("department_list.html.j2", ctx)
    assert "整改台账：整改率" in html and "排在问题清单最前" in html
    assert f"台账共记 {len(mine)} 项问题" in html and "method" not in html  # a count, not dict.items

    town = county["villages"]["township_code"].iloc[0]
    villages = county["villages"][county["villages"]["township_code"] == town]
    ctx = township_summary_context(PROFILE, villages, county["households"], county["village_criteria"], run,
                                   ledger=ledger[ledger["township_code"] == town])
    html = render_html("township_summary.html.j2", ctx)
    assert "整改台账：整改率" in html and ("ledger-overdue-table" in html) == bool(ctx["ledger"]["overdue"])

    ctx = county_summary_with_ledger(PROFILE, run, ledger, villages=county["villages"], households=county["households"],
                                     village_criteria=county["village_criteria"])
    html = render_html("county_summary.html.j2", ctx)
    assert html.count("ledger-closure-table") == 2 and "method" not in html
    first = ctx["ledger"]["departments"][0]
    assert f'<td>{first["name"]}</td><td class="num">{first["items"]}</td>' in html
    assert [r["name"] for r in ctx["ledger"]["departments"]] == closure(ledger, "department")["department"].tolist()
    # without a ledger (an older caller) the summary renders as before
    from tasks.render.view_models import county_summary_context
    plain = county_summary_context(PROFILE, county["villages"], county["households"], county["village_criteria"], run)
    assert "整改台账" not in render_html("county_summary.html.j2", plain)


def test_ledger_files(tmp_path):
    from tasks.ledger import write_ledger

    ledger = three_weeks()[-1]
    write_ledger(tmp_path, ledger, {"week": W38, "as_of": SUNDAY[W38], "county": "旬阳县"})
    csv = pd.read_csv(tmp_path / "ledger.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert csv["item_id"].tolist() == ledger["item_id"].tolist() and csv.loc[0, "deadline"].startswith("2016-")
    assert (tmp_path / "ledger.xlsx").read_bytes()[:2] == b"PK"
    first = (tmp_path / "ledger.xlsx").read_bytes()
    write_ledger(tmp_path, ledger, {"week": W38, "as_of": SUNDAY[W38], "county": "旬阳县"})
    assert (tmp_path / "ledger.xlsx").read_bytes() == first  # same inputs, same bytes
    write_ledger(tmp_path, ledger, {"week": W38, "as_of": SUNDAY[W38], "county": "旬阳县"}, townships=["610928101"])
    only = pd.read_csv(tmp_path / "ledger.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(only["township_code"]) == {"610928101"}


# ---------------------------------------------------------------------------------------- the real flows

@pytest.mark.slow
def test_an_inspection_shows_the_ledger_and_does_not_advance_it(small_county, small_manifest, tmp_path, monkeypatch):
    """The weekly run's stages as plain calls (flows/stages.py) narrowed to one village, as `evalprep inspect` runs it: its
    folder gets the township's ledger computed from the newest earlier week's, the history keeps no new ledger."""
    from pathlib import Path

    from evalprep.settings import load_settings
    from flows.run_config import resolve_run
    from flows.stages import run_week
    from tests.conftest import LAST_WEEK

    monkeypatch.setenv("EVALPREP_DATA_DIR", str(tmp_path / "data"))
    village = sorted(small_manifest["by_week"][LAST_WEEK]["villages"])[3]
    history = load_settings().history_dir
    gone = item(f"V-CULTURE:{village}", township=village[:9])  # open last week, not failing now
    earlier = advance_ledger(None, items(gone), W38, SUNDAY[W38], TOWNSHIPS)
    stored = record_ledger(history, PROFILE.name, W38, earlier)
    before = stored.read_bytes()
    published = run_week(resolve_run(inbox=str(small_county / "inbox"), week=LAST_WEEK, out=str(tmp_path / "out"),
                                     reference=str(small_county / "reference"), villages=[village]))
    assert published.name.endswith(f"inspection-{village}")
    shown = pd.read_csv(published / "ledger.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(shown["township_code"]) == {village[:9]}
    assert status(shown, gone["item_id"])["status"] == FIXED and set(shown["status"]) == {NEW, FIXED}
    assert stored.read_bytes() == before  # the week it was computed from is untouched
    assert not (history / PROFILE.name / LAST_WEEK / "ledger.parquet").exists()  # and it records nothing
    assert (history / PROFILE.name / LAST_WEEK / "villages.parquet").exists()  # (the week history it does record)


@pytest.mark.slow
def test_the_county_run_records_the_ledger_and_an_inspection_does_not(small_run, small_county, small_manifest,
                                                                       small_data_dir, tmp_path, monkeypatch):
    from pathlib import Path

    from evalprep.settings import load_settings
    from flows.inspection import inspection_run
    from tests.conftest import LAST_WEEK

    monkeypatch.setenv("EVALPREP_DATA_DIR", str(small_data_dir))  # small_run's history, whatever ran since
    ledger = pd.read_csv(small_run / "ledger.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert (small_run / "ledger.xlsx").exists() and len(ledger)
    assert set(ledger["status"]) == {NEW}  # the first week this history has
    assert set(ledger.loc[ledger["kind"] == KIND_DATA, "department"]) == {TOWNSHIP_OWNER}
    stored = load_settings().history_dir / PROFILE.name / LAST_WEEK / "ledger.parquet"
    assert pd.read_parquet(stored)["item_id"].tolist() == ledger["item_id"].tolist()
    before = stored.read_bytes()
    department_list = next((small_run / "departments").glob("*.pdf"))
    assert department_list.stat().st_size

    village = sorted(small_manifest["by_week"][LAST_WEEK]["villages"])[3]
    monkeypatch.setenv("EVALPREP_INBOX", str(small_county / "inbox"))
    published = Path(inspection_run(villages=[village], out=str(tmp_path)))
    assert stored.read_bytes() == before  # shown, never advanced
    assert sorted(p.name for p in stored.parent.parent.iterdir() if (p / "ledger.parquet").exists()) == [LAST_WEEK]
    shown = pd.read_csv(published / "ledger.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(shown) and set(shown["township_code"]) == {village[:9]}


def test_the_evaluation_date_comes_from_county_yaml(tmp_path):
    from flows.run_config import CountyFileError, RunConfig, load_county

    (tmp_path / "county.yaml").write_text("targets: {2016: {key_villages: 1, exit_households: 2}}\n"
                                          "evaluation_date: {2016: 2016-12-20}\n", encoding="utf-8")
    county = load_county(tmp_path, None)
    config = RunConfig(*[None] * 3, profile=PROFILE, as_of=None, register=None, county=county, settings=None, design=None)
    assert config.evaluation_date == dt.date(2016, 12, 20)
    assert RunConfig(*[None] * 3, profile=PROFILE, as_of=None, register=None, county={}, settings=None,
                     design=None).evaluation_date == PROFILE.evaluation_date  # the catalogue's
    (tmp_path / "county.yaml").write_text("evaluation_date: {2016: 年底}\n", encoding="utf-8")
    with pytest.raises(CountyFileError, match="evaluation_date.2016"):
        load_county(tmp_path, None)
