"""Readiness: household, village, township and county standing from the validation failures."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd


from expectations.catalogue import BAND_EXCELLENT, Profile, raw_catalogue
from expectations.vocabulary import (  # noqa: F401  (verdict words, re-exported: stages read them here too)
    CANCELLED, FAIL, GRADE_EXCELLENT, GRADE_FAIL, GRADE_PASS, MEMBERS_MISSING, PASS, UNKNOWN,
)
from tasks.evaluation_design import EvaluationDesign, load_design, p_drawn, village_strata
from evalprep.runlog import run_logger
from tasks.sample_risk import village_recognition_risk, village_sample_risk
from tasks.survey_answers import recognition_counts

EXCELLENT_BAND = BAND_EXCELLENT
SATISFACTION_CODE = "V-SATISFACTION"
INCIDENCE_CODE = "V-INCIDENCE"


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


def village_grade(failing: set[str], profile: Profile, satisfaction_band: str | None, wrong_exit_fails: bool) -> str:
    """未达标 / 合格 / 优秀 as docs/decisions.md defines them, from verdicts already taken: the failing (or
    unknown) criteria, V-SATISFACTION's band (fail / pass / excellent, decided by GX; None when the profile
    has no such criterion) and whether the wrong-exit rate fails its line (Profile.metric_fails)."""
    vetoes = {c.code for c in profile.criteria if c.veto}
    if failing & vetoes:
        return GRADE_FAIL
    if SATISFACTION_CODE in profile.codes:
        if satisfaction_band not in (PASS, EXCELLENT_BAND):
            return GRADE_FAIL
        if satisfaction_band == PASS:
            return GRADE_PASS
    if failing or wrong_exit_fails:
        return GRADE_PASS
    return GRADE_EXCELLENT


def _failing_codes(series: pd.Series) -> list[str]:
    return sorted(set(series))


def _number(value: float) -> str:
    return f"{value:g}"


def members_notes(households: pd.DataFrame, failures: pd.DataFrame, profile: Profile) -> pd.Series:
    """Per household_id: why its member criteria are unknowable (家庭成员 rows fewer than 家庭人口数, or
    家庭人口数 unknown), worded from the catalogue's member_rows messages; only households the criteria
    suites failed on that check."""
    hits = failures[(failures["family"] == "criteria") & (failures["column"] == MEMBERS_MISSING)
                    & failures["household_id"].notna()]
    if not len(hits) or "member_rows" not in households:
        return pd.Series(dtype="str")
    words = raw_catalogue()["member_rows"]
    fact = {c.code: c.params.get("member_fact", c.label) for c in profile.criteria}
    codes = hits.groupby("household_id")["code"].agg(lambda s: [c for c in profile.codes if c in set(s)])
    first = households.drop_duplicates("household_id").set_index("household_id")
    notes = {}
    for household_id, failing in codes.items():
        if household_id not in first.index:
            continue
        row = first.loc[household_id]
        facts = "、".join(fact[c] for c in failing)
        size, rows = row.get("household_size"), float(row["member_rows"])
        if size is None or pd.isna(size):
            notes[household_id] = words["size_unknown"].format(rows=_number(rows), facts=facts)
        else:
            notes[household_id] = words["message"].format(
                size=_number(float(size)), rows=_number(rows), missing=_number(float(size) - rows), facts=facts)
    return pd.Series(notes, dtype="str")


def household_readiness(households: pd.DataFrame, failures: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """One row per registered household (cancelled ones left out): meets_all, the criteria it fails, and
    members_note when member criteria fail because member rows are missing."""
    codes = {c.code for c in profile.by_level("household")}
    hits = failures[failures["code"].isin(codes) & failures["household_id"].notna()]
    per_household = hits.groupby("household_id")["code"].agg(_failing_codes)
    out = households[households["exit_status"] != CANCELLED].copy()
    out["failing_criteria"] = out["household_id"].map(per_household).apply(lambda v: v if isinstance(v, list) else [])
    out["meets_all"] = out["failing_criteria"].map(len) == 0
    notes = members_notes(out, failures, profile) if "family" in failures and "column" in failures else pd.Series(dtype="str")
    out["members_note"] = out["household_id"].map(notes).astype("str")
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
        elif crit.code == SATISFACTION_CODE:
            band = hits["band"] if "band" in hits else pd.Series("", index=hits.index)
            counts = hits[band != EXCELLENT_BAND].groupby("village_code").size()
            below_excellent = set(hits.loc[band == EXCELLENT_BAND, "village_code"])
        elif crit.level == "project":
            counts = hits.drop_duplicates(["key"]).groupby("village_code").size()
        else:
            counts = hits.groupby("village_code")["key"].nunique()
        measure = villages.set_index("village_code")[measures[crit.code]] if crit.code in measures and measures[crit.code] in villages else None
        for code in villages["village_code"]:
            failing = int(counts.get(code, 0))
            status = FAIL if failing else PASS
            rows.append({
                "village_code": code,
                "code": crit.code,
                "status": status,
                # V-SATISFACTION's band as GX drew it: excellent when even the excellence line holds
                "band": (EXCELLENT_BAND if status == PASS and code not in below_excellent else status)
                        if crit.code == SATISFACTION_CODE else status,
                "value": float(measure.get(code, math.nan)) if measure is not None else math.nan,
                "failing_count": failing,
            })
    table = pd.DataFrame(rows, columns=["village_code", "code", "status", "band", "value", "failing_count"])
    table = table.merge(unknown_inputs(villages, profile), on=["village_code", "code"], how="left")
    table.loc[table["unknown_reason"].notna(), ["status", "band"]] = UNKNOWN
    owners = _owners(projects)
    table = table.merge(owners, on=["village_code", "code"], how="left")
    table["department_named"] = table["department"]
    default_dept = {c.code: c.department for c in profile.criteria}
    table["department"] = table["department"].fillna(table["code"].map(default_dept))
    log_unknown(table, profile)
    return table[["village_code", "code", "status", "band", "value", "failing_count", "department", "department_named",
                  "lead", "responsible_person", "unknown_reason"]]


def _wrong_exit_figures(households: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Per village, pooled (the exit cohort of every year) and for this year's exit cohort (计划脱贫年度 =
    the profile year): exit households and people, households and people failing a 错退 criterion, rate."""
    wrong_exit_codes = set(profile.metrics["wrong_exit_rate"]["criteria"])
    cohort = households[households["in_exit_cohort"]].copy()
    cohort["wrong_exit"] = cohort["failing_criteria"].map(lambda codes: bool(wrong_exit_codes & set(codes)))
    cohort["this_year"] = pd.to_numeric(cohort.get("planned_exit_year"), errors="coerce") == profile.year \
        if "planned_exit_year" in cohort else False
    size = pd.to_numeric(cohort["household_size"], errors="coerce").fillna(0.0)
    parts = {}
    for suffix, rows in (("", cohort.index), ("_year", cohort.index[cohort["this_year"].astype(bool)])):
        sub, people = cohort.loc[rows], size.loc[rows]
        by = sub.groupby("village_code")
        wrong = sub["wrong_exit"].astype(bool)
        parts[f"exit_households{suffix}"] = by.size()
        parts[f"exit_people{suffix}"] = people.groupby(sub["village_code"]).sum()
        parts[f"wrong_exit_households{suffix}"] = wrong.groupby(sub["village_code"]).sum()
        parts[f"wrong_exit_people{suffix}"] = people[wrong].groupby(sub["village_code"][wrong]).sum()
    return pd.DataFrame(parts)


