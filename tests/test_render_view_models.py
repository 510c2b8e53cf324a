"""View models of the village dossier and the county summary, from tiny inline readiness frames."""
from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pandas as pd

import pytest

from evalprep import idcard
from evalprep.redaction import redact_text
from expectations.catalogue import load_profile
from tasks.evaluation_design import load_design
from tasks.render import view_models as vm

PROFILE = load_profile("xunyang-2016")
SATISFACTION = PROFILE.criterion("V-SATISFACTION").params
SATISFACTION_LABEL = PROFILE.criterion("V-SATISFACTION").label
INCIDENCE_LABEL = PROFILE.criterion("V-INCIDENCE").label
INCIDENCE = PROFILE.criterion("V-INCIDENCE").params
RUN = {
    "county": "旬阳县",
    "week": "2016-W39",
    "as_of": dt.date(2016, 9, 25),
    "run_id": "run-1",
    "generated_on": dt.date(2016, 9, 26),
    "targets": {"key_villages": 45, "exit_households": 10114},
}
HEAD_ID = idcard.make("610928", dt.date(1962, 3, 8), 123)
PHONE = "13891234567"


def village(**overrides):
    row = {
        "village_code": "610928100201", "village_name": "东坡村",
        "township_code": "610928100", "township_name": "城关镇",
        "is_key_village": True, "grade": "未达标", "failing_criteria": ["H-HOUSING", "V-SATISFACTION"],
        "satisfaction_rate": 33 / 43, "satisfaction_ci_low": 0.62, "satisfaction_ci_high": 0.87,
        "satisfaction_answers": 43.0, "satisfaction_yes": 33.0,
        "poverty_incidence": 0.041, "remaining_poor_people": 41.0, "rural_population": 1000.0,
        "wrong_exit_rate": 0.05, "exit_people": 120.0,
        # the verdicts tasks/assess.py takes once (tests/test_assess.py pins them); the views only read them
        "satisfaction_band": "fail", "incidence_status": "fail", "wrong_exit_status": "fail",
        "households": 3.0, "households_failing": 2.0, "exit_households": 2.0,
        "first_secretary": "王建国", "team_leader": "李秀英",
    }
    return {**row, **overrides}


def criteria(**failing):
    """One row per profile criterion; keyword CODE=(value, failing_count) marks it failing."""
    rows = []
    for c in PROFILE.criteria:
        value, count = failing.get(c.code.replace("-", "_"), (float("nan"), 0))
        rows.append({
            "village_code": "610928100201", "code": c.code,
            "status": "fail" if c.code.replace("-", "_") in failing else "pass",
            "value": value, "failing_count": float(count),
            "department": None, "lead": None, "responsible_person": None,
        })
    return pd.DataFrame(rows)


def household(number, failing, exit_status="预脱贫", **overrides):
    row = {
        "household_id": f"610928100201{number:04d}", "village_code": "610928100201",
        "township_code": "610928100", "exit_status": exit_status,
        "in_exit_cohort": exit_status in ("预脱贫", "已脱贫"), "meets_all": not failing,
        "failing_criteria": failing, "head_name": f"户主{number}", "head_id_number": HEAD_ID,
        "household_size": 3.0, "income_per_capita": 3100.0, "housing_safety": "安全",
        "housing_solution": "无需", "housing_progress": None, "helper_name": "张帮扶", "helper_phone": PHONE,
    }
    return {**row, **overrides}


HOUSEHOLDS = pd.DataFrame([
    household(1, [], "已脱贫"),
    household(2, ["H-INCOME"], "未脱贫"),
    household(3, ["H-HOUSING", "H-SKILL"], "预脱贫"),
])


def context(village_row=None, frame=None, households=HOUSEHOLDS, run=RUN):
    frame = criteria(H_HOUSING=(float("nan"), 3), V_SATISFACTION=(33 / 43, 0)) if frame is None else frame
    return vm.village_dossier_context(PROFILE, village_row or village(), frame, households, run)


def texts(actions):
    return [a["text"] for a in actions]


# ----------------------------------------------------------------------------------------- arithmetic

def test_additional_satisfied_is_the_fewest_that_reach_the_threshold():
    for threshold in (SATISFACTION["fail_below"], SATISFACTION["excellent_from"]):
        target = Fraction(str(threshold))
        for answers in range(0, 60):
            for satisfied in range(0, answers + 1):
                need = vm.additional_satisfied_needed(satisfied, answers, threshold)
                assert Fraction(satisfied + need, answers + need) >= target
                if need > 1 or (need == 1 and answers):
                    assert Fraction(satisfied + need - 1, answers + need - 1) < target


@pytest.mark.parametrize(("satisfied", "answers", "expected"), [
    (40, 50, 0),   # exactly 80%: passes
    (39, 50, 5),   # 44/55 = 80%, 43/54 < 80%
    (33, 43, 7),
    (0, 0, 1),     # no answers: one satisfied answer is the least that gives a rate
])
def test_additional_satisfied_at_the_boundary(satisfied, answers, expected):
    assert SATISFACTION["fail_below"] == 0.8, "the cases below are worked out for 80%"
    assert vm.additional_satisfied_needed(satisfied, answers, SATISFACTION["fail_below"]) == expected


def test_converted_satisfied_keeps_the_answers():
    assert vm.converted_satisfied_needed(36, 50, 0.8) == 4
    assert vm.converted_satisfied_needed(40, 50, 0.8) == 0


