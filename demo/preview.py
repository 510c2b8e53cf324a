"""Layout preview: a small synthetic county in the readiness frames' shape, rendered to PDFs and timed.

Run `python -m demo.preview OUT_DIR` to look at the documents; the render tests use the same frames.
"""
from __future__ import annotations

import datetime as dt
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from evalprep import idcard
from evalprep.settings import load_settings
from expectations.catalogue import Profile, load_profile
from tasks.assess import village_grade

RUN = {
    "county": "旬阳县",
    "week": "2016-W39",
    "as_of": dt.date(2016, 9, 25),
    "run_id": "2016-W39-preview",
    "generated_on": dt.date(2016, 9, 26),
    "targets": {"key_villages": 45, "exit_households": 10114},
}

_FALLBACK_TOWNSHIPS = [("610928100", "城关镇"), ("610928101", "棕溪镇"), ("610928103", "蜀河镇")]
_VILLAGE_FIRST = "东桂庙双金红石柳联新白黄青长马龙铜太仁"
_VILLAGE_SECOND = ["坡", "花", "坪", "河", "星", "军", "门", "林", "合", "庄", "沟", "湾", "岭", "坝", "垭", "院"]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ["建国", "秀英", "德明", "桂兰", "喆", "堃", "志强", "玉梅", "长林", "春花", "有福", "明亮"]
_EXIT = ["已脱贫", "预脱贫", "预脱贫", "未脱贫", "新识别", "返贫"]


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def _townships() -> list[tuple[str, str]]:
    path = load_settings().reference_dir / "townships.csv"
    if not path.exists():
        return _FALLBACK_TOWNSHIPS
    frame = pd.read_csv(path, dtype=str)
    return list(zip(frame["township_code"], frame["township_name"]))


