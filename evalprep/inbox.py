"""The inbox: one folder per ISO week (YYYY-Www) holding what the townships sent. Light (no pandas), so the
CLI can check a week folder before anything heavy loads; tasks/ingest/week.py reads the same list."""
from __future__ import annotations

from pathlib import Path

from evalprep.errors import InputError, MissingInputError

# What ingestion can read; anything else that arrives is still archived, listed and rejected (DQ-FILE-TYPE).
SUBMISSION_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".zip", ".csv")
# The week's subfolder of department answers (another reader's input): never a township submission.
DEPARTMENTS_FOLDER = "departments"


def received_files(week_dir: Path) -> list[Path]:
    """Everything a township sent in a week folder, whatever its suffix, oldest first (modification time, then
    name): the newest wins. Left out: hidden files ('.x'), Office lock files ('~$x') and the departments
    folder. A file ingestion cannot read is still received: it is archived and rejected with what to do."""
    entries = [
        p for p in week_dir.iterdir()
        if not p.name.startswith((".", "~$")) and not (p.name == DEPARTMENTS_FOLDER and p.is_dir())
        and (p.is_dir() or p.is_file())
    ]
    return sorted(entries, key=lambda p: (p.stat().st_mtime_ns, p.name))


def check_week_folder(week_dir: Path, week: str) -> None:
    """The week's folder exists and holds at least one submission. An empty week is an error, not a run with
    every township missing: the office learns that nothing arrived (or that the files went to another folder)
    before a week of "all missing" is published and recorded in the history."""
    if not week_dir.is_dir():
        raise MissingInputError(f"收件箱中没有 {week} 文件夹：{week_dir}；请确认收件箱路径（--inbox）和周次（--week）")
    if not received_files(week_dir):
        raise InputError(f"{week_dir}：本周文件夹中没有任何报表文件（文件夹是空的，或只有隐藏文件、departments 文件夹）；"
                         f"请把各镇报送的文件放入该文件夹后重新运行")


def reference_dir(inbox_dir: Path, reference: str | None) -> Path:
    """--reference, else the reference folder beside the inbox."""
    return Path(reference).resolve() if reference else inbox_dir.parent / "reference"
