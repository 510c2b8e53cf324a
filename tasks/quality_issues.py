"""GX data-quality failures as issues.csv rows, merged with the issues ingestion already found."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from evalprep.template import sheets
from tasks.ingest.issues import ISSUE_COLUMNS, Issue, issues_frame

QUALITY = "quality"


def _written_headers(headers: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    return {(f, s, c): w for f, s, c, w in headers[["file", "sheet", "column", "written"]].itertuples(index=False)}


def quality_issues(frames: Mapping[str, pd.DataFrame], failures: pd.DataFrame, headers: pd.DataFrame) -> list[Issue]:
    """One Issue per quality failure of a row, located by file, sheet, Excel row and header as written."""
    written = _written_headers(headers)
    quality = failures[(failures["family"] == QUALITY) & failures["row"].notna()]
    out = []
    for table, group in quality.groupby("table", sort=True):
        frame = frames[table]
        located = frame.loc[group["row"].astype("int64").to_numpy(), ["_file", "_sheet", "_row", "township_code"]]
        template = sheets()[table]
        for (code, column), (file, sheet, row, township), frame_row in zip(
            group[["code", "column"]].itertuples(index=False, name=None),
            located.itertuples(index=False, name=None),
            group["row"].astype("int64"),
        ):
            canonical = column if column in template.column_names else None
            header = written.get((file, sheet, canonical), template.column(canonical).header if canonical else column or "")
            value = frame.at[frame_row, column] if column in frame.columns else ""
            value = "" if pd.isna(value) else str(value)
            village = frame.at[frame_row, "village_code"] if "village_code" in frame.columns else ""
            issue = Issue.for_cell(code, file, sheet, int(row), header, value).at_township(township)
            out.append(_with_village(issue, village))
    return out


def _with_village(issue: Issue, village: object) -> Issue:
    return replace(issue, village_code="" if pd.isna(village) else str(village))


def _row_villages(frames: Mapping[str, pd.DataFrame]) -> dict[tuple[str, str, int], str]:
    """(file, sheet, Excel row) → village code, for every imported row that names or implies one."""
    located = {}
    for frame in frames.values():
        if not len(frame):
            continue
        if "village_code" in frame:
            village = frame["village_code"]
        elif "household_id" in frame:
            village = frame["household_id"].str[:12]
        else:
            continue
        for file, sheet, row, code in zip(frame["_file"], frame["_sheet"], frame["_row"], village):
            if isinstance(code, str):
                located[(file, sheet, int(row))] = code
    return located


def _fill_villages(issues: pd.DataFrame, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Ingestion issues of imported rows get their village, so each village's dossier can list them."""
    if not len(issues):
        return issues
    located = _row_villages(frames)
    found = [located.get((f, s, int(r)), "") if pd.notna(r) else "" for f, s, r in zip(issues["file"], issues["sheet"], issues["row"])]
    out = issues.copy()
    out["village_code"] = [v or (old if isinstance(old, str) else "") for v, old in zip(found, out["village_code"])]
    return out


def merged_issues(ingest_issues: pd.DataFrame, frames: Mapping[str, pd.DataFrame], failures: pd.DataFrame,
                  headers: pd.DataFrame) -> pd.DataFrame:
    """Ingestion issues plus GX quality issues; a cell ingestion already reported (its value then became
    empty) is not reported again as missing."""
    ingest_issues = _fill_villages(ingest_issues, frames)
    found = issues_frame(quality_issues(frames, failures, headers))
    reported = set(zip(ingest_issues["file"], ingest_issues["sheet"], ingest_issues["row"], ingest_issues["column"]))
    keys = zip(found["file"], found["sheet"], found["row"], found["column"])
    fresh = found[[k not in reported for k in keys]]
    frames_to_join = [f for f in (ingest_issues, fresh) if len(f)]
    if not frames_to_join:
        return ingest_issues
    combined = pd.concat(frames_to_join, ignore_index=True)[ISSUE_COLUMNS]
    return combined.sort_values(["township_code", "file", "sheet", "row", "column", "rule"], na_position="first",
                                kind="stable").reset_index(drop=True)