def sample_county(profile: Profile | None = None, seed: int = 7, villages: int = 9) -> dict[str, pd.DataFrame]:
    """villages, village_criteria and households frames of a synthetic county (section 4 of data-model.md)."""
    profile = profile or load_profile()
    rng = random.Random(seed)
    townships = _townships()
    household_codes = [c.code for c in profile.by_level("household")]
    village_rows, criteria_rows, household_rows = [], [], []
    for index in range(villages):
        township_code, township_name = townships[index % len(townships)]
        village_name = _VILLAGE_FIRST[index % len(_VILLAGE_FIRST)] + _VILLAGE_SECOND[index // len(_VILLAGE_FIRST) % len(_VILLAGE_SECOND)] + "村"
        village_code = f"{township_code}{201 + index // len(townships):03d}"
        households = []
        cohort_failure = rng.choice([0.0, 0.0, 0.03, 0.15])
        for number in range(rng.randint(70, 110)):
            exit_status = rng.choice(_EXIT)
            chance = cohort_failure if exit_status in ("预脱贫", "已脱贫") else 0.5
            failing = sorted(rng.sample(household_codes, k=rng.choice([1, 1, 2]))) if rng.random() < chance else []
            born = dt.date(1940 + rng.randrange(50), rng.randint(1, 12), rng.randint(1, 28))
            households.append({
                "household_id": f"{village_code}{number + 1:04d}",
                "village_code": village_code,
                "township_code": township_code,
                "exit_status": exit_status,
                "in_exit_cohort": exit_status in ("预脱贫", "已脱贫"),
                "meets_all": not failing,
                "failing_criteria": failing,
                "head_name": _name(rng),
                "head_id_number": idcard.make("610928", born, rng.randrange(1, 999)),
                "household_size": float(rng.randint(1, 6)),
                "income_per_capita": float(rng.randint(2000, 6000)),
                "housing_safety": "安全",
                "housing_solution": "无需",
                "housing_progress": None,
                "helper_name": _name(rng),
                "helper_phone": f"138{rng.randrange(10**8):08d}",
                "planned_exit_year": float(rng.choice([2016, 2016, 2017, 2018])),
            })
        household_rows += households
        cohort = [h for h in households if h["in_exit_cohort"]]
        answers = rng.randint(30, 60)
        satisfied = min(answers, round(answers * rng.uniform(0.7, 0.99)))
        rate = satisfied / answers
        half = 1.96 * math.sqrt(rate * (1 - rate) / answers)
        population = rng.randint(900, 2400)
        remaining = sum(int(h["household_size"]) for h in households if not h["in_exit_cohort"]) // rng.choice([4, 8, 12])
        failing_codes, bands = [], {}
        for criterion in profile.criteria:
            if criterion.level == "household":
                count = sum(criterion.code in h["failing_criteria"] for h in cohort)
                status, value = ("fail" if count else "pass"), float("nan")
            elif criterion.code in ("V-SATISFACTION", "V-INCIDENCE"):  # fake rates, banded by the catalogue's lines
                count, value = 0, (rate if criterion.code == "V-SATISFACTION" else remaining / population)
                band = str(criterion.band_of(value))
                bands[criterion.code] = band
                status = "fail" if band == "fail" else "pass"
            else:
                count, value = (rng.choice([0, 0, 2]) if criterion.level == "project" else 0), float("nan")
                status = "fail" if count or rng.random() < 0.06 else "pass"
            if status == "fail":
                failing_codes.append(criterion.code)
            named = rng.random() < 0.7
            criteria_rows.append({
                "village_code": village_code, "code": criterion.code, "status": status,
                "band": bands.get(criterion.code, status), "value": value,
                "failing_count": float(count),
                "department": criterion.department,
                "department_named": criterion.department if named else None,
                "lead": _name(rng) if named else None,
                "responsible_person": _name(rng) if named else None,
            })
        wrong_exit_codes = set(profile.metrics["wrong_exit_rate"]["criteria"])
        wrong_exit_rate = sum(
            h["household_size"] for h in cohort if wrong_exit_codes.intersection(h["failing_criteria"])
        ) / max(1, sum(h["household_size"] for h in cohort))
        wrong_exit_status = "fail" if profile.metric_fails("wrong_exit_rate", wrong_exit_rate) else "pass"
        grade = village_grade(set(failing_codes), profile, bands.get("V-SATISFACTION"), wrong_exit_status == "fail")
        village_rows.append({
            "village_code": village_code, "village_name": village_name,
            "township_code": township_code, "township_name": township_name,
            "is_key_village": index % 6 == 0, "grade": grade, "failing_criteria": failing_codes,
            "satisfaction_rate": rate, "satisfaction_ci_low": max(0.0, rate - half),
            "satisfaction_ci_high": min(1.0, rate + half), "satisfaction_answers": float(answers),
            "satisfaction_yes": float(satisfied), "poverty_incidence": remaining / population,
            "remaining_poor_people": float(remaining), "rural_population": float(population),
            "wrong_exit_rate": wrong_exit_rate, "wrong_exit_status": wrong_exit_status,
            "satisfaction_band": bands.get("V-SATISFACTION"), "incidence_status": bands.get("V-INCIDENCE"),
            "exit_people": float(sum(h["household_size"] for h in cohort)),
            "households": float(len(households)),
            "households_failing": float(sum(bool(h["failing_criteria"]) for h in households)),
            "exit_households": float(len(cohort)),
            "first_secretary": _name(rng), "team_leader": _name(rng),
        })
    county = {
        "villages": pd.DataFrame(village_rows),
        "village_criteria": pd.DataFrame(criteria_rows),
        "households": _with_housing(pd.DataFrame(household_rows), random.Random(seed + 1)),
    }
    extra = random.Random(seed + 2)
    county["projects"] = _projects(county["villages"], profile, extra)
    county["issues"] = _issues(county["villages"], county["households"], extra)
    county["trend"] = _trend(county["villages"], extra)
    county["submissions"] = _submissions(county["villages"])
    return county


_SOLUTIONS = ["危房改造", "危房改造", "易地扶贫搬迁(集中安置)", "易地扶贫搬迁(分散安置)", "交钥匙工程", "未确定"]
_PROGRESS = ["未开工", "在建", "已竣工", "已入住"]
_PROJECTS = [("V-ROAD", "通村公路硬化工程", "交通运输局"), ("V-POWER", "农网改造工程", "供电分公司"),
             ("V-WATER", "安全饮水巩固提升工程", "水利局"), ("V-INDUSTRY", "茶园产业基地建设", "农业局"),
             ("H-HOUSING", "危房改造工程", "住建局"), ("V-CULTURE", "文化广场建设", "文化广电局")]


def _with_housing(households: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    """About a quarter of the households in unsafe houses, with a solution, progress and sometimes a site."""
    out = households.copy()
    out["resettlement_site"] = None
    for index in out.index:
        if rng.random() < 0.25:
            solution = rng.choice(_SOLUTIONS)
            out.loc[index, ["housing_safety", "housing_solution"]] = [rng.choice(["C级危房", "D级危房"]), solution]
            out.loc[index, "housing_progress"] = None if solution == "未确定" else rng.choice(_PROGRESS)
            if solution == "易地扶贫搬迁(集中安置)":
                out.loc[index, "resettlement_site"] = rng.choice(["杨家坝安置点", "社区安置点", "黄家湾安置点"])
    return out


def _projects(villages: pd.DataFrame, profile: Profile, rng: random.Random) -> pd.DataFrame:
    """双七 projects: some without an owner, some not started, some due after the evaluation date."""
    rows = []
    for village in villages.to_dict("records"):
        for number in range(rng.randint(1, 5)):
            code, name, department = rng.choice(_PROJECTS)
            due = profile.evaluation_date + dt.timedelta(days=rng.randint(-80, 20))
            rows.append({
                "project_id": f"SQ{village['village_code'][-8:]}{number + 1:02d}",
                "project_name": village["village_name"] + name, "village_code": village["village_code"],
                "township_code": village["township_code"], "criterion_code": code,
                "department": department if rng.random() > 0.1 else None,
                "lead": _name(rng) if rng.random() > 0.15 else None,
                "responsible_person": _name(rng) if rng.random() > 0.15 else None,
                "approval_status": rng.choice(["已批复", "已批复", "已申报", "未申报"]),
                "build_status": rng.choice(["未开工", "在建", "在建", "已完工", "已验收"]),
                "planned_completion": pd.Timestamp(due) if rng.random() > 0.05 else pd.NaT,
                "investment_10k_yuan": float(rng.randint(20, 900)), "progress_pct": float(rng.randint(0, 100)),
            })
    return pd.DataFrame(rows)


def _issues(villages: pd.DataFrame, households: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    """issues.csv rows as ingestion writes them: masked ID numbers, Excel rows, plain-words messages."""
    rows = []
    for village in villages.to_dict("records"):
        heads = households.loc[households["village_code"] == village["village_code"], "head_id_number"].tolist()
        for _ in range(rng.randint(0, 4)):
            row = rng.randint(3, 900)
            masked = idcard.mask(rng.choice(heads))
            rows.append({
                "township_code": village["township_code"],
                "file": f"{village['township_code']}_{village['township_name']}_{RUN['week']}.xlsx",
                "sheet": "贫困户", "row": row, "column": "户主证件号码", "rule": "DQ-ID-CHECK", "severity": "error",
                "message": f"第{row}行 户主证件号码「{masked}」校验位不对，号码有抄错的数字，请对照身份证核对",
                "village_code": village["village_code"],
            })
    return pd.DataFrame(rows, columns=["township_code", "file", "sheet", "row", "column", "rule", "severity",
                                       "message", "village_code"])


def _trend(villages: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    """Three earlier weeks per village, a little worse than this one, then this week's own figures."""
    rows = []
    for village in villages.to_dict("records"):
        for back, week in enumerate(["2016-W36", "2016-W37", "2016-W38"]):
            worse = 3 - back
            rows.append({
                "week": week, "village_code": village["village_code"], "grade": "未达标",
                "failing_criteria": ";".join([*village["failing_criteria"], "V-CLINIC"][: len(village["failing_criteria"]) + 1]),
                "satisfaction_rate": max(0.0, village["satisfaction_rate"] - 0.02 * worse * rng.random()),
                "poverty_incidence": village["poverty_incidence"] + 0.002 * worse,
                "households_failing": village["households_failing"] + worse * rng.randint(0, 3),
            })
        rows.append({"week": RUN["week"], **{k: village[k] for k in (
            "village_code", "grade", "failing_criteria", "satisfaction_rate", "poverty_incidence", "households_failing")}})
    return pd.DataFrame(rows)


def _submissions(villages: pd.DataFrame) -> pd.DataFrame:
    """submissions.csv rows: every township accepted on time; the first one also sent a file that was rejected."""
    rows = []
    towns = villages.drop_duplicates("township_code")[["township_code", "township_name"]].to_dict("records")
    for index, town in enumerate(towns):
        name = f"{town['township_code']}_{town['township_name']}_{RUN['week']}.xlsx"
        rows.append({**town, "file": name, "status": "accepted", "reason": "", "used": True, "on_time": True})
        if index == 0:
            rows.append({**town, "file": "补报.xlsx", "status": "rejected", "reason": "文件已损坏，无法打开，请重新保存后报送",
                         "used": False, "on_time": False})
    return pd.DataFrame(rows)


def village_frames(county: dict[str, pd.DataFrame], village_code: str) -> dict[str, Any]:
    """One village's slice of the county frames, as render_village_dossier takes it."""
    villages = county["villages"]
    village = villages[villages["village_code"] == village_code].iloc[0].to_dict()

    def own(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["village_code"] == village_code]

    return {
        "village": village,
        "criteria": own(county["village_criteria"]),
        "households": own(county["households"]),
        "projects": own(county["projects"]),
        "issues": own(county["issues"]),
        "trend": own(county["trend"]),
        "submissions": county["submissions"][county["submissions"]["township_code"] == village["township_code"]],
    }


def main(argv: list[str]) -> None:
    """Render a few village dossiers and the summary of a full-size synthetic county, with timings."""
    from evalprep.files import write_atomic
    from tasks.render.pdf import check_harfbuzz_subset, render_county_summary, render_village_dossier

    out = Path(argv[0] if argv else "/tmp/evalprep-preview")
    dossiers = int(argv[1]) if len(argv) > 1 else 5
    check_harfbuzz_subset()
    profile = load_profile()
    county = sample_county(profile, villages=300)
    for code in county["villages"]["village_code"].head(dossiers):
        started = time.perf_counter()
        pdf = render_village_dossier(profile, run=RUN, **village_frames(county, code))
        write_atomic(out / f"{code}.pdf", pdf)
        print(f"{code}.pdf  {time.perf_counter() - started:.2f} s  {len(pdf) // 1024} KB")
    started = time.perf_counter()
    pdf = render_county_summary(profile, county["villages"], county["households"], county["village_criteria"], RUN)
    write_atomic(out / "county.pdf", pdf)
    print(f"county.pdf  {time.perf_counter() - started:.2f} s  {len(pdf) // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