def village_readiness(villages: pd.DataFrame, households: pd.DataFrame, village_criteria: pd.DataFrame,
                      profile: Profile, recognition: pd.DataFrame | None = None,
                      design: EvaluationDesign | None = None) -> pd.DataFrame:
    """One row per village: grade, failing criteria, the evaluators' figures (wrong-exit pooled and for this
    year's cohort; the chances that the evaluators' sample of the village shows 认可度 or satisfaction below
    their lines; the chance that the village is drawn at all)."""
    design = design or load_design()
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
    figures = _wrong_exit_figures(households, profile)
    for column in figures.columns:
        values = out["village_code"].map(figures[column]).fillna(0)
        out[column] = values.astype(int) if "households" in column else values.astype(float)
    for suffix in ("", "_year"):
        exit_people = out[f"exit_people{suffix}"]
        out[f"wrong_exit_rate{suffix}"] = (out[f"wrong_exit_people{suffix}"] / exit_people.where(exit_people > 0)).fillna(0.0)
    out["households"] = out["village_code"].map(per_village_hh["households"]).fillna(0).astype(int)
    out["households_failing"] = out["village_code"].map(per_village_hh["households_failing"]).fillna(0).astype(int)
    intervals = [wilson_interval(y, n, confidence) for y, n in zip(out["satisfaction_yes"], out["satisfaction_answers"])]
    out["satisfaction_ci_low"] = [lo for lo, _ in intervals]
    out["satisfaction_ci_high"] = [hi for _, hi in intervals]
    counts = recognition if recognition is not None else pd.DataFrame(columns=["recognition_surveyed", "recognition_yes"])
    out["recognition_surveyed"] = out["village_code"].map(counts["recognition_surveyed"]).fillna(0).astype(int)
    out["recognition_yes"] = out["village_code"].map(counts["recognition_yes"]).fillna(0).astype(int)
    surveyed = out["recognition_surveyed"].where(out["recognition_surveyed"] > 0)
    out["recognition_rate"] = (out["recognition_yes"] / surveyed).astype(float)
    out["evaluation_sample"] = design.questionnaire_per_village
    out["satisfaction_sample_risk"] = out["village_code"].map(village_sample_risk(out, profile, design=design)).astype(float)
    out["recognition_sample_risk"] = out["village_code"].map(village_recognition_risk(out, profile, design=design)).astype(float)
    strata = village_strata(out, design)
    out["stratum"] = strata
    out["p_drawn"] = p_drawn(strata, design)
    out["accountability"] = out["village_code"].isin(accountable_villages(out, village_criteria))
    for column, value in verdict_columns(out, village_criteria, profile).items():
        out[column] = value
    out["grade"] = [
        village_grade(set(codes), profile, band, wrong == FAIL)
        for codes, band, wrong in zip(out["failing_criteria"], out["satisfaction_band"], out["wrong_exit_status"])
    ]
    return out


