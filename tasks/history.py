"""Week-over-week history: each run's village readiness and household key figures, one file per week.

A rerun of a week replaces that week's rows of the villages it covered (an inspection run for one township
updates that township only); nothing is ever duplicated. Files: history/<profile>/<week>/villages.parquet
and households.parquet, and the county run's rectification ledger, ledger.parquet.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalprep.files import write_atomic
from evalprep.locks import exclusive
from evalprep.weeks import parse_week
from tasks.assess import Readiness

VILLAGE_FIELDS = ["village_code", "village_name", "township_code", "township_name", "is_key_village", "grade",
                  "failing_criteria", "satisfaction_rate", "poverty_incidence", "wrong_exit_rate", "households",
                  "households_failing", "exit_households"]
HOUSEHOLD_FIELDS = ["household_id", "village_code", "township_code", "household_size", "income_per_capita",
                    "meets_all", "failing_criteria"]


def _joined(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["failing_criteria"] = out["failing_criteria"].map(lambda c: ";".join(c) if isinstance(c, (list, tuple)) else (c or ""))
    return out


def _upsert(path: Path, rows: pd.DataFrame, key: str) -> None:
    if path.exists():
        kept = pd.read_parquet(path)
        kept = kept[~kept[key].isin(rows[key])]
        rows = pd.concat([kept, rows], ignore_index=True)
    write_atomic(path, rows.sort_values(key).reset_index(drop=True).to_parquet(index=False))


def record_week(history_dir: Path, profile: str, week: str, readiness: Readiness) -> Path:
    """Store this run's figures for the week, replacing earlier rows of the same villages and households."""
    folder = history_dir / profile / week
    villages = _joined(readiness.villages[VILLAGE_FIELDS])
    villages["is_key_village"] = villages["is_key_village"].astype(bool)
    households = _joined(readiness.households[HOUSEHOLD_FIELDS])
    with exclusive(folder.parent / ".history.lock"):  # an inspection may record the same week meanwhile
        _upsert(folder / "villages.parquet", villages, "village_code")
        _upsert(folder / "households.parquet", households, "household_id")
    return folder


def weeks_recorded(history_dir: Path, profile: str) -> list[str]:
    folder = history_dir / profile
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if (p / "villages.parquet").exists()), key=parse_week)


def load_week(history_dir: Path, profile: str, week: str, table: str = "villages") -> pd.DataFrame | None:
    path = history_dir / profile / week / f"{table}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def previous_week(history_dir: Path, profile: str, week: str) -> str | None:
    """The latest recorded week before `week`."""
    earlier = [w for w in weeks_recorded(history_dir, profile) if parse_week(w) < parse_week(week)]
    return earlier[-1] if earlier else None


def previous_figures(history_dir: Path, profile: str, week: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The previous recorded week's village and household figures (None, None for the first week)."""
    before = previous_week(history_dir, profile, week)
    if before is None:
        return None, None
    return load_week(history_dir, profile, before, "villages"), load_week(history_dir, profile, before, "households")


def village_trend(history_dir: Path, profile: str, up_to: str) -> pd.DataFrame:
    """Every recorded week up to `up_to`, one row per village and week."""
    frames = []
    for week in weeks_recorded(history_dir, profile):
        if parse_week(week) <= parse_week(up_to):
            frames.append(load_week(history_dir, profile, week).assign(week=week))
    if not frames:
        return pd.DataFrame(columns=["week", *VILLAGE_FIELDS])
    return pd.concat(frames, ignore_index=True)


def changes_since(previous: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    """Per village: grade before and now, criteria fixed and newly failing since the previous week."""
    now = _joined(current[["village_code", "village_name", "township_code", "grade", "failing_criteria"]])
    columns = ["village_code", "village_name", "township_code", "grade_before", "grade_now", "fixed", "new_failures"]
    if previous is None:
        return pd.DataFrame(columns=columns)
    before = previous.set_index("village_code")
    rows = []
    for village in now.to_dict("records"):
        code = village["village_code"]
        if code not in before.index:
            continue
        was = set(filter(None, str(before.at[code, "failing_criteria"]).split(";")))
        is_ = set(filter(None, village["failing_criteria"].split(";")))
        grade_before = before.at[code, "grade"]
        if was != is_ or grade_before != village["grade"]:
            rows.append({"village_code": code, "village_name": village["village_name"],
                         "township_code": village["township_code"], "grade_before": grade_before,
                         "grade_now": village["grade"], "fixed": ";".join(sorted(was - is_)),
                         "new_failures": ";".join(sorted(is_ - was))})
    return pd.DataFrame(rows, columns=columns)


LEDGER_FILE = "ledger.parquet"


def record_ledger(history_dir: Path, profile: str, week: str, ledger: pd.DataFrame) -> Path:
    """Store the week's rectification ledger (tasks/ledger.py) whole, replacing an earlier run's of the same
    week. Only a county run records it: an inspection reads it and never advances it."""
    path = history_dir / profile / week / LEDGER_FILE
    with exclusive(path.parent.parent / ".history.lock"):
        write_atomic(path, ledger.to_parquet(index=False))
    return path


def previous_ledger(history_dir: Path, profile: str, week: str) -> pd.DataFrame | None:
    """The ledger of the newest recorded week before `week` (None when no earlier week has one): this week's
    ledger is always computed from it, so a rerun of a week gives the same ledger."""
    folder = history_dir / profile
    if not folder.is_dir():
        return None
    earlier = sorted((p.name for p in folder.iterdir() if (p / LEDGER_FILE).exists() and _is_week(p.name)
                      and parse_week(p.name) < parse_week(week)), key=parse_week)
    return pd.read_parquet(folder / earlier[-1] / LEDGER_FILE) if earlier else None


def _is_week(name: str) -> bool:
    try:
        parse_week(name)
    except ValueError:
        return False
    return True
