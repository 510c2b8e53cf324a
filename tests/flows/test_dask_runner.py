"""The county flow on a local Dask cluster of two worker processes gives the default runner's outputs."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LAST_WEEK, files

pytestmark = pytest.mark.slow


def test_dask_outputs_equal_the_default_runners(small_run, small_county, tmp_path, monkeypatch):
    from flows.runners import dask_task_runner
    from flows.weekly import weekly_county_run

    monkeypatch.setenv("EVALPREP_RENDER_PROCESSES", "0")
    dask_run = weekly_county_run.with_options(task_runner=dask_task_runner("local"))
    published = Path(dask_run(inbox=str(small_county / "inbox"), week=LAST_WEEK, out=str(tmp_path / "out"),
                              reference=str(small_county / "reference")))
    default, dask = files(small_run), files(published)
    assert sorted(dask) == sorted(default)
    differing = [name for name in default if default[name] != dask[name]]
    assert differing == []
