"""One week's inbox → archived files, per-file outcomes, county-wide canonical tables and issues."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evalprep.template import sheets
from tasks.ingest.archive import archive_submission
from tasks.ingest.issues import Issue, issues_frame
from tasks.ingest.references import Register
from tasks.ingest.sheet import empty_frame
from tasks.ingest.submission import REJECTED, SubmissionResult, read_submission

SUBMISSION_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".zip", ".csv")


@dataclass
class WeekIngest:
    """Everything ingestion hands on: tables of the winning submissions, outcomes, issues."""

    tables: dict[str, pd.DataFrame]
    submissions: pd.DataFrame
    issues: pd.DataFrame
    headers: pd.DataFrame  # file, sheet, column (canonical), written: the header as the clerk wrote it


def received_files(week_dir: Path) -> list[Path]:
    """Submissions in a week folder, oldest first (modification time, then name): the newest wins."""
    entries = [
        p for p in week_dir.iterdir()
        if not p.name.startswith((".", "~$")) and (p.is_dir() or p.suffix.lower() in SUBMISSION_SUFFIXES or p.suffix == "")
    ]
    return sorted(entries, key=lambda p: (p.stat().st_mtime_ns, p.name))


def submissions_frame(results: list[SubmissionResult], used: set[int]) -> pd.DataFrame:
    rows = []
    for idx, res in enumerate(results):
        row = {"file": res.file, "sha256": res.sha256, "township_code": res.township_code, "status": res.status,
               "reason": res.reason, "used": idx in used}
        row.update({f"rows_{sheet}": n for sheet, n in res.rows_read.items()})
        rows.append(row)
    columns = ["file", "sha256", "township_code", "status", "reason", "used"]
    frame = pd.DataFrame(rows, columns=columns + sorted({k for r in rows for k in r if k.startswith("rows_")}))
    return frame.sort_values(["township_code", "file"], kind="stable").reset_index(drop=True)


def ingest_week(week_dir: Path, week: str, archive_dir: Path, register: Register, max_bytes: int,
                townships: tuple[str, ...] = ()) -> WeekIngest:
    """Archive every received file first, then parse each; one bad file never stops the others."""
    if not week_dir.is_dir():
        raise FileNotFoundError(f"收件箱中没有 {week} 的文件夹：{week_dir}")
    files = received_files(week_dir)
    archived = [archive_submission(path, archive_dir, week) for path in files]
    results = [read_submission(path, sha, register, max_bytes) for path, (sha, _, _) in zip(files, archived)]
    if townships:
        results = [r for r in results if r.township_code in townships]
    winners: dict[str, int] = {}
    for idx, res in enumerate(results):
        if res.status != REJECTED:
            winners[res.township_code] = idx  # later (newer) accepted submissions replace earlier ones
    used = set(winners.values())
    tables = {}
    for key, sheet in sheets().items():
        parts = [results[i].tables[key] for i in sorted(used)]
        frame = pd.concat([empty_frame(sheet).assign(township_code=pd.Series(dtype="str")), *parts], ignore_index=True)
        tables[key] = frame
    issues: list[Issue] = [i for idx, r in enumerate(results) if idx in used or r.status == REJECTED for i in r.issues]
    headers = pd.DataFrame(
        [(results[i].file, sheet, column, written) for i in sorted(used) for (sheet, column), written in results[i].headers.items()],
        columns=["file", "sheet", "column", "written"],
    )
    return WeekIngest(tables, submissions_frame(results, used), issues_frame(issues), headers)
