"""Readiness: household, village, township and county standing from the validation failures."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from tasks import stage_task

from expectations.catalogue import Profile
from tasks.criteria_frames import CANCELLED
from tasks.progress import run_logger
from tasks.sample_risk import village_sample_risk

FAIL, PASS, UNKNOWN = "fail", "pass", "unknown"
GRADE_FAIL, GRADE_PASS, GRADE_EXCELLENT = "未达标", "合格", "优秀"
EXCELLENT_BAND = "excellent"


@dataclass
class Readiness:
    """The readiness tables of docs/data-model.md §4."""

    villages: pd.DataFrame
    village_criteria: pd.DataFrame
    households: pd.DataFrame


def wilson_interval(successes: float, trials: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (nan, nan) without trials."""
    if not trials:
        return math.nan, math.nan
    z = {0.90: 1.6448536, 0.95: 1.9599640, 0.99: 2.5758293}[confidence]
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def village_grade(failing: set[str], profile: Profile, satisfaction_rate: float, wrong_exit_rate: float) -> str:
    """未达标 / 合格 / 优秀 as docs/decisions.md defines them, thresholds from the catalogue."""
    sat = profile.criterion("V-SATISFACTION").params if "V-SATISFACTION" in profile.codes else None
    vetoes = {c.code for c in profile.criteria if c.veto}
    if failing & vetoes:
        return GRADE_FAIL
    if sat is not None:
        if satisfaction_rate is None or math.isnan(satisfaction_rate) or satisfaction_rate < sat["fail_below"]:
            return GRADE_FAIL
        if satisfaction_rate < sat["excellent_from"]:
            return GRADE_PASS
    if failing or wrong_exit_rate >= profile.metrics["wrong_exit_rate"]["max"]:
        return GRADE_PASS
    return GRADE_EXCELLENT


def _failing_codes(series: pd.Series) -> list[str]:
    return sorted(set(series))


