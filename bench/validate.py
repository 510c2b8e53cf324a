"""Validation of the whole demo county: GX (all suites, once per table) against the same rules written as
plain pandas masks (the demo generator's independent truth plus the data-quality masks), in one process."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from bench.common import WORK_DIR, demo_county, timed, write_results
from evalprep.idcard import valid_mask
from evalprep.settings import PROJECT_ROOT
from evalprep.template import sheets, vocabularies
from evalprep.weeks import week_sunday
from demo.truth import assess as truth_assess
from expectations.catalogue import load_profile
from expectations.suites import build_suites
from tasks.criteria_frames import criteria_frames
from tasks.ingest.references import load_register
from tasks.ingest.week import ingest_week
from tasks.validate import validate_profile

WEEK = "2016-W39"


def quality_masks(tables: dict[str, pd.DataFrame]) -> int:
    """The quality family as pandas masks: required, ID format and check character, dictionaries, unique keys."""
    failing = 0
    vocab = vocabularies()
    for key in ("households", "members", "villages", "surveys", "projects"):
        frame, sheet = tables[key], sheets()[key]
        for column in sheet.columns:
            values = frame[column.name]
            if column.required:
                failing += int(values.isna().sum())
            if column.kind == "id_number":
                failing += int((values.notna() & ~valid_mask(values)).sum())
            if column.vocabulary:
                failing += int((values.notna() & ~values.isin(vocab[column.vocabulary])).sum())
        if sheet.row_key:
            failing += int(frame[sheet.row_key].duplicated(keep=False).sum())
    return failing


def measure(county: Path, repeat: int = 3) -> dict:
    """GX validation of the whole county vs the same rules as pandas masks, medians of `repeat`."""
    register = load_register(county / "reference", PROJECT_ROOT / "data" / "reference")
    tables = ingest_week(county / "inbox" / WEEK, WEEK, WORK_DIR / "archive-validate", register, 200 * 1024 * 1024).tables
    profile = load_profile()
    as_of = week_sunday(WEEK)
    frames = criteria_frames(tables, as_of, profile)
    suites = build_suites(profile)
    expectations = sum(len(s.expectations) for s in suites.values())

    frames_s, _, _ = timed(lambda: criteria_frames(tables, as_of, profile), repeat)
    gx_s, gx_runs, validation = timed(lambda: validate_profile(frames, profile), repeat)
    pandas_s, pandas_runs, _ = timed(lambda: (truth_assess(tables, profile, as_of), quality_masks(tables)), repeat)
    rows = {name: len(frame) for name, frame in frames.items()}
    figures = {
        "week": WEEK, "rows": rows, "rows_total": sum(rows.values()), "expectations": expectations,
        "failure_rows": len(validation.failures),
        "criteria_frames_seconds": round(frames_s, 3),
        "gx_seconds_median": round(gx_s, 3), "gx_seconds_runs": [round(r, 3) for r in gx_runs],
        "pandas_seconds_median": round(pandas_s, 3), "pandas_seconds_runs": [round(r, 3) for r in pandas_runs],
        "gx_to_pandas_ratio": round(gx_s / pandas_s, 2),
    }
    print(f"validate: {sum(rows.values()):,} rows × {expectations} expectations: GX {gx_s:.2f} s, "
          f"pandas masks {pandas_s:.2f} s, ratio {gx_s / pandas_s:.1f}")
    return figures


def main() -> None:
    print(write_results("validate", measure(demo_county())))


if __name__ == "__main__":
    sys.exit(main())
