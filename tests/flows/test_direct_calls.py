"""The benchmarks' and tests' fast path: the weekly flow's composite stages called as plain functions
(flows/stages.py run_week) give the Prefect run's outputs, byte for byte, and record how long each took."""
from __future__ import annotations

import pytest

from tests.conftest import LAST_WEEK, files

pytestmark = pytest.mark.slow


def test_direct_calls_give_the_prefect_runs_outputs(small_run, small_county, tmp_path, monkeypatch):
    from flows.run_config import resolve_run
    from flows.stages import run_week

    monkeypatch.setenv("EVALPREP_DATA_DIR", str(tmp_path / "data"))
    timings: dict[str, float] = {}
    published = run_week(resolve_run(inbox=str(small_county / "inbox"), week=LAST_WEEK, out=str(tmp_path / "out"),
                                     reference=str(small_county / "reference")), timings)
    assert files(published) == files(small_run)
    assert set(timings) == {"ingest", "assess", "compare", "write-tables", "render-dossiers", "render-summaries",
                            "publish", "record"}
    assert all(seconds > 0 for seconds in timings.values())
