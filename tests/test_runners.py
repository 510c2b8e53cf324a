"""Which task runner the county flow gets: threads by default, the Dask cluster named in the settings."""
from __future__ import annotations

from flows.runners import county_task_runner
from evalprep.settings import load_settings


def test_threads_on_this_machine_by_default(monkeypatch):
    from prefect.task_runners import ThreadPoolTaskRunner

    monkeypatch.delenv("EVALPREP_DASK_ADDRESS", raising=False)
    monkeypatch.delenv("EVALPREP_RENDER_PROCESSES", raising=False)
    assert isinstance(county_task_runner(), ThreadPoolTaskRunner)
    assert load_settings().render_processes >= 1


def test_the_dask_cluster_of_the_settings_renders_in_its_own_workers(monkeypatch):
    from prefect_dask import DaskTaskRunner

    monkeypatch.setenv("EVALPREP_DASK_ADDRESS", "tcp://scheduler.intranet:8786")
    monkeypatch.delenv("EVALPREP_RENDER_PROCESSES", raising=False)
    runner = county_task_runner()
    assert isinstance(runner, DaskTaskRunner) and runner.address == "tcp://scheduler.intranet:8786"
    assert load_settings().render_processes == 0
