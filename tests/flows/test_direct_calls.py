"""The benchmarks' baseline: the flow body with every stage called as a plain function gives the Prefect run's
outputs, byte for byte, and records how long each stage took."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LAST_WEEK, files

pytestmark = pytest.mark.slow


def test_direct_calls_give_the_prefect_runs_outputs(small_run, small_county, tmp_path, monkeypatch):
    from flows.weekly import weekly_county_run
    from tasks import direct_calls

    monkeypatch.setenv("EVALPREP_DATA_DIR", str(tmp_path / "data"))
    with direct_calls() as timings:
        published = Path(weekly_county_run.fn(inbox=str(small_county / "inbox"), week=LAST_WEEK,
                                              out=str(tmp_path / "out"), reference=str(small_county / "reference")))
    assert files(published) == files(small_run)
    names = [name for name, _ in timings]
    assert {"ingest", "validate", "render-township-dossiers", "render-roll-ups", "publish"} <= set(names)
    assert "artifacts" in names  # skipped (it only talks to Prefect), but recorded