def _metric_status(profile: Profile, key: str, rates: pd.Series, measured: pd.Series) -> pd.Series:
    """pass / fail of an evaluators' metric per village (the one comparison: Profile.metric_fails);
    unknown where nothing was measured."""
    fails = pd.Series(profile.metric_fails(key, rates.astype(float).to_numpy()), index=rates.index)
    return fails.map({True: FAIL, False: PASS}).where(measured, UNKNOWN)


def verdict_columns(villages: pd.DataFrame, village_criteria: pd.DataFrame, profile: Profile) -> dict[str, pd.Series]:
    """Every verdict a reader of a village sees, taken once here and read downstream (view models, department
    lists, roll-ups) instead of comparing a rate with a catalogue line again: V-SATISFACTION's band and
    V-INCIDENCE's status as GX decided them (None where the profile lacks the criterion), and the
    evaluators' metrics' status (wrong exits pooled and this year's cohort, 认可度)."""
    def of(code: str, column: str) -> pd.Series:
        rows = village_criteria[village_criteria["code"] == code].set_index("village_code")[column]
        return villages["village_code"].map(rows) if code in profile.codes else pd.Series(None, index=villages.index, dtype="object")

    return {
        "satisfaction_band": of(SATISFACTION_CODE, "band"),
        "incidence_status": of(INCIDENCE_CODE, "status"),
        "wrong_exit_status": _metric_status(profile, "wrong_exit_rate", villages["wrong_exit_rate"], villages["exit_people"] > 0),
        "wrong_exit_status_year": _metric_status(profile, "wrong_exit_rate", villages["wrong_exit_rate_year"],
                                                 villages["exit_people_year"] > 0),
        "recognition_status": _metric_status(profile, "recognition", villages["recognition_rate"].fillna(0.0),
                                             villages["recognition_surveyed"] > 0),
    }


def accountable_villages(villages: pd.DataFrame, village_criteria: pd.DataFrame) -> set[str]:
    """Villages whose satisfaction fails V-SATISFACTION's pass band with a measured rate (≥ 1 answer):
    "低于80%将启动问责". Read from the criterion's status, never by comparing the rate again; a village
    without answers fails the criterion but has no rate below the line."""
    if "satisfaction_answers" not in villages:
        return set()
    failing = village_criteria[(village_criteria["code"] == SATISFACTION_CODE) & (village_criteria["status"] == FAIL)]
    answered = set(villages.loc[villages["satisfaction_answers"].fillna(0) > 0, "village_code"])
    return set(failing["village_code"]) & answered


def assess_readiness(frames: dict[str, pd.DataFrame], failures: pd.DataFrame, profile: Profile,
                     design: EvaluationDesign | None = None) -> Readiness:
    """Households, village × criterion and villages, from the validated frames and their failures."""
    households = household_readiness(frames["households"], failures, profile)
    criteria = criteria_by_village(frames["villages"], households, frames["projects"], failures, profile)
    villages = village_readiness(frames["villages"], households, criteria, profile,
                                 recognition_counts(frames["surveys"]) if "surveys" in frames else None, design)
    return Readiness(villages=villages, village_criteria=criteria, households=households)
