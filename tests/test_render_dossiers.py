"""Render orchestration: the trend from history plus this week, per-village jobs, roll-up jobs, failures reported."""
from __future__ import annotations

import io

import pandas as pd
import pytest
from pypdf import PdfReader

from expectations.catalogue import load_profile
from tasks.assess import Readiness
from tasks.departments import department_names, department_problem_list
from tasks.dossiers import (
    COUNTY, DEPARTMENT, TOWNSHIP, VILLAGE, DocumentJob, Rendered, render_job, render_jobs, rendering_report,
    rollup_jobs, township_batches, weekly_trend,
)
from tasks.document_store import DocumentStore, digest
from tasks.history import record_week
from demo.preview import RUN, sample_county

PROFILE = load_profile("xunyang-2016")
COUNTY_FRAMES = sample_county(PROFILE, villages=6)
READINESS = Readiness(COUNTY_FRAMES["villages"], COUNTY_FRAMES["village_criteria"], COUNTY_FRAMES["households"])


def test_trend_is_the_recorded_weeks_plus_this_run(tmp_path):
    worse = Readiness(READINESS.villages.assign(grade="未达标", households_failing=99), READINESS.village_criteria,
                      READINESS.households)
    record_week(tmp_path, PROFILE.name, "2016-W37", worse)
    record_week(tmp_path, PROFILE.name, "2016-W38", worse)
    record_week(tmp_path, PROFILE.name, "2016-W39", worse)        # a rerun of this week: replaced by this run
    record_week(tmp_path, PROFILE.name, "2016-W40", worse)        # later weeks are not part of this week's trend
    trend = weekly_trend(tmp_path, PROFILE.name, "2016-W39", READINESS)
    assert sorted(trend["week"].unique()) == ["2016-W37", "2016-W38", "2016-W39"]
    assert len(trend) == 3 * len(READINESS.villages)
    now = trend[trend["week"] == "2016-W39"].set_index("village_code")
    assert (now["households_failing"] == READINESS.villages.set_index("village_code")["households_failing"]).all()


def test_first_week_trend_is_this_run_only(tmp_path):
    trend = weekly_trend(tmp_path, PROFILE.name, "2016-W36", READINESS)
    assert list(trend["week"].unique()) == ["2016-W36"] and len(trend) == len(READINESS.villages)


def test_dossier_jobs_carry_their_villages_slices_per_township():
    batches = township_batches(READINESS, (), COUNTY_FRAMES["projects"], COUNTY_FRAMES["issues"],
                               COUNTY_FRAMES["trend"], COUNTY_FRAMES["submissions"])
    assert sum(len(b) for b in batches) == len(READINESS.villages)
    for batch in batches:
        assert len({job.args["village"]["township_code"] for job in batch}) == 1
        for job in batch:
            assert job.kind == VILLAGE and job.path.endswith(f"{job.village_code}_{job.args['village']['village_name']}.pdf")
            for name in ("criteria", "households", "projects", "issues", "trend"):
                assert set(job.args[name]["village_code"]) <= {job.village_code}
            assert len(job.args["trend"]) == 4
            assert set(job.args["submissions"]["township_code"]) == {job.args["village"]["township_code"]}
    only = township_batches(READINESS, (READINESS.villages["village_code"].iloc[2],))
    assert [len(b) for b in only] == [1] and only[0][0].args["projects"].empty


def test_planning_digests_change_for_the_changed_village_only():
    def inputs(readiness, submissions=COUNTY_FRAMES["submissions"]):
        batches = township_batches(readiness, (), COUNTY_FRAMES["projects"], COUNTY_FRAMES["issues"],
                                   COUNTY_FRAMES["trend"], submissions)
        return {job.village_code: job.inputs for batch in batches for job in batch}

    before = inputs(READINESS)
    assert len(set(before.values())) == len(before) and all(before.values())
    households = READINESS.households.copy()
    households.loc[households.index[0], "failing_criteria"] = ["H-HOUSING", "H-INCOME"]
    changed = households.iloc[0]["village_code"]
    after = inputs(Readiness(READINESS.villages, READINESS.village_criteria, households))
    assert {code for code in before if before[code] != after[code]} == {changed}
    assert inputs(READINESS) == before  # deterministic