@pytest.mark.parametrize(("remaining", "population", "expected"), [
    (29, 1000, 0), (30, 1000, 1), (41, 1000, 12), (30, 1001, 0), (31, 1001, 1), (0, 0, 0),
])
def test_people_to_leave_poverty_is_strictly_below(remaining, population, expected):
    assert INCIDENCE["max"] == 0.03, "the cases below are worked out for 3%"
    assert vm.people_to_leave_poverty(remaining, population, INCIDENCE["max"]) == expected


def test_sample_shortfall_probability_is_binomial():
    satisfaction = load_profile("xunyang-2016").criterion("V-SATISFACTION")
    assert satisfaction.params["fail_below"] == 0.8, "the sum below is worked out for 80%"
    assert vm.sample_shortfall_probability(1.0, 10, satisfaction) == 0
    assert vm.sample_shortfall_probability(0.0, 10, satisfaction) == 1
    exact = sum(math.comb(10, k) * 0.8**k * 0.2 ** (10 - k) for k in range(8))  # 0–7 of 10 satisfied: below 80%
    assert vm.sample_shortfall_probability(0.8, 10, satisfaction) == pytest.approx(exact)


def test_percent_formats():
    assert vm.format_pct(0.72) == "72.0%"
    assert vm.format_pct(float("nan")) == "—"
    assert vm.format_threshold(0.8) == "80%"
    assert vm.format_threshold(0.025) == "2.5%"
    assert vm.format_date(pd.Timestamp("2016-09-05")) == "2016年9月5日"


# ---------------------------------------------------------------------------------------------- cover

def test_cover_counts_days_to_the_evaluation_date():
    cover = context()["cover"]
    assert cover["days_left"] == (PROFILE.evaluation_date - RUN["as_of"]).days == 97
    assert context(run={**RUN, "as_of": PROFILE.evaluation_date})["cover"]["days_left"] == 0
    assert cover["grade"] == "未达标" and cover["grade_symbol"] == "✘"
    assert cover["key_village"] == "重点村"
    assert (cover["first_secretary"], cover["team_leader"]) == ("王建国", "李秀英")
    assert cover["as_of"] == "2016年9月25日"


def test_cover_names_missing_people_as_not_named():
    cover = context(village(first_secretary=float("nan"), team_leader=None, is_key_village=False))["cover"]
    assert cover["first_secretary"] == cover["team_leader"] == vm.NOT_NAMED
    assert cover["key_village"] == "非重点村"


def test_document_furniture():
    document = context()["document"]
    assert document["header"] == "旬阳县 · 城关镇 · 东坡村 · 2016-W39"
    assert PROFILE.label in document["footer"] and "run-1" in document["footer"] and "2016年9月25日" in document["footer"]


# ------------------------------------------------------------------------------------------ scorecard

def test_scorecard_lists_every_profile_criterion_in_order_with_catalogue_fields():
    rows = context()["scorecard"]["rows"]
    assert [r["code"] for r in rows] == list(PROFILE.codes)
    for row, criterion in zip(rows, PROFILE.criteria):
        assert row["label"] == criterion.label and row["rule"] == criterion.rule
        assert row["veto"] is criterion.veto and bool(row["veto_mark"]) is criterion.veto


def test_scorecard_status_measured_and_threshold():
    by_code = {r["code"]: r for r in context()["scorecard"]["rows"]}
    satisfaction = by_code["V-SATISFACTION"]
    assert satisfaction["status_text"] == "✘ 未达标"
    assert satisfaction["measured"] == "76.7%"
    assert satisfaction["threshold"] == f"≥ {SATISFACTION['fail_below'] * 100:g}%"
    assert by_code["H-HOUSING"]["measured"] == "脱贫户 3 户不达标"
    assert by_code["H-INCOME"]["status_text"] == "✔ 达标" and by_code["H-INCOME"]["measured"] == "脱贫户全部达标"
    assert by_code["H-INCOME"]["threshold"] == f"≥ {PROFILE.poverty_line:g} 元"
    assert by_code["V-INCIDENCE"]["threshold"] == f"< {INCIDENCE['max'] * 100:g}%"


def test_water_coverage_is_a_percent_column():
    frame = criteria(V_WATER=(85.0, 0))
    row = next(r for r in context(frame=frame)["scorecard"]["rows"] if r["code"] == "V-WATER")
    assert row["measured"] == "85%"


def test_scorecard_owner_unnamed_by_the_project_is_not_named_and_only_routed_to_the_catalogue():
    frame = criteria(H_HOUSING=(float("nan"), 3))
    frame.loc[frame["code"] == "V-ROAD", ["department", "department_named", "lead", "responsible_person"]] = [
        "交通运输局", "交通运输局", "赵主抓", "钱责任"]
    by_code = {r["code"]: r for r in context(frame=frame)["scorecard"]["rows"]}
    assert (by_code["V-ROAD"]["department"], by_code["V-ROAD"]["lead"], by_code["V-ROAD"]["responsible"]) == (
        "交通运输局", "赵主抓", "钱责任")
    housing = PROFILE.criterion("H-HOUSING")
    assert by_code["H-HOUSING"]["department"] == vm.NOT_NAMED
    assert by_code["H-HOUSING"]["routed"] == "、".join(housing.departments)
    assert by_code["H-HOUSING"]["lead"] == vm.NOT_NAMED
    assert by_code["H-INCOME"]["lead"] == "—"