def household_readiness(households: pd.DataFrame, failures: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """One row per registered household (cancelled ones left out): meets_all and the criteria it fails."""
    codes = {c.code for c in profile.by_level("household")}
    hits = failures[failures["code"].isin(codes) & failures["household_id"].notna()]
    per_household = hits.groupby("household_id")["code"].agg(_failing_codes)
    out = households[households["exit_status"] != CANCELLED].copy()
    out["failing_criteria"] = out["household_id"].map(per_household).apply(lambda v: v if isinstance(v, list) else [])
    out["meets_all"] = out["failing_criteria"].map(len) == 0
    return out


def _owners(projects: pd.DataFrame) -> pd.DataFrame:
    """Department, lead and responsible person per (village, criterion) from the 双七 projects."""
    cols = ["department", "lead", "responsible_person"]
    if not len(projects):
        return pd.DataFrame(columns=["village_code", "code", *cols])
    grouped = projects.groupby(["village_code", "criterion_code"], sort=True)[cols]
    owners = grouped.agg(lambda s: "、".join(dict.fromkeys(s.dropna())) or None).reset_index()
    return owners.rename(columns={"criterion_code": "code"})


def unknown_inputs(villages: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """village × criterion where the criterion cannot be computed: its catalogue `inputs` (columns of the
    villages frame → what they are, in words) name the figures it needs; a village lacking one is unknown
    (无法判定), whatever the validation says. Columns: village_code, code, unknown_reason (the missing inputs)."""
    rows = []
    for crit in profile.criteria:
        inputs = crit.params.get("inputs") or {}
        if not inputs:
            continue
        for village in villages.to_dict("records"):
            missing = [words for column, words in inputs.items()
                       if column not in village or village[column] is None or pd.isna(village[column])]
            if missing:
                rows.append({"village_code": village["village_code"], "code": crit.code, "unknown_reason": "、".join(missing)})
    return pd.DataFrame(rows, columns=["village_code", "code", "unknown_reason"]).drop_duplicates(["village_code", "code"])


def log_unknown(village_criteria: pd.DataFrame, profile: Profile) -> None:
    """One log line per criterion that could not be judged in some villages: how many, and what is missing."""
    unknown = village_criteria[village_criteria["status"] == UNKNOWN]
    for code, group in unknown.groupby("code", sort=False):
        crit = profile.criterion(code)
        reasons = "；".join(dict.fromkeys(group["unknown_reason"].dropna()))
        run_logger().warning("%s %s：%d 个村无法判定（缺少%s），按未达标计", code, crit.label, len(group), reasons)


def criteria_by_village(villages: pd.DataFrame, households: pd.DataFrame, projects: pd.DataFrame,
                        failures: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """village × criterion: status (pass / fail / unknown), measured value, failing count, owner: department
    (where the item is routed: the project's named department, else the catalogue's), department_named (as
    the village's projects name it, missing where none does), lead, responsible_person; unknown_reason."""
    cohort = households[households["in_exit_cohort"]]
    rows = []
    measures = {"V-INCIDENCE": "poverty_incidence", "V-SATISFACTION": "satisfaction_rate",
                "V-WATER": "safe_water_coverage", "V-INCOME-GROWTH": "exit_income_ratio"}
    crit_failures = failures[failures["family"] == "criteria"]
    for crit in profile.criteria:
        hits = crit_failures[crit_failures["code"] == crit.code]
        if crit.level == "household":
            failing_hh = cohort[cohort["failing_criteria"].map(lambda codes, c=crit.code: c in codes)]
            counts = failing_hh.groupby("village_code").size()
        elif crit.code == "V-SATISFACTION":
            band = hits["band"] if "band" in hits else pd.Series("", index=hits.index)
            counts = hits[band != EXCELLENT_BAND].groupby("village_code").size()
        elif crit.level == "project":
            counts = hits.drop_duplicates(["key"]).groupby("village_code").size()
        else:
            counts = hits.groupby("village_code")["key"].nunique()
        measure = villages.set_index("village_code")[measures[crit.code]] if crit.code in measures and measures[crit.code] in villages else None
        for code in villages["village_code"]:
            failing = int(counts.get(code, 0))
            rows.append({
                "village_code": code,
                "code": crit.code,
                "status": FAIL if failing else PASS,
                "value": float(measure.get(code, math.nan)) if measure is not None else math.nan,
                "failing_count": failing,
            })
    table = pd.DataFrame(rows, columns=["village_code", "code", "status", "value", "failing_count"])
    table = table.merge(unknown_inputs(villages, profile), on=["village_code", "code"], how="left")
    table.loc[table["unknown_reason"].notna(), "status"] = UNKNOWN
    owners = _owners(projects)
    table = table.merge(owners, on=["village_code", "code"], how="left")
    table["department_named"] = table["department"]
    default_dept = {c.code: c.department for c in profile.criteria}
    table["department"] = table["department"].fillna(table["code"].map(default_dept))
    log_unknown(table, profile)
    return table[["village_code", "code", "status", "value", "failing_count", "department", "department_named",
                  "lead", "responsible_person", "unknown_reason"]]


def village_readiness(villages: pd.DataFrame, households: pd.DataFrame, village_criteria: pd.DataFrame,
                      profile: Profile) -> pd.DataFrame:
    """One row per village: grade, failing criteria, the evaluators' figures."""
    wrong_exit_codes = set(profile.metrics["wrong_exit_rate"]["criteria"])
    cohort = households[households["in_exit_cohort"]].copy()
    cohort["wrong_exit"] = cohort["failing_criteria"].map(lambda codes: bool(wrong_exit_codes & set(codes)))
    exit_people = cohort.groupby("village_code")["household_size"].sum()
    wrong_people = cohort[cohort["wrong_exit"]].groupby("village_code")["household_size"].sum()
    per_village_hh = households.groupby("village_code").agg(
        households=("household_id", "size"), households_failing=("meets_all", lambda s: int((~s).sum()))
    )
    # unknowable is failing (docs/decisions.md): an unknown criterion blocks the grade like a failing one
    failing = village_criteria[village_criteria["status"] != PASS].groupby("village_code")["code"].agg(_failing_codes)
    unknown = village_criteria[village_criteria["status"] == UNKNOWN].groupby("village_code")["code"].agg(_failing_codes)
    confidence = profile.sampling["confidence"]
    out = villages.copy()
    out["failing_criteria"] = out["village_code"].map(failing).apply(lambda v: v if isinstance(v, list) else [])
    out["unknown_criteria"] = out["village_code"].map(unknown).apply(lambda v: v if isinstance(v, list) else [])
    out["exit_people"] = out["village_code"].map(exit_people).fillna(0.0)
    out["exit_households"] = out["village_code"].map(cohort.groupby("village_code").size()).fillna(0).astype(int)
    wrong = out["village_code"].map(wrong_people).fillna(0.0)
    out["wrong_exit_rate"] = (wrong / out["exit_people"].where(out["exit_people"] > 0)).fillna(0.0)
    out["households"] = out["village_code"].map(per_village_hh["households"]).fillna(0).astype(int)
    out["households_failing"] = out["village_code"].map(per_village_hh["households_failing"]).fillna(0).astype(int)
    intervals = [wilson_interval(y, n, confidence) for y, n in zip(out["satisfaction_yes"], out["satisfaction_answers"])]
    out["satisfaction_ci_low"] = [lo for lo, _ in intervals]
    out["satisfaction_ci_high"] = [hi for _, hi in intervals]
    out["satisfaction_sample_risk"] = out["village_code"].map(village_sample_risk(out, profile)).astype(float)
    out["grade"] = [
        village_grade(set(codes), profile, rate, wrong)
        for codes, rate, wrong in zip(out["failing_criteria"], out["satisfaction_rate"], out["wrong_exit_rate"])
    ]
    return out


def assess_readiness(frames: dict[str, pd.DataFrame], failures: pd.DataFrame, profile: Profile) -> Readiness:
    """Households, village × criterion and villages, from the validated frames and their failures."""
    households = household_readiness(frames["households"], failures, profile)
    criteria = criteria_by_village(frames["villages"], households, frames["projects"], failures, profile)
    villages = village_readiness(frames["villages"], households, criteria, profile)
    return Readiness(villages=villages, village_criteria=criteria, households=households)


assess_task = stage_task(assess_readiness, name="assess-readiness")