def test_roll_up_jobs_are_the_county_every_township_and_every_department():
    problems = department_problem_list(READINESS, COUNTY_FRAMES["projects"], PROFILE)
    jobs = rollup_jobs(READINESS, COUNTY_FRAMES["submissions"], COUNTY_FRAMES["issues"], {}, problems, PROFILE)
    kinds = [job.kind for job in jobs]
    townships = READINESS.villages["township_code"].nunique()
    departments = department_names(PROFILE, problems)
    assert kinds == [COUNTY] + [TOWNSHIP] * townships + [DEPARTMENT] * len(departments)
    assert jobs[0].path == "summaries/county.pdf"
    assert [job.path for job in jobs if job.kind == DEPARTMENT] == [f"departments/{d}.pdf" for d in departments]
    for job in jobs:
        if job.kind == TOWNSHIP:
            codes = set(job.args["villages"]["village_code"])
            assert set(job.args["village_criteria"]["village_code"]) == codes
            assert set(job.args["households"]["village_code"]) <= codes
            assert set(job.args["submissions"]["township_code"]) <= {job.args["villages"]["township_code"].iloc[0]}
        if job.kind == DEPARTMENT:
            assert set(job.args["items"]["department"]) <= {job.args["department"]}
        assert job.inputs == digest(job.args)  # the frames hashed once, sliced: the key as if hashed one by one


def test_an_inspection_renders_only_the_roll_ups_its_data_covers_whole():
    problems = department_problem_list(READINESS, COUNTY_FRAMES["projects"], PROFILE)
    args = (READINESS, COUNTY_FRAMES["submissions"], COUNTY_FRAMES["issues"], {}, problems, PROFILE)
    townships = READINESS.villages["township_code"].nunique()
    assert [job.kind for job in rollup_jobs(*args, scope="townships")] == [TOWNSHIP] * townships
    assert rollup_jobs(*args, scope="none") == []


def test_a_document_that_fails_is_reported_and_stores_nothing(tmp_path):
    batch = township_batches(READINESS, (), COUNTY_FRAMES["projects"], COUNTY_FRAMES["issues"], COUNTY_FRAMES["trend"],
                             COUNTY_FRAMES["submissions"])[0]
    good = batch[0]
    broken = DocumentJob(VILLAGE, "dossiers/x/broken.pdf", {**good.args, "households": pd.DataFrame()}, "broken")
    failed = render_job(broken, tmp_path, "b" * 64, PROFILE.name, RUN)
    assert not failed.ok and failed.error.startswith("KeyError") and failed.village_code == "broken"
    store = DocumentStore(tmp_path)
    assert not store.root.exists()
    done = render_job(good, tmp_path, "a" * 64, PROFILE.name, RUN)
    assert done.ok and done.document_id == "a" * 12 and store.has("a" * 64, (".pdf", ".xlsx"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(store.path("a" * 64, ".pdf").read_bytes())).pages)
    assert "文档编号 aaaaaaaaaaaa" in text and RUN["run_id"] not in text


def test_rendering_report_flattens_batches_and_roll_ups():
    one = Rendered("a.pdf", "1", True, 1.0)
    report = rendering_report([[one], [one, one]], [Rendered("county.pdf", "", False, 0.5, "boom")])
    assert list(report["path"]) == ["a.pdf", "a.pdf", "a.pdf", "county.pdf"]
    assert list(report.columns) == ["path", "village_code", "ok", "seconds", "error", "attachment", "document_id",
                                    "reused"]


@pytest.mark.slow
def test_documents_render_in_the_worker_pool_and_a_failure_does_not_stop_the_others(tmp_path):
    batch = township_batches(READINESS, (), COUNTY_FRAMES["projects"], COUNTY_FRAMES["issues"], COUNTY_FRAMES["trend"],
                             COUNTY_FRAMES["submissions"])[0]
    broken = DocumentJob(VILLAGE, "dossiers/x/broken.pdf", {**batch[0].args, "criteria": None}, "broken")
    stage = tmp_path / "stage"
    results = render_jobs([broken, *batch], stage, PROFILE.name, RUN, processes=1)
    assert [r.ok for r in results] == [False] + [True] * len(batch)
    assert not any(r.reused for r in results)
    for job in batch:
        assert (stage / job.path).exists() and (stage / job.path).with_suffix(".xlsx").exists()
    assert not (stage / broken.path).exists()
    again = render_jobs([broken, *batch], tmp_path / "stage-2", PROFILE.name, RUN, processes=1)
    assert [r.reused for r in again] == [False] + [True] * len(batch)  # a failed document is tried again
    for job in batch:
        assert (tmp_path / "stage-2" / job.path).read_bytes() == (stage / job.path).read_bytes()