def test_a_criterion_without_a_row_shows_no_data():
    frame = criteria()
    frame = frame[frame["code"] != "V-CLINIC"]
    row = next(r for r in context(frame=frame)["scorecard"]["rows"] if r["code"] == "V-CLINIC")
    assert row["status"] == "missing" and row["status_text"] == vm.NO_DATA_TEXT


def test_legend_cites_the_profile_and_its_sources():
    legend = context()["scorecard"]["legend"]
    assert legend["profile"] == PROFILE.label
    cited = [s["text"] for s in legend["sources"]]
    assert set(PROFILE.sources) <= set(cited)
    for row in context()["scorecard"]["rows"]:
        assert cited[row["source_number"] - 1] == PROFILE.criterion(row["code"]).source_text


# ---------------------------------------------------------------------------------------- third party

def test_third_party_says_what_must_change_to_pass():
    view = context()["third_party"]
    lines = texts(view["actions"])
    assert any(line.startswith("需再有 7 户表示满意") for line in lines)
    assert any(line.startswith("脱贫户 3 户安全住房未解决") for line in lines)
    assert any(line.startswith("需再有 12 名贫困人口脱贫") for line in lines)
    assert [a["veto"] for a in view["actions"]] == sorted((a["veto"] for a in view["actions"]), reverse=True)


def test_third_party_figures():
    view = context()["third_party"]
    sat = view["satisfaction"]
    assert (sat["rate"], sat["interval"], sat["answers"], sat["satisfied"]) == ("76.7%", "62.0%–87.0%", 43, 33)
    assert sat["confidence"] == "95%" and sat["sample"] == load_design().questionnaire_per_village
    assert view["incidence"]["rate"] == "4.1%" and view["incidence"]["status_text"] == "✘ 未达标"
    assert view["wrong_exit"]["label"] == PROFILE.metrics["wrong_exit_rate"]["label"]
    assert (view["wrong_exit"]["rate"], view["wrong_exit"]["status_text"]) == ("5.0%", "✘ 未达标")


def test_wrong_exit_is_shown_pooled_and_for_this_years_cohort():
    row = village(exit_households=10, wrong_exit_households=1, exit_people=40.0, wrong_exit_rate=3 / 40,
                  exit_households_year=4, wrong_exit_households_year=0, exit_people_year=15.0, wrong_exit_rate_year=0.0,
                  wrong_exit_status_year="pass")
    pooled, year = context(row)["third_party"]["wrong_exit"]["cohorts"]
    assert (pooled["households"], pooled["failing_households"], pooled["rate"], pooled["status_text"]) == (10, 1, "7.5%", "✘ 未达标")
    assert (year["households"], year["failing_households"], year["rate"], year["status_text"]) == (4, 0, "0.0%", "✔ 达标")
    assert year["population"].startswith(str(PROFILE.year))


def test_county_wrong_exit_split_sums_the_villages():
    villages = pd.DataFrame([village(exit_households=10, wrong_exit_households=1, exit_people=40.0, wrong_exit_people=3.0,
                                     exit_households_year=4, wrong_exit_households_year=1, exit_people_year=10.0,
                                     wrong_exit_people_year=3.0),
                             village(village_code="610928100202", exit_households=20, wrong_exit_households=0,
                                     exit_people=60.0, wrong_exit_people=0.0, exit_households_year=5,
                                     wrong_exit_households_year=0, exit_people_year=20.0, wrong_exit_people_year=0.0)])
    pooled, year = vm.wrong_exit_split(PROFILE, villages)["rows"]
    assert (pooled["households"], pooled["failing_households"], pooled["people"], pooled["rate"]) == (30, 1, 100, "3.00%")
    assert (year["households"], year["failing_households"], year["people"], year["rate"]) == (9, 1, 30, "10.00%")


def test_satisfaction_between_pass_and_excellent_asks_for_the_excellent_band():
    row = village(satisfaction_yes=42.0, satisfaction_answers=50.0, satisfaction_rate=0.84, satisfaction_band="pass",
                  remaining_poor_people=20.0, poverty_incidence=0.02, incidence_status="pass")
    lines = texts(context(row, frame=criteria())["third_party"]["actions"])
    assert lines == [f"评优还需再有 30 户表示满意，群众满意度才能达到 {SATISFACTION['excellent_from'] * 100:g}%"]


def test_no_survey_is_a_gap():
    row = village(satisfaction_yes=0.0, satisfaction_answers=0.0, satisfaction_rate=float("nan"),
                  satisfaction_ci_low=float("nan"), satisfaction_ci_high=float("nan"))
    view = context(row, frame=criteria())["third_party"]
    assert view["satisfaction"]["rate"] == "无调查" and view["satisfaction"]["chart"] is None
    assert any("尚无群众满意度调查" in line for line in texts(view["actions"]))


# ------------------------------------------------------------------------------------- household gaps

def test_household_gaps_are_masked_worded_and_cohort_first():
    gaps = context()["household_gaps"]
    assert (gaps["total"], gaps["cohort_total"], gaps["more"]) == (2, 1, 0)
    first, second = gaps["rows"]
    assert first["household_id"].endswith("0003") and first["in_cohort"]
    assert first["failing"] == "安全住房、劳动技能"
    assert first["head_id"] == HEAD_ID[:6] + "*" * 8 + HEAD_ID[-4:]
    assert first["helper_phone"] == "138****4567"
    assert second["household_id"].endswith("0002") and second["first_remaining"]
    assert HEAD_ID not in str(gaps) and PHONE not in str(gaps)


