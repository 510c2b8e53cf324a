"""Township and county readiness: counts and shares against the year's targets."""
from __future__ import annotations

import pandas as pd

from tasks.assess import GRADE_EXCELLENT, GRADE_FAIL, GRADE_PASS, Readiness

GRADES = (GRADE_FAIL, GRADE_PASS, GRADE_EXCELLENT)
TOWNSHIP_COLUMNS = [
    "township_code", "township_name", "villages", "villages_未达标", "villages_合格", "villages_优秀",
    "key_villages", "key_villages_ready", "households", "households_failing", "exit_households",
    "exit_households_ready", "planned_exit_households", "planned_exit_households_ready",
]


def _exit_counts(households: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per township: exit-cohort households, how many meet all, and the same for the year's planned exits."""
    h = households.assign(
        _cohort=households["in_exit_cohort"].astype(bool),
        _ready=households["meets_all"].astype(bool),
        _planned=households["planned_exit_year"].eq(year).fillna(False).astype(bool)
        if "planned_exit_year" in households else False,
    )
    return h.groupby("township_code").agg(
        exit_households=("_cohort", "sum"),
        exit_households_ready=("_ready", lambda s: int((s & h.loc[s.index, "_cohort"]).sum())),
        planned_exit_households=("_planned", "sum"),
        planned_exit_households_ready=("_ready", lambda s: int((s & h.loc[s.index, "_planned"]).sum())),
    )


def township_readiness(readiness: Readiness, year: int) -> pd.DataFrame:
    """One row per township: villages by grade, key villages ready, households ready."""
    v = readiness.villages.assign(
        _key=readiness.villages["is_key_village"].astype(bool),
        _ready=readiness.villages["grade"].isin((GRADE_PASS, GRADE_EXCELLENT)),
    )
    grouped = v.groupby(["township_code", "township_name"], sort=True)
    table = grouped.agg(
        villages=("village_code", "size"),
        key_villages=("_key", "sum"),
        households=("households", "sum"),
        households_failing=("households_failing", "sum"),
    )
    table["key_villages_ready"] = grouped.apply(lambda g: int((g["_key"] & g["_ready"]).sum()), include_groups=False)
    for grade in GRADES:
        table[f"villages_{grade}"] = grouped["grade"].agg(lambda s, g=grade: int((s == g).sum()))
    table = table.reset_index()
    exits = _exit_counts(readiness.households, year)
    table = table.merge(exits, left_on="township_code", right_index=True, how="left").fillna(0)
    for col in TOWNSHIP_COLUMNS[2:]:
        table[col] = table[col].astype(int)
    return table[TOWNSHIP_COLUMNS]


def county_readiness(townships: pd.DataFrame, targets: dict[str, int]) -> pd.DataFrame:
    """One row for the county: the township sums, the targets and the shares reached."""
    row = townships[TOWNSHIP_COLUMNS[2:]].sum().astype(int).to_dict()
    row["townships"] = len(townships)
    row["target_key_villages"] = int(targets.get("key_villages", 0))
    row["target_exit_households"] = int(targets.get("exit_households", 0))
    row["key_villages_share_of_target"] = round(row["key_villages_ready"] / row["target_key_villages"], 4) if row["target_key_villages"] else None
    exit_target = row["target_exit_households"]
    row["exit_households_share_of_target"] = round(row["planned_exit_households_ready"] / exit_target, 4) if exit_target else None
    return pd.DataFrame([row])


def readiness_rollups(readiness: Readiness, year: int, targets: dict[str, int]) -> dict[str, pd.DataFrame]:
    """readiness/townships.csv and readiness/county.csv."""
    townships = township_readiness(readiness, year)
    return {"readiness/townships.csv": townships, "readiness/county.csv": county_readiness(townships, targets)}
