"""Which Prefect task runner a run uses: threads on this machine (default), or a Dask cluster."""
from __future__ import annotations

from typing import Any


def dask_task_runner(address: str) -> Any:
    """A DaskTaskRunner on the cluster at `address` ("tcp://host:8786"), or "local" for a LocalCluster
    of two worker processes on this machine. Rendering then runs inside the Dask workers (no render
    pool of our own: Dask's worker processes are the pool)."""
    from prefect_dask import DaskTaskRunner

    if address == "local":
        return DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    return DaskTaskRunner(address=address)


def county_task_runner() -> Any:
    """The weekly flow's task runner: threads on this machine, or the Dask cluster named by
    EVALPREP_DASK_ADDRESS (read when the flow module is imported, as each served flow run does)."""
    from prefect.task_runners import ThreadPoolTaskRunner

    from evalprep.settings import load_settings

    address = load_settings().dask_address
    return dask_task_runner(address) if address else ThreadPoolTaskRunner()
