"""Incremental reruns and runs at the same time, on the small demo county with real flows:
unchanged inputs render nothing (and the run says so), one township's resubmission re-renders exactly its
villages and the roll-ups, two runs started together both publish complete, correct folders."""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import LAST_WEEK, files

pytestmark = pytest.mark.slow


def run_and_summary(**kwargs) -> tuple[Path, str]:
    """A real weekly flow run; its published folder and its "documents-this-run" artifact."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    from flows.weekly import weekly_county_run

    state = weekly_county_run(**kwargs, return_state=True)
    published = Path(state.result())
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            key=ArtifactFilterKey(any_=["documents-this-run"])))
    assert len(artifacts) == 1
    return published, artifacts[0].data


def rendered_paths(summary: str) -> set[str]:
    return {line.removeprefix("- 新生成：") for line in summary.splitlines() if line.startswith("- 新生成：")}


@pytest.fixture()
def fresh_data(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("EVALPREP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_an_unchanged_rerun_renders_nothing_and_says_so(small_run, small_county, monkeypatch):
    before = files(small_run)
    published, summary = run_and_summary(inbox=str(small_county / "inbox"), week=LAST_WEEK, out=str(small_run.parent),
                                         reference=str(small_county / "reference"))
    assert summary.startswith(f"# {LAST_WEEK} 文档\n\n输入未变化：") and "没有重新生成任何文档" in summary
    assert rendered_paths(summary) == set()
    assert files(published) == before  # same documents, byte for byte


def test_one_townships_resubmission_re_renders_its_villages_and_the_roll_ups(small_run, small_county, small_manifest,
                                                                              fresh_data):
    inbox = fresh_data / "inbox"
    shutil.copytree(small_county / "inbox", inbox)
    out = fresh_data / "out"
    shutil.copytree(small_run.parent / ".document-store", out / ".document-store")  # last run's documents
    resubmitted = next((inbox / LAST_WEEK).glob("610928101_*"))
    book = openpyxl.load_workbook(resubmitted)
    book["双七项目"].cell(row=2, column=12).value = 60  # one project's progress moved on
    book.save(resubmitted)

    published, summary = run_and_summary(inbox=str(inbox), week=LAST_WEEK, out=str(out),
                                         reference=str(small_county / "reference"))
    rendered = rendered_paths(summary)
    dossiers = {p for p in rendered if p.startswith("dossiers/")}
    expected = {p.relative_to(published).as_posix() for p in (published / "dossiers").glob("610928101_*/*.pdf")}
    assert dossiers == expected and len(expected) == sum(v.startswith("610928101") for v in
                                                          small_manifest["by_week"][LAST_WEEK]["villages"])
    assert "summaries/county.pdf" in rendered and any(p.startswith("summaries/610928101_") for p in rendered)
    assert not any(p.startswith("summaries/610928100_") for p in rendered)  # the other township's summary is as it was
    assert all(p.startswith(("summaries/", "departments/")) for p in rendered - dossiers)  # the rest: roll-ups
    unchanged = files(small_run)
    for path, data in files(published).items():
        if path.startswith("dossiers/610928100_"):
            assert data == unchanged[path], path


def test_two_runs_started_together_both_publish_complete_correct_folders(small_run, small_county, small_manifest,
                                                                        fresh_data, monkeypatch):
    from flows.inspection import inspection_run
    from flows.weekly import weekly_county_run

    out = fresh_data / "out"
    village = sorted(small_manifest["by_week"][LAST_WEEK]["villages"])[5]
    monkeypatch.setenv("EVALPREP_INBOX", str(small_county / "inbox"))
    weekly = dict(inbox=str(small_county / "inbox"), week=LAST_WEEK, out=str(out),
                  reference=str(small_county / "reference"))
    with ThreadPoolExecutor(3) as pool:
        runs = [pool.submit(weekly_county_run, **weekly), pool.submit(weekly_county_run, **weekly),
                pool.submit(inspection_run, villages=[village], out=str(out))]
        first, second, inspection = (Path(run.result()) for run in runs)
    assert first == second == out / LAST_WEEK
    assert files(first) == files(small_run)  # complete and byte-identical to a run on its own
    inspected = files(inspection)
    dossier = [p for p in inspected if p.endswith(".pdf") and p.startswith("dossiers/")]
    assert len(dossier) == 1 and inspected[dossier[0]] == files(small_run)[dossier[0]]
    assert not list(out.glob(".staging-*")) and not list(out.glob(".retired-*"))
