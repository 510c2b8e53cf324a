"""What a running county run tells the office while it goes: a progress artifact counting the dossiers done,
updated as each township's batch finishes."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact

from evalprep.runlog import run_logger
from tasks.dossiers import DocumentJob, Rendered, render_jobs

def start_progress(batches: list[list]) -> UUID:
    """A progress artifact at 0 % for the dossiers of all batches."""
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
        update_progress_artifact(progress, progress=100.0 * done / max(total, 1))


def render_batch(jobs: list[DocumentJob], stage: Path, profile_name: str, run: dict[str, Any], processes: int,
                 progress: UUID | None, total: int) -> list[Rendered]:
    """One township's dossiers (tasks/dossiers.py render_jobs), then the progress artifact brought up to date."""
    results = render_jobs(jobs, stage, profile_name, run, processes)
    report_progress(progress, stage, total)
    return results
