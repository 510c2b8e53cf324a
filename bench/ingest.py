"""Ingestion throughput on the full demo county: rows per second for one week's 21 township workbooks."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench.common import WORK_DIR, demo_county, timed, write_results
from evalprep.settings import PROJECT_ROOT
from tasks.ingest.references import load_register
from tasks.ingest.week import ingest_week

WEEK = "2016-W39"


def measure(county: Path, repeat: int = 3) -> dict:
    """One week's 21 township workbooks ingested, median of `repeat` (the archive emptied before each)."""
    register = load_register(county / "reference", PROJECT_ROOT / "data" / "reference")
    archive = WORK_DIR / "archive-ingest"

    def run():
        shutil.rmtree(archive, ignore_errors=True)
        return ingest_week(county / "inbox" / WEEK, WEEK, archive, register, 200 * 1024 * 1024)

    median, runs, result = timed(run, repeat)
    rows = int(sum(len(t) for t in result.tables.values()))
    cells = int(sum(t.shape[0] * (t.shape[1] - 4) for t in result.tables.values()))
    files = int((result.submissions["status"] != "missing").sum())
    figures = {"week": WEEK, "files": files, "rows": rows, "cells": cells, "seconds_median": round(median, 3),
               "seconds_runs": [round(r, 3) for r in runs], "rows_per_second": round(rows / median),
               "cells_per_second": round(cells / median)}
    print(f"ingest: {files} files, {rows:,} rows in {median:.2f} s (median of {len(runs)}) = {rows / median:,.0f} rows/s")
    return figures


def main() -> None:
    print(write_results("ingest", measure(demo_county())))


if __name__ == "__main__":
    sys.exit(main())
