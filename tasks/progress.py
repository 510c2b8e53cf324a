"""What a running county run tells the office while it goes: log lines through Prefect's logger (the
flow run's log in the UI) and a progress artifact counting the dossiers done."""
from __future__ import annotations

import logging
from pathlib import Path
from uuid import UUID

from tasks import stage_task


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a flow or task run; the plain "evalprep" logger elsewhere."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("evalprep")


def start_progress(batches: list[list]) -> UUID:
    """A progress artifact at 0 % for the dossiers of all batches."""
    from prefect.artifacts import create_progress_artifact

    total = sum(map(len, batches))
    run_logger().info("本次需生成 %d 个村的档案", total)
    return create_progress_artifact(progress=0.0, key="dossiers-done", description=f"村级档案进度（共 {total} 个村）")


def dossiers_done(stage: Path) -> int:
    """Dossiers already in the staging folder (counted on disk, so batches on other machines count too)."""
    return sum(1 for _ in (stage / "dossiers").glob("*/*.pdf"))


def report_progress(progress: UUID | None, stage: Path, total: int) -> None:
    """Log and show how many dossiers of `total` are done."""
    done = dossiers_done(stage)
    run_logger().info("进度：%d / %d 个村的档案已完成", done, total)
    if progress is not None:
        from prefect.artifacts import update_progress_artifact

        update_progress_artifact(progress, progress=100.0 * done / max(total, 1))


start_progress_task = stage_task(start_progress, name="start-progress", prefect_only=True)