def test_household_gaps_show_at_most_forty_rows_and_count_the_rest():
    households = pd.DataFrame([household(n, "H-INCOME;H-WATER", "未脱贫" if n % 2 else "已脱贫")
                               for n in range(1, 46)])
    gaps = context(households=households)["household_gaps"]
    assert (len(gaps["rows"]), gaps["total"], gaps["more"]) == (vm.MAX_GAP_ROWS, 45, 45 - vm.MAX_GAP_ROWS)
    assert all(r["in_cohort"] for r in gaps["rows"][:22]) and not gaps["rows"][22]["in_cohort"]
    assert gaps["rows"][0]["failing"] == "稳定收入、安全饮水（户）"


# ---------------------------------------------------------------------------------------------- county

def county_frames():
    villages = pd.DataFrame([
        village(),
        village(village_code="610928100202", village_name="桂花村", grade="合格", failing_criteria=["V-CLINIC"],
                is_key_village=True, households_failing=1.0),
        village(village_code="610928101201", village_name="庙坪村", township_code="610928101",
                township_name="棕溪镇", grade="优秀", failing_criteria=[], is_key_village=False,
                households_failing=0.0),
        village(village_code="610928101202", village_name="双河村", township_code="610928101",
                township_name="棕溪镇", grade="未达标", failing_criteria=["H-INCOME", "H-WATER", "V-ROAD"],
                is_key_village=False, households_failing=4.0),
    ])
    village_criteria = pd.concat([
        criteria(H_HOUSING=(float("nan"), 3), V_SATISFACTION=(33 / 43, 0)),
        criteria(V_CLINIC=(float("nan"), 0)).assign(village_code="610928100202"),
        criteria().assign(village_code="610928101201"),
        criteria(H_INCOME=(float("nan"), 2), H_WATER=(float("nan"), 1), V_ROAD=(float("nan"), 0))
        .assign(village_code="610928101202"),
    ])
    households = pd.DataFrame([
        household(1, [], "已脱贫", planned_exit_year=2016.0),
        household(2, ["H-INCOME"], "预脱贫", planned_exit_year=2016.0),
        household(3, [], "未脱贫", planned_exit_year=2017.0),
    ])
    return villages, households, village_criteria


def test_county_summary_counts_grades_progress_and_townships():
    villages, households, village_criteria = county_frames()
    ctx = vm.county_summary_context(PROFILE, villages, households, village_criteria, RUN)
    assert [(g["grade"], g["count"]) for g in ctx["grades"]] == [("未达标", 2), ("合格", 1), ("优秀", 1)]
    key = ctx["progress"]["key_villages"]
    assert (key["done"], key["target"], key["in_register"]) == (1, 45, 2)
    exits = ctx["progress"]["exit_households"]
    # households planned to exit this year that meet all, against the target: h1 (h2 fails, h3 is planned for 2017)
    assert (exits["done"], exits["target"], exits["planned"]) == (1, 10114, 2)
    assert (exits["cohort"], exits["cohort_ready"]) == (2, 1)
    assert exits["by_plan"] and exits["share"] == "0.0%"
    assert [(t["name"], t["villages"], t["grade_counts"]) for t in ctx["townships"]] == [
        ("城关镇", 2, [1, 1, 0]), ("棕溪镇", 2, [1, 0, 1])]
    assert ctx["township_total"]["grade_counts"] == [2, 1, 1]


def test_county_summary_puts_most_veto_failures_first_and_counts_criteria():
    villages, households, village_criteria = county_frames()
    ctx = vm.county_summary_context(PROFILE, villages, households, village_criteria, RUN)
    assert [v["village"] for v in ctx["worst_villages"]] == ["双河村", "东坡村", "桂花村"]
    assert ctx["worst_villages"][0]["veto_failing"] == "稳定收入、安全饮水（户）、通村硬化路"
    assert ctx["failing_villages"] == 3
    by_code = {c["code"]: c for c in ctx["criteria"]}
    assert [c["code"] for c in ctx["criteria"]] == list(PROFILE.codes)
    assert (by_code["H-HOUSING"]["villages_failing"], by_code["H-HOUSING"]["failing_count"]) == (1, "3 户")
    assert by_code["V-CLINIC"]["key_villages_failing"] == 1
    assert by_code["V-ROAD"]["failing_count"] == "—"


def test_county_without_planned_exit_year_leaves_it_out():
    villages, households, village_criteria = county_frames()
    ctx = vm.county_summary_context(PROFILE, villages, households.drop(columns="planned_exit_year"),
                                    village_criteria, RUN)
    exits = ctx["progress"]["exit_households"]
    assert exits["planned"] is None and not exits["by_plan"]
    assert exits["done"] == exits["cohort_ready"] == 1


# ------------------------------------------------------------------------------------------ jinja-safe

DICT_ATTRIBUTES = set(dir(dict))


