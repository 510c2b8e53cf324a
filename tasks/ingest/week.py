"""One week's inbox → archived files, per-file outcomes, completeness, county-wide tables and issues."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from evalprep.inbox import SUBMISSION_SUFFIXES, check_week_folder, received_files  # noqa: F401 (re-exported)
from evalprep.template import sheets
from evalprep.weeks import week_sunday
from tasks.ingest.archive import archive_submission
from tasks.ingest.isolated import reader_if_enabled
from tasks.ingest.issues import Issue, issues_frame
from tasks.ingest.references import Register
from tasks.ingest.sheet import empty_frame
from tasks.ingest.parsed import parse_context, read_submission_kept
from tasks.ingest.submission import REJECTED, SubmissionResult

MISSING = "missing"
OFFICE_TZ = ZoneInfo("Asia/Shanghai")
SUBMISSION_COLUMNS = ["township_code", "township_name", "file", "sha256", "status", "reason", "used",
                      "received_at", "deadline", "on_time"]


@dataclass(frozen=True)
class Deadline:
    """When a week's submissions are due: `day` days after the Sunday that ends the week, at `time`."""

    day: int = 1
    time: str = "12:00"

    def for_week(self, week: str) -> dt.datetime:
        hour, minute = (int(x) for x in self.time.split(":"))
        day = week_sunday(week) + dt.timedelta(days=self.day)
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=OFFICE_TZ)


@dataclass
class WeekIngest:
    """Everything ingestion hands on: tables of the winning submissions, outcomes, issues."""

    tables: dict[str, pd.DataFrame]
    submissions: pd.DataFrame
    issues: pd.DataFrame
    headers: pd.DataFrame  # file, sheet, column (canonical), written: the header as the clerk wrote it


def received_at(path: Path) -> dt.datetime:
    """When the file reached the inbox: its modification time, in the office's time zone."""
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=OFFICE_TZ).replace(microsecond=0)


def choose_winners(results: list[SubmissionResult]) -> dict[str, int]:
    """Township → index of its newest accepted submission (results are oldest first)."""
    winners: dict[str, int] = {}
    for idx, res in enumerate(results):
        if res.status != REJECTED and res.township_code:
            winners[res.township_code] = idx
    return winners


def submissions_frame(results: list[SubmissionResult], arrivals: list[dt.datetime], winners: dict[str, int],
                      register: Register, expected: tuple[str, ...], deadline: dt.datetime) -> pd.DataFrame:
    """One row per distinct received file, plus one `missing` row per expected township that sent nothing."""
    used = set(winners.values())
    rows = []
    for idx, (res, arrived) in enumerate(zip(results, arrivals)):
        row = {"township_code": res.township_code, "township_name": register.township_names.get(res.township_code, ""),
               "file": res.file, "sha256": res.sha256, "status": res.status, "reason": res.reason,
               "used": idx in used, "received_at": arrived.isoformat(), "deadline": deadline.isoformat(),
               "on_time": arrived <= deadline}
        row.update({f"rows_{sheet}": n for sheet, n in res.rows_read.items()})
        rows.append(row)
    received = {r.township_code for r in results}
    for code in expected:
        if code not in received:
            rows.append({"township_code": code, "township_name": register.township_names.get(code, ""), "file": "",
                         "sha256": "", "status": MISSING, "reason": "本周未报送", "used": False, "received_at": "",
                         "deadline": deadline.isoformat(), "on_time": False})
    counts = sorted({k for r in rows for k in r if k.startswith("rows_")})
    frame = pd.DataFrame(rows, columns=SUBMISSION_COLUMNS + counts)
    # Row counts are whole numbers; unknown (a missing township, a rejected file) stays empty, never 24.0.
    frame[counts] = frame[counts].astype("Int64")
    return frame.sort_values(["township_code", "received_at", "file"], kind="stable").reset_index(drop=True)


def _current_issues(results: list[SubmissionResult], winners: dict[str, int]) -> list[Issue]:
    """Issues of the winning files, and of rejected files newer than their township's winner."""
    out: list[Issue] = []
    for idx, res in enumerate(results):
        winner = winners.get(res.township_code)
        if idx == winner or res.status == REJECTED and (winner is None or idx > winner):
            out += res.issues
    return out


def ingest_week(week_dir: Path, week: str, archive_dir: Path, register: Register, max_bytes: int,
                townships: tuple[str, ...] = (), deadline: Deadline = Deadline()) -> WeekIngest:
    """Archive every received file first, then parse each; one bad file never stops the others."""
    check_week_folder(week_dir, week)  # MissingInputError / InputError: the run cannot start
    files = received_files(week_dir)
    archived = [archive_submission(path, archive_dir, week) for path in files]
    seen: set[str] = set()
    distinct = []
    for path, (sha, _, _) in zip(files, archived):
        if sha not in seen:  # the same bytes sent again change nothing
            seen.add(sha)
            distinct.append((path, sha))
    context = parse_context(register, max_bytes)
    # Each file not parsed before is parsed in a child process under a memory ceiling (isolated.py).
    with reader_if_enabled() as reader:
        results = [read_submission_kept(path, sha, register, max_bytes, archive_dir, context, reader, townships)
                   for path, sha in distinct]
    arrivals = [received_at(path) for path, _ in distinct]
    if townships:
        # A file naming no township is kept in a narrowed run too: it was received, and may be one of these.
        keep = [i for i, r in enumerate(results) if r.township_code in townships or not r.township_code]
        results, arrivals = [results[i] for i in keep], [arrivals[i] for i in keep]
    winners = choose_winners(results)
    # Tables in township-code order, not arrival order: a resubmission must not move one township's rows
    # past the others', or every document reading a county-wide frame would differ and be printed again.
    used = [winners[code] for code in sorted(winners)]
    tables = {}
    for key, sheet in sheets().items():
        parts = [results[i].tables[key] for i in used if len(results[i].tables[key])]
        base = empty_frame(sheet).assign(township_code=pd.Series(dtype="str"))
        tables[key] = pd.concat([base, *parts], ignore_index=True) if parts else base
    headers = pd.DataFrame(
        [(results[i].file, sheet, column, written) for i in used for (sheet, column), written in results[i].headers.items()],
        columns=["file", "sheet", "column", "written"],
    )
    expected = tuple(townships) or tuple(sorted(register.township_names))
    submissions = submissions_frame(results, arrivals, winners, register, expected, deadline.for_week(week))
    return WeekIngest(tables, submissions, issues_frame(_current_issues(results, winners)), headers)
