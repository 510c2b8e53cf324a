"""The truth: criteria of docs/data-model.md section 2 and the grades of docs/decisions.md, computed from
the generated canonical frames. Written independently of the pipeline (tasks/, expectations/suites); only
the thresholds and veto flags come from the catalogue profile.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from expectations.catalogue import Profile

COHORT = ("预脱贫", "已脱贫")
REMAINING = ("新识别", "未脱贫", "返贫")
CANCELLED = "注销"
SAFE_SOLUTIONS = ("危房改造", "易地扶贫搬迁(集中安置)", "易地扶贫搬迁(分散安置)", "交钥匙工程")
DONE = ("已竣工", "已入住")
CARRIERS = {"电信", "移动", "联通"}
YES = ("满意", "基本满意")
UNKNOWN = "不了解"
GRADE_FAIL, GRADE_PASS, GRADE_EXCELLENT = "未达标", "合格", "优秀"


@dataclass
class Assessment:
    households: pd.DataFrame  # index household_id: village_code, exit_status, in_cohort, failing (tuple of codes)
    villages: dict[str, dict]  # village_code → manifest record


def _is_true(x: object) -> bool:
    return isinstance(x, (bool, np.bool_)) and bool(x)


def _filled(s: pd.Series) -> pd.Series:
    """Non-empty text (and not 无)."""
    text = s.astype("string").str.strip()
    return (text.notna() & (text != "") & (text != "无")).fillna(False).astype(bool)


def _true(s: pd.Series) -> pd.Series:
    return s.astype("boolean").fillna(False).astype(bool)


def _ages(ids: pd.Series, on: dt.date) -> pd.Series:
    text = ids.astype("string")
    year = pd.to_numeric(text.str[6:10], errors="coerce")
    month_day = pd.to_numeric(text.str[10:14], errors="coerce")
    # an empty or unreadable ID (messy mode) gives no age
    return on.year - year - (month_day > on.month * 100 + on.day).fillna(False).astype(int)


def household_criteria(frames: dict[str, pd.DataFrame], profile: Profile, as_of: dt.date) -> pd.DataFrame:
    """One boolean column per household criterion of the profile: True = passes."""
    hh, mm = frames["households"], frames["members"]
    labour_set = set(profile.criterion("H-SKILL").params["labour_capacities"]) if "H-SKILL" in profile.codes else {
        "普通劳动力", "技能劳动力", "弱劳动力"}
    labour = mm["labour_capacity"].isin(labour_set)
    by_hh = mm["household_id"]

    def none_of(member_fail: pd.Series) -> pd.Series:
        failing = set(by_hh[member_fail.to_numpy()])
        return ~hh["household_id"].isin(failing)

    # Missing people are not passing people: a household with fewer 家庭成员 rows than its 家庭人口数, or
    # without 家庭人口数, cannot show a member criterion (H-EDU, H-MEDICAL, H-SKILL).
    rows = hh["household_id"].map(by_hh.value_counts()).fillna(0)
    size = hh["household_size"]
    members_complete = (size.notna() & (rows >= size)).fillna(False).astype(bool).to_numpy()

    out = pd.DataFrame(index=hh.index)
    for crit in profile.by_level("household"):
        code = crit.code
        if code == "H-INCOME":
            out[code] = (hh["income_per_capita"] >= profile.poverty_line).fillna(False).astype(bool)
        elif code == "H-HOUSING":
            out[code] = ((hh["housing_safety"] == "安全").fillna(False)
                         | (hh["housing_solution"].isin(SAFE_SOLUTIONS) & hh["housing_progress"].isin(DONE))).astype(bool)
        elif code == "H-WATER":
            out[code] = _true(hh["safe_water"])
        elif code == "H-EDU":
            age = _ages(mm["id_number"], as_of)
            lo, hi = int(crit.params["min_age"]), int(crit.params["max_age"])
            out[code] = none_of(((age >= lo) & (age <= hi)).fillna(False) & (mm["schooling"] == "辍学").fillna(False)) & members_complete
        elif code == "H-MEDICAL":
            out[code] = none_of(~(_true(mm["insured_ncms"]) & _true(mm["insured_critical"]))) & members_complete
        elif code == "H-SKILL":
            out[code] = none_of(labour & ~_filled_any(mm["skill_certificate_no"])) & members_complete
        elif code == "H-LIVELIHOOD":
            with_labour = hh["household_id"].isin(set(by_hh[labour.to_numpy()]))
            working = _filled(hh["industry_support"]) | _filled(hh["employment"])
            covered = hh["household_type"].isin(("低保贫困户", "五保贫困户"))
            out[code] = np.where(with_labour, working, covered)
        elif code == "H-NEW-EXIT":
            out[code] = ~((hh["identified_year"] == profile.year) & hh["exit_status"].isin(COHORT))
        else:
            raise NotImplementedError(code)
    return out.astype(bool)


def _filled_any(s: pd.Series) -> pd.Series:
    """Non-empty text (a certificate number; 无 is not special here)."""
    text = s.astype("string").str.strip()
    return (text.notna() & (text != "")).fillna(False).astype(bool)


def assess(frames: dict[str, pd.DataFrame], profile: Profile, as_of: dt.date) -> Assessment:
    hh, vv, pp, ss = frames["households"], frames["villages"], frames["projects"], frames["surveys"]
    passes = household_criteria(frames, profile, as_of)
    codes = list(passes.columns)
    fails = ~passes
    failing = [tuple(c for c, f in zip(codes, row) if f) for row in fails.to_numpy()]
    in_cohort = hh["exit_status"].isin(COHORT).to_numpy()
    live = (hh["exit_status"] != CANCELLED).fillna(True).to_numpy()
    households = pd.DataFrame({"village_code": hh["village_code"].to_numpy(), "exit_status": hh["exit_status"].to_numpy(),
                               "in_cohort": in_cohort, "live": live, "failing": failing,
                               "size": hh["household_size"].to_numpy()}, index=hh["household_id"].to_numpy())

    wrong_exit_codes = set(profile.metrics["wrong_exit_rate"]["criteria"]) & set(codes)
    wrong_cols = [codes.index(c) for c in wrong_exit_codes]
    fail_matrix = fails.to_numpy()
    wrong = fail_matrix[:, wrong_cols].any(axis=1) if wrong_cols else np.zeros(len(hh), bool)
    any_fail = fail_matrix.any(axis=1)
    sizes = hh["household_size"].fillna(0).to_numpy()
    remaining = hh["exit_status"].isin(REMAINING).to_numpy()
    vcode = hh["village_code"].to_numpy()

    sat = profile.criterion("V-SATISFACTION").params if "V-SATISFACTION" in profile.codes else {}
    fail_below = float(sat.get("fail_below", 0.8))
    excellent_from = float(sat.get("excellent_from", 0.9))
    wrong_exit_max = float(profile.metrics["wrong_exit_rate"]["max"])
    veto = {c.code for c in profile.criteria if c.veto}

    answered = ss[ss["satisfaction"] != UNKNOWN]
    answers = answered.groupby("village_code").size()
    yes = answered[answered["satisfaction"].isin(YES)].groupby("village_code").size()

    def villages_with(mask: pd.Series) -> set[str]:
        return set(pp.loc[mask.to_numpy(), "village_code"])

    crit_code = pp["criterion_code"]
    approved = (pp["approval_status"] == "已批复").fillna(False)
    road_project = villages_with(((crit_code == "V-ROAD") & approved).fillna(False))
    started = profile.criterion("V-POWER").params.get("started_build_statuses", ()) if "V-POWER" in profile.codes else ()
    power_project = villages_with(((crit_code == "V-POWER") & pp["build_status"].isin(list(started))).fillna(False))
    water_project = villages_with(((crit_code == "V-WATER") & approved & pp["planned_completion"].notna()).fillna(False))
    owners = _filled_any(pp["department"]) & _filled_any(pp["lead"]) & _filled_any(pp["responsible_person"])
    ownerless = villages_with(~owners)
    by_village: dict[str, list[int]] = {}
    for i, code in enumerate(vcode):
        by_village.setdefault(code, []).append(i)

    villages: dict[str, dict] = {}
    for v in vv.to_dict("records"):
        code = v["village_code"]
        sel = np.zeros(len(hh), bool)
        sel[by_village.get(code, [])] = True
        cohort = sel & in_cohort
        failing_codes = {c for c, col in zip(codes, fail_matrix[cohort].T) if col.any()} if cohort.any() else set()
        n_answers = int(answers.get(code, 0))
        n_yes = int(yes.get(code, 0))
        rate = n_yes / n_answers if n_answers else None
        rural = v["rural_population"]
        remaining_people = float(sizes[sel & remaining].sum())
        incidence = remaining_people / rural if rural and not pd.isna(rural) else None
        for crit in profile.by_level("village") + profile.by_level("project"):
            c = crit.code
            if c == "V-INCIDENCE":
                ok = incidence is not None and incidence < float(crit.params["max"])
            elif c == "V-ROAD":
                ok = _is_true(v["has_paved_road"]) or code in road_project
            elif c == "V-POWER":
                ok = _is_true(v["power_full_coverage"]) or code in power_project
            elif c == "V-TELECOM":
                carriers = v["telecom_carriers"]
                ok = isinstance(carriers, str) and bool(CARRIERS & set(carriers.split("、")))
            elif c == "V-WATER":
                coverage = v["safe_water_coverage"]
                backlog = v.get("pipeline_backlog_km")
                allocated = backlog is not None and not pd.isna(backlog) and backlog >= 0
                ok = (not pd.isna(coverage) and coverage >= 100) or (code in water_project and allocated)
            elif c == "V-CLINIC":
                ok = _is_true(v["has_clinic"])
            elif c == "V-CULTURE":
                ok = _is_true(v["has_culture_venue"])
            elif c == "V-INDUSTRY":
                org = v["industry_org"]
                ok = isinstance(org, str) and org.strip() not in ("", "无") and _is_true(v["industry_subsidy"])
            elif c == "V-SATISFACTION":
                ok = rate is not None and rate >= float(crit.params["fail_below"])
            elif c == "P-OWNER":
                ok = code not in ownerless
            else:
                raise NotImplementedError(c)
            if not ok:
                failing_codes.add(c)
        cohort_people = float(sizes[cohort].sum())
        wrong_rate = float(sizes[cohort & wrong].sum()) / cohort_people if cohort_people else 0.0
        if (failing_codes & veto) or rate is None or rate < fail_below:
            grade = GRADE_FAIL
        elif not failing_codes and rate >= excellent_from and wrong_rate < wrong_exit_max:
            grade = GRADE_EXCELLENT
        else:
            grade = GRADE_PASS
        live_sel = sel & live
        villages[code] = {
            "grade": grade,
            "failing_criteria": sorted(failing_codes),
            "satisfaction_rate": None if rate is None else round(rate, 6),
            "satisfaction_answers": n_answers,
            "satisfaction_yes": n_yes,
            "poverty_incidence": None if incidence is None else round(incidence, 6),
            "remaining_poor_people": int(remaining_people),
            "rural_population": None if pd.isna(rural) else int(rural),
            "wrong_exit_rate": round(wrong_rate, 6),
            "exit_people": int(cohort_people),
            "households": int(live_sel.sum()),
            "households_failing": int((live_sel & any_fail).sum()),
            "exit_households": int(cohort.sum()),
            "exit_households_failing": int((cohort & any_fail).sum()),
            "is_key_village": _is_true(v["is_key_village"]),
            "township_code": v["township_code"],
        }
    return Assessment(households=households, villages=villages)