def _keys(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _keys(inner)


def test_no_context_key_shadows_a_dict_method():
    from tasks.render.rollup_views import department_list_context, township_summary_context
    from tests.test_departments import ITEMS, PROFILE as P

    villages, households, village_criteria = county_frames()
    contexts = (
        context(households=HOUSING_FRAME),
        vm.village_dossier_context(PROFILE, village(), criteria(), HOUSEHOLDS, RUN, projects=PROJECT_FRAME),
        vm.county_summary_context(PROFILE, villages, households, village_criteria, RUN, simulation=SIMULATION),
        township_summary_context(PROFILE, villages, households, village_criteria, RUN),
        department_list_context(P, "住建局", ITEMS[ITEMS["department"] == "住建局"], RUN),
    )
    for ctx in contexts:
        assert not DICT_ATTRIBUTES & set(_keys(ctx))


def test_empty_frames_give_empty_sections_not_errors():
    gaps = context(households=HOUSEHOLDS.iloc[0:0])["household_gaps"]
    assert (gaps["rows"], gaps["total"], gaps["households"]) == ([], 0, 0)
    villages, households, village_criteria = county_frames()
    ctx = vm.county_summary_context(PROFILE, villages.iloc[0:0], households.iloc[0:0],
                                    village_criteria.iloc[0:0], RUN)
    assert ctx["townships"] == [] and ctx["worst_villages"] == []
    assert ctx["progress"]["exit_households"]["done"] == 0


# --------------------------------------------------------------------------------------------- housing

def housed(number, solution, progress=None, site=None, failing=(), exit_status="预脱贫"):
    return household(number, list(failing), exit_status, housing_safety="安全" if solution == "无需" else "D级危房",
                     housing_solution=solution, housing_progress=progress, resettlement_site=site)


HOUSING_FRAME = pd.DataFrame([
    housed(1, "无需"),
    housed(2, "危房改造", "未开工", failing=["H-HOUSING"]),
    housed(3, "危房改造", "已入住"),
    housed(4, "易地扶贫搬迁(集中安置)", "未开工", "杨家坝安置点", failing=["H-HOUSING"]),
    housed(5, "易地扶贫搬迁(集中安置)", "未开工", "杨家坝安置点", failing=["H-HOUSING"], exit_status="未脱贫"),
    housed(6, "易地扶贫搬迁(集中安置)", "已竣工", "社区安置点"),
    housed(7, "易地扶贫搬迁(集中安置)", "未开工", "社区安置点", failing=["H-HOUSING"]),
    housed(8, "未确定", None, failing=["H-HOUSING"]),
])


def test_housing_counts_households_by_solution_and_progress():
    housing = context(households=HOUSING_FRAME)["housing"]
    assert (housing["households"], housing["no_need"], housing["building"]) == (8, 1, 7)
    assert housing["columns"] == ["未开工", "在建", "已竣工", "已入住", "未填"]
    rows = {r["solution"]: r["cells"] for r in housing["rows"]}
    assert rows == {"危房改造": [1, 0, 0, 1, 0], "易地扶贫搬迁(集中安置)": [3, 0, 1, 0, 0], "未确定": [0, 0, 0, 0, 1]}
    assert housing["totals"] == [4, 0, 1, 1, 1] and housing["not_started"] == 4
    assert (housing["unresolved"], housing["unresolved_cohort"]) == (5, 4)
    assert housing["label"] == PROFILE.criterion("H-HOUSING").label


def test_resettlement_sites_not_started_come_first():
    sites = context(households=HOUSING_FRAME)["housing"]["sites"]
    assert [(s["site"], s["households"], s["not_started"], s["status"]) for s in sites] == [
        ("杨家坝安置点", 2, 2, "✘ 未开工"), ("社区安置点", 2, 1, "◐ 1 户未开工")]


def test_housing_spreadsheet_rows_are_complete_and_masked():
    complete = context(households=HOUSING_FRAME)["housing"]["complete"]
    assert [r["household_id"][-4:] for r in complete] == ["0002", "0003", "0004", "0005", "0006", "0007", "0008"]
    assert HEAD_ID not in str(complete) and PHONE not in str(complete)


# -------------------------------------------------------------------------------------------- projects

def project(pid, **overrides):
    row = {"project_id": pid, "project_name": f"项目{pid}", "village_code": "610928100201", "criterion_code": "V-ROAD",
           "department": "交通运输局", "lead": "赵主抓", "responsible_person": "钱责任", "approval_status": "已批复",
           "build_status": "在建", "planned_completion": pd.Timestamp("2016-11-30"), "progress_pct": 40.0}
    return {**row, **overrides}


PROJECT_FRAME = pd.DataFrame([
    project("P1"),
    project("P2", build_status="未开工"),
    project("P3", lead=None, department=""),
    project("P4", planned_completion=pd.Timestamp(PROFILE.evaluation_date) + pd.Timedelta(days=10)),
    project("P5", planned_completion=pd.NaT, build_status="已完工"),
    project("P6", planned_completion=pd.NaT),
])


def test_projects_with_owner_gaps_first_then_not_started_then_late():
    projects = context(frame=None)["projects"]
    assert projects["total"] == 0 and projects["rows"] == []
    view = vm.village_dossier_context(PROFILE, village(), criteria(), HOUSEHOLDS, RUN, projects=PROJECT_FRAME)["projects"]
    assert [r["project_id"] for r in view["rows"]] == ["P3", "P2", "P4", "P6", "P1", "P5"]
    by_id = {r["project_id"]: r for r in view["rows"]}
    assert by_id["P3"]["problems"] == ["缺主责部门", "缺工作主抓人"]
    assert by_id["P3"]["department"] == by_id["P3"]["lead"] == vm.NOT_NAMED
    assert by_id["P2"]["problems"] == ["未开工"]
    assert by_id["P4"]["problems"] == ["计划完工晚于评估日"] and by_id["P4"]["late"]
    assert by_id["P6"]["problems"] == ["未填计划完工日期"]
    assert by_id["P5"]["problems"] == [] and by_id["P1"]["problems"] == []  # finished: no date needed
    assert (view["owner_gaps"], view["not_started"], view["late"], view["undated"], view["with_problems"]) == (1, 1, 1, 1, 4)
    assert by_id["P1"]["criterion"] == PROFILE.criterion("V-ROAD").label and by_id["P1"]["due"] == "2016年11月30日"


def test_long_project_lists_show_the_worst_and_count_the_rest():
    many = pd.DataFrame([project(f"P{n:02d}", lead=None if n % 3 == 0 else "赵") for n in range(20)])
    view = vm.village_dossier_context(PROFILE, village(), criteria(), HOUSEHOLDS, RUN, projects=many)["projects"]
    from tasks.render.village_sections import MAX_PROJECT_ROWS
    assert len(view["rows"]) == MAX_PROJECT_ROWS and view["more"] == 20 - MAX_PROJECT_ROWS
    assert len(view["complete"]) == 20 and all(r["owner_gap"] for r in view["rows"][:7])


# ---------------------------------------------------------------------------------------- data quality

def test_data_quality_lists_the_villages_issues_errors_first_and_redacts_numbers():
    issues = pd.DataFrame([
        {"township_code": "610928100", "file": "城关镇.xlsx", "sheet": "贫困户", "row": 12, "column": "人均纯收入(元)",
         "rule": "DQ-NUMBER", "severity": "warning", "message": "第12行 人均纯收入(元)「三千」不是数字，请只填数字",
         "village_code": "610928100201"},
        {"township_code": "610928100", "file": "城关镇.xlsx", "sheet": "家庭成员", "row": 40, "column": "证件号码",
         "rule": "DQ-ID-CHECK", "severity": "error", "message": f"第40行 证件号码「{HEAD_ID}」校验位不对，电话 {PHONE}",
         "village_code": "610928100201"},
    ])
    submissions = pd.DataFrame([
        {"township_code": "610928100", "township_name": "城关镇", "file": "城关镇.xlsx", "status": "accepted",
         "reason": "", "used": True, "on_time": False},
        {"township_code": "610928100", "township_name": "城关镇", "file": "城关镇补报.xlsx", "status": "rejected",
         "reason": "文件已损坏，无法打开，请重新保存后报送", "used": False, "on_time": True},
        {"township_code": "610928101", "township_name": "棕溪镇", "file": "棕溪镇.xlsx", "status": "accepted",
         "reason": "", "used": True, "on_time": True},
    ])
    quality = vm.village_dossier_context(PROFILE, village(), criteria(), HOUSEHOLDS, RUN, issues=issues,
                                         submissions=submissions)["data_quality"]
    assert (quality["total"], quality["errors"], quality["warnings"]) == (2, 1, 1)
    first = quality["rows"][0]
    assert (first["severity_text"], first["sheet"], first["row"], first["column"]) == ("✘ 须更正", "家庭成员", "40", "证件号码")
    assert HEAD_ID not in first["message"] and HEAD_ID[:6] + "*" * 8 + HEAD_ID[-4:] in first["message"]
    assert PHONE not in first["message"] and "138****4567" in first["message"]
    files = quality["submission"]["files"]
    assert [(f["file"], f["status_text"], f["timing"]) for f in files] == [
        ("城关镇.xlsx", "✔ 已接收", "✘ 逾期"), ("城关镇补报.xlsx", "✘ 被退回", "按时")]
    assert quality["submission"]["used"]["file"] == "城关镇.xlsx" and quality["submission"]["rejected"] == 1
    assert files[1]["reason"].startswith("文件已损坏")


def test_redact_masks_ids_and_phones_in_free_text_only():
    assert redact_text(f"号码{HEAD_ID}，电话{PHONE}") == f"号码{vm.mask(HEAD_ID)}，电话138****4567"
    assert redact_text("户编号6109281002010001，村代码610928100201") == "户编号6109281002010001，村代码610928100201"


# ----------------------------------------------------------------------------------------------- trend

def test_trend_points_per_week_oldest_first_with_changes():
    trend = pd.DataFrame([
        {"week": "2016-W39", "village_code": "610928100201", "grade": "合格", "failing_criteria": ["V-CLINIC"],
         "satisfaction_rate": 0.85, "poverty_incidence": 0.02, "households_failing": 3},
        {"week": "2016-W37", "village_code": "610928100201", "grade": "未达标", "failing_criteria": "H-HOUSING;V-CLINIC",
         "satisfaction_rate": 0.75, "poverty_incidence": 0.031, "households_failing": 9},
        {"week": "2016-W38", "village_code": "610928100201", "grade": "未达标", "failing_criteria": "H-HOUSING",
         "satisfaction_rate": float("nan"), "poverty_incidence": 0.025, "households_failing": 5},
    ])
    view = vm.village_dossier_context(PROFILE, village(), criteria(), HOUSEHOLDS, RUN, trend=trend)["trend"]
    assert [r["week"] for r in view["rows"]] == ["2016-W37", "2016-W38", "2016-W39"]
    assert [r["grade"] for r in view["rows"]] == ["未达标", "未达标", "合格"]
    assert view["titles"] == [SATISFACTION_LABEL, INCIDENCE_LABEL, "不达标建档立卡户"]
    assert [r["figures"] for r in view["rows"]] == [["75.0%", "3.1%", "9 户"], ["—", "2.5%", "5 户"], ["85.0%", "2.0%", "3 户"]]
    assert view["rows"][1]["fixed"] == PROFILE.criterion("V-CLINIC").label
    assert view["rows"][2]["fixed"] == PROFILE.criterion("H-HOUSING").label
    assert view["rows"][2]["new"] == PROFILE.criterion("V-CLINIC").label
    satisfaction, incidence, failing = view["charts"]
    assert [p["text"] for p in satisfaction["points"]] == ["75.0%", "85.0%"]   # the missing week has no point
    assert satisfaction["segments"] == []                                      # … and breaks the line
    assert [t["text"] for t in satisfaction["x_ticks"]] == ["W37", "W38", "W39"]
    assert {r["text"] for r in satisfaction["references"]} == {f"{SATISFACTION['fail_below'] * 100:g}%",
                                                               f"{SATISFACTION['excellent_from'] * 100:g}%"}
    assert len(incidence["segments"]) == 1 and len(incidence["segments"][0].split()) == 3
    ys = [p["y"] for p in failing["points"]]
    assert ys == sorted(ys)                                                    # fewer failing households: lower
    assert failing["y_ticks"][0]["text"] == "0户"


def test_no_history_gives_an_empty_trend():
    view = context()["trend"]
    assert view["rows"] == [] and view["charts"] == []


# ------------------------------------------------------------------------------------------- simulation

SIMULATION = {
    "draws": 2000, "p_any_fail": 1.0, "missed_rate_measured": False,
    "design": {"label": "设计", "villages": {"poor": 19, "non_poor": 10}, "households": {"exited": 24, "ordinary": 27},
               "questionnaire_per_village": 37},
    "sample": {"villages": 29.0, "households": 1450.6, "exit_people": 2088.0, "ordinary": 783.0, "questionnaire": 1073.0},
    "by_villages": [{"villages": 10, "design_default": False, "households": 540.0, "p_any_fail": 0.9,
                     "p_fail": {"wrong_exit_rate": 0.4, "missed_rate": None, "recognition": 0.9, "overall_incidence": 0.0}},
                    {"villages": 29, "design_default": True, "households": 1450.6, "p_any_fail": 1.0,
                     "p_fail": {"wrong_exit_rate": 0.498, "missed_rate": None, "recognition": 1.0, "overall_incidence": 0.0}}],
    "notes": ["未报送疑似漏评户，漏评率无法测算"],
    "metrics": {
        "wrong_exit_rate": {"label": "错退率", "fails_if": "≥ 2%", "measured": True, "point_estimate": 0.0199,
                            "q05": 0.0083, "q95": 0.0345, "p_fail": 0.498},
        "missed_rate": {"label": "漏评率", "fails_if": "≥ 2%", "measured": False, "point_estimate": 0.0, "q05": 0.0,
                        "q95": 0.0, "p_fail": 0.0},
        "recognition": {"label": "群众认可度", "fails_if": "< 90%", "measured": True, "point_estimate": 0.8345,
                        "q05": 0.813, "q95": 0.857, "p_fail": 1.0},
        "overall_incidence": {"label": "综合贫困发生率", "fails_if": "≥ 3%", "measured": True, "point_estimate": 0.024,
                              "q05": 0.0227, "q95": 0.0257, "p_fail": 0.0},
    },
}


def test_simulation_headline_gives_the_chances_and_says_what_was_not_measured():
    villages, households, village_criteria = county_frames()
    sim = vm.county_summary_context(PROFILE, villages, households, village_criteria, RUN, simulation=SIMULATION)["simulation"]
    by_key = {m["key"]: m for m in sim["metrics"]}
    assert by_key["wrong_exit_rate"]["p_fail"] == "≈ 49.8%" and by_key["wrong_exit_rate"]["point"] == "1.99%"
    assert by_key["recognition"]["p_fail"] == "> 99.95%"
    assert by_key["overall_incidence"]["p_fail"] == "< 0.05%"
    assert not by_key["missed_rate"]["measured"] and by_key["missed_rate"]["point"] == "未测算"
    assert sim["not_measured"] == "漏评率" and sim["p_any_fail"] == "> 99.95%"
    assert "漏评率" not in sim["any_labels"] and "综合贫困发生率" in sim["any_labels"]
    # the sample actually simulated, never a hard-coded figure
    assert (sim["sample"]["villages"], sim["sample"]["households"], sim["sample"]["questionnaire"]) == (29, 1451, 1073)
    assert "贫困村 19 个" in sim["design"]["villages"]
    rows = sim["by_villages"]
    assert [(r["villages"], r["default"], r["p_any_fail"]) for r in rows] == [(10, False, "≈ 90.0%"), (29, True, "> 99.95%")]
    assert rows[0]["p_fail"][0] == "≈ 40.0%" and rows[0]["p_fail"][2] == "—"  # metrics in headline order; 漏评率 not measured
    assert vm.county_summary_context(PROFILE, villages, households, village_criteria, RUN)["simulation"] is None


# ---------------------------------------------------------------------------------- township, department

def test_township_summary_lists_every_village_of_the_township_worst_first():
    from tasks.render.rollup_views import township_summary_context

    villages, households, village_criteria = county_frames()
    town = villages[villages["township_code"] == "610928101"]
    issues = pd.DataFrame([{"village_code": "610928101202", "severity": "error"}] * 3)
    ctx = township_summary_context(PROFILE, town, households.assign(township_code="610928101"),
                                   village_criteria[village_criteria["village_code"].isin(town["village_code"])],
                                   RUN, issues=issues)
    assert ctx["overview"]["township"] == "棕溪镇" and ctx["document"]["header"] == "旬阳县 · 棕溪镇 · 2016-W39"
    assert [(v["village"], v["issues"]) for v in ctx["villages"]] == [("双河村", 3), ("庙坪村", 0)]
    assert [(g["grade"], g["count"]) for g in ctx["grades"]] == [("未达标", 1), ("合格", 0), ("优秀", 1)]
    assert ctx["progress"]["key_villages"]["target"] == 0
    assert (ctx["progress"]["exit_households"]["done"], ctx["progress"]["exit_households"]["target"]) == (1, 2)
    assert ctx["issues"] == {"total": 3, "errors": 3, "villages": 1}


def test_department_list_orders_and_words_the_items():
    from tasks.render.rollup_views import MISSING_OWNER, department_list_context
    from tests.test_departments import ITEMS, PROFILE as P

    items = ITEMS[ITEMS["department"] == "住建局"]
    ctx = department_list_context(P, "住建局", items, RUN, turned=["A"])
    overview = ctx["overview"]
    assert (overview["item_count"], overview["owner_missing"], overview["decisive"], overview["villages"]) == (4, 3, 1, 3)
    assert overview["turned"] == 1 and overview["turned_names"] == "城关镇A村"
    assert overview["attachment"] == "住建局.xlsx"
    housing = P.criterion("H-HOUSING")
    assert ctx["fixes"][0]["label"] == housing.label and ctx["fixes"][0]["decisive"] == 1
    rows = ctx["rows"]
    assert [r["village"] for r in rows] == ["C村", "B村", "B村", "A村"]
    assert rows[0]["problem"] == f"{housing.label}：脱贫户 2 户未达标" and rows[0]["impact"] == "◆ 否决项之一（共 2 项）"
    assert rows[0]["lead"] == rows[0]["responsible"] == MISSING_OWNER
    assert rows[2]["problem"] == f"项目「B村危房改造」（{housing.label}）缺工作主抓人"
    assert rows[3]["impact"] == "✘ 唯一否决项，解决即可合格" and rows[3]["lead"] == "杨主抓"
    assert ctx["document"]["header"] == "旬阳县 · 住建局 · 2016-W39"


def test_department_list_prints_the_worst_and_keeps_all_for_the_spreadsheet():
    from tasks.render.rollup_views import MAX_DEPARTMENT_ROWS, department_list_context
    from tests.test_departments import ITEMS, PROFILE as P

    items = pd.concat([ITEMS[ITEMS["department"] == "住建局"]] * 20, ignore_index=True)
    ctx = department_list_context(P, "住建局", items, RUN)
    assert len(ctx["rows"]) == MAX_DEPARTMENT_ROWS and ctx["more"] == 80 - MAX_DEPARTMENT_ROWS
    assert len(ctx["complete"]) == 80


def test_department_households_sheet_lists_exit_households_of_its_criteria_masked():
    from tasks.render.rollup_views import department_list_context
    from tests.test_departments import ITEMS, PROFILE as P

    households = pd.DataFrame([
        household(1, ["H-HOUSING"], "预脱贫", village_code="A"),
        household(2, ["H-HOUSING"], "未脱贫", village_code="A"),   # not in the exit cohort: not listed
        household(3, ["H-INCOME"], "已脱贫", village_code="B"),     # another department's criterion
        household(4, ["H-HOUSING", "H-INCOME"], "已脱贫", village_code="C"),
    ])
    rows = department_list_context(P, "住建局", ITEMS[ITEMS["department"] == "住建局"], RUN, households)["households"]
    assert [(r["village_code"], r["household_id"][-4:], r["failing"]) for r in rows] == [
        ("A", "0001", P.criterion("H-HOUSING").label), ("C", "0004", P.criterion("H-HOUSING").label)]
    assert HEAD_ID not in str(rows) and PHONE not in str(rows)


def test_domain_words_of_the_sections_are_template_vocabulary():
    from evalprep.template import vocabularies
    from tasks.render import village_sections as vs

    words = vocabularies()
    assert vs.NO_NEED in words["housing_solution"]
    assert vs.NOT_STARTED in words["housing_progress"] and vs.NOT_STARTED in words["build_status"]
    assert set(vs.HOUSING_DONE) <= set(words["housing_progress"])
    assert set(vs.FINISHED_BUILDS) <= set(words["build_status"])


def test_recognition_is_judged_at_the_evaluators_line():
    # 认可度 = 认可户 / 全部受访户; exactly 90% fails (the verdict: tests/test_assess.py), printed so it never
    # reads as passing
    at_line = context(village(recognition_surveyed=40, recognition_yes=36, recognition_rate=0.9,
                              recognition_status="fail"))["third_party"]
    rec = at_line["satisfaction"]["recognition"]
    assert (rec["rate"], rec["status_text"], rec["surveyed"], rec["approving"]) == ("90.0%", "✘ 未达标", 40, 36)
    above = context(village(recognition_surveyed=40, recognition_yes=37, recognition_rate=0.925,
                            recognition_status="pass"))["third_party"]
    assert above["satisfaction"]["recognition"]["status_text"] == "✔ 达标"


def test_a_department_list_names_a_village_sent_without_a_name_by_its_code():
    """A village whose name cell was empty (or a formula without a value) is listed, not a crash."""
    from tasks.render.rollup_views import department_list_context
    from tests.test_departments import ITEMS, PROFILE as P

    items = ITEMS[ITEMS["department"] == "住建局"].copy()
    items.loc[items["village_code"] == "A", "village_name"] = float("nan")
    ctx = department_list_context(P, "住建局", items, RUN, turned=["A"])
    assert ctx["overview"]["turned_names"] == "城关镇A"
