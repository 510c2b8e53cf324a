import math

import pandas as pd
import pytest

from expectations.catalogue import load_profile
from tasks.assess import (
    GRADE_EXCELLENT, GRADE_FAIL, GRADE_PASS, assess_readiness, village_grade, wilson_interval,
)

PROFILE = load_profile("xunyang-2016")


@pytest.mark.parametrize("band, grade", [("fail", GRADE_FAIL), ("unknown", GRADE_FAIL), (None, GRADE_FAIL),
                                         ("pass", GRADE_PASS), ("excellent", GRADE_EXCELLENT)])
def test_the_grade_follows_the_satisfaction_band_gx_decided(band, grade):
    assert village_grade(set(), PROFILE, band, False) == grade


def test_veto_failure_fails_and_non_veto_failure_blocks_only_excellent():
    assert village_grade({"V-ROAD"}, PROFILE, "excellent", False) == GRADE_FAIL
    assert village_grade({"V-CULTURE"}, PROFILE, "excellent", False) == GRADE_PASS


def test_a_failing_wrong_exit_rate_is_not_excellent():
    assert village_grade(set(), PROFILE, "excellent", True) == GRADE_PASS


def test_wilson_interval_brackets_the_rate():
    low, high = wilson_interval(24, 30)
    assert low < 0.8 < high
    assert (round(low, 3), round(high, 3)) == (0.627, 0.905)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def _frames(cohort_failing_income: bool):
    households = pd.DataFrame({
        "household_id": ["A1", "A2", "A3"],
        "village_code": ["V1", "V1", "V1"],
        "township_code": ["T"] * 3,
        "exit_status": ["预脱贫", "已脱贫", "未脱贫"],
        "in_exit_cohort": [True, True, False],
        "household_size": [3.0, 2.0, 4.0],
    })
    villages = pd.DataFrame({
        "village_code": ["V1"], "village_name": ["红岩村"], "township_code": ["T"], "township_name": ["蜀河镇"],
        "is_key_village": [True], "poverty_incidence": [0.01], "satisfaction_rate": [0.95],
        "satisfaction_answers": [40], "satisfaction_yes": [38], "safe_water_coverage": [100.0],
    })
    projects = pd.DataFrame({"village_code": ["V1"], "criterion_code": ["V-ROAD"], "department": ["交通运输局"],
                             "lead": ["李四"], "responsible_person": ["王五"]})
    rows = [("households", "A3", "A3", "V1", "H-INCOME")]  # remaining poor: not the village's problem
    if cohort_failing_income:
        rows.append(("households", "A2", "A2", "V1", "H-INCOME"))
    failures = pd.DataFrame(rows, columns=["table", "key", "household_id", "village_code", "code"])
    failures["family"] = "criteria"
    return {"households": households, "villages": villages, "projects": projects}, failures


def test_household_criterion_fails_the_village_only_through_its_exit_cohort():
    frames, failures = _frames(cohort_failing_income=False)
    ready = assess_readiness(frames, failures, PROFILE)
    village = ready.villages.iloc[0]
    assert village["grade"] == GRADE_EXCELLENT
    assert ready.households.set_index("household_id").loc["A3", "failing_criteria"] == ["H-INCOME"]
    assert village["households_failing"] == 1

    frames, failures = _frames(cohort_failing_income=True)
    ready = assess_readiness(frames, failures, PROFILE)
    village = ready.villages.iloc[0]
    assert village["grade"] == GRADE_FAIL
    assert village["failing_criteria"] == ["H-INCOME"]
    assert village["wrong_exit_rate"] == pytest.approx(2 / 5)
    income = ready.village_criteria.set_index("code").loc["H-INCOME"]
    assert (income["status"], income["failing_count"], income["department"]) == ("fail", 1, "扶贫局")
    road = ready.village_criteria.set_index("code").loc["V-ROAD"]
    assert (road["status"], road["lead"], road["responsible_person"]) == ("pass", "李四", "王五")


# --- issue 11: missing people are not passing people; accountability (real GX validation) -----------------

def _validated_county():
    from tasks.criteria_frames import canonical_frame, criteria_frames
    from tasks.validate import validate_profile
    from tests.test_validate import AS_OF, TOWNSHIP, household, member, surveys, village

    v1, v2, v3 = (TOWNSHIP + str(n) for n in (201, 202, 203))
    short, empty, whole = v1 + "0001", v1 + "0002", v1 + "0003"
    tables = {
        "households": canonical_frame("households", [
            # 家庭人口数 4, two member rows: the two others' insurance, schooling and skills cannot be shown.
            household(short, v1, household_size=4.0, net_income=20000.0),
            household(empty, v1, household_size=3.0, net_income=15000.0, household_type="低保贫困户"),
            household(whole, v1, household_size=1.0),
        ]),
        "members": canonical_frame("members", [member(short, 1), member(short, 2, age=48), member(whole, 1, age=60)]),
        "villages": canonical_frame("villages", [village(v1), village(v2), village(v3)]),
        # 6 of 10 satisfied: "部分重点村群众满意度只有60%" — below 80%, accountability; 8 of 10 passes; v3 none.
        "surveys": canonical_frame("surveys", surveys(v1, ["满意"] * 6 + ["不满意"] * 4)
                                   + surveys(v2, ["满意"] * 8 + ["不满意"] * 2)),
        "projects": canonical_frame("projects", []),
    }
    frames = criteria_frames(tables, AS_OF, PROFILE)
    failures = validate_profile(frames, PROFILE).failures
    return assess_readiness(frames, failures, PROFILE), (v1, v2, v3), (short, empty, whole)


@pytest.fixture(scope="module")
def validated():
    return _validated_county()


def test_a_household_with_member_rows_missing_is_not_ready_and_says_which(validated):
    ready, (v1, _, _), (short, empty, whole) = validated
    households = ready.households.set_index("household_id")
    assert households.loc[short, "failing_criteria"] == ["H-EDU", "H-MEDICAL", "H-SKILL"]
    assert not households.loc[short, "meets_all"]
    assert households.loc[short, "members_note"] == "家庭人口数 4 人，「家庭成员」表只有 2 行，缺 2 人的在校、参保、技能情况无法核实"
    assert households.loc[empty, "failing_criteria"] == ["H-EDU", "H-MEDICAL", "H-SKILL"]
    assert households.loc[empty, "members_note"] == "家庭人口数 3 人，「家庭成员」表只有 0 行，缺 3 人的在校、参保、技能情况无法核实"
    assert households.loc[whole, "meets_all"] and pd.isna(households.loc[whole, "members_note"])


def test_missing_member_rows_reach_the_village_counts_and_the_wrong_exit_rate(validated):
    ready, (v1, _, _), _ = validated
    village = ready.villages.set_index("village_code").loc[v1]
    assert village["households_failing"] == 2
    # H-EDU and H-MEDICAL are wrong-exit criteria: 4 + 3 of the cohort's 8 people are in failing households.
    assert village["wrong_exit_rate"] == pytest.approx(7 / 8)
    criteria = ready.village_criteria[ready.village_criteria["village_code"] == v1].set_index("code")
    assert criteria.loc["H-MEDICAL", "failing_count"] == 2 and criteria.loc["H-MEDICAL", "status"] == "fail"
    assert village["grade"] == GRADE_FAIL


def test_accountability_is_read_from_the_satisfaction_criterion(validated):
    ready, (v1, v2, v3), _ = validated
    flags = ready.villages.set_index("village_code")["accountability"]
    assert flags[v1]          # 60% < 80%: 启动问责
    assert not flags[v2]      # exactly 80% passes
    assert not flags[v3]      # no survey: fails the criterion, but there is no rate below the line


def test_every_verdict_a_reader_sees_is_taken_once_from_the_validation(validated):
    """60% fails, exactly 80% passes (not excellent), no survey fails: the bands GX drew, stored per village and
    per criterion; the metric statuses beside them (7 of 8 exited people in failing households: 错退 fails)."""
    ready, (v1, v2, v3), _ = validated
    villages = ready.villages.set_index("village_code")
    assert villages.loc[[v1, v2, v3], "satisfaction_band"].tolist() == ["fail", "pass", "fail"]
    criteria = ready.village_criteria.set_index(["village_code", "code"])
    assert [criteria.loc[(v, "V-SATISFACTION"), "band"] for v in (v1, v2, v3)] == ["fail", "pass", "fail"]
    assert criteria.loc[(v1, "V-ROAD"), "band"] == criteria.loc[(v1, "V-ROAD"), "status"]
    assert villages.loc[v1, "wrong_exit_status"] == "fail"
    assert villages.loc[v3, "recognition_status"] == "unknown"  # nobody surveyed: not measured, not passed


@pytest.mark.parametrize("answers", [["满意"] * 8 + ["不满意"] * 2, ["满意"] * 9 + ["不满意"], ["满意"] * 79 + ["不满意"] * 21,
                                     ["满意"] * 4 + ["不满意"] + ["不了解"] * 3])
def test_the_catalogue_band_of_hypothetical_rates_agrees_with_gx_on_real_ones(answers):
    """Criterion.band_of (for samples not yet drawn) and the GX suite draw the same lines."""
    from tasks.criteria_frames import canonical_frame, criteria_frames
    from tasks.validate import validate_profile
    from tests.test_validate import AS_OF, TOWNSHIP, household, member, surveys, village

    code = TOWNSHIP + "201"
    tables = {"households": canonical_frame("households", [household(code + "0001", code, household_size=1.0)]),
              "members": canonical_frame("members", [member(code + "0001", 1, age=60)]),
              "villages": canonical_frame("villages", [village(code)]),
              "surveys": canonical_frame("surveys", surveys(code, answers)), "projects": canonical_frame("projects", [])}
    frames = criteria_frames(tables, AS_OF, PROFILE)
    ready = assess_readiness(frames, validate_profile(frames, PROFILE).failures, PROFILE)
    rate = ready.villages["satisfaction_rate"].iloc[0]
    assert ready.villages["satisfaction_band"].iloc[0] == PROFILE.criterion("V-SATISFACTION").band_of(rate)


@pytest.mark.parametrize("rate, people, status", [(0.02, 50.0, "fail"), (0.0199, 50.0, "pass"), (0.0, 0.0, "unknown")])
def test_the_wrong_exit_status_reads_exactly_two_percent_as_failing(rate, people, status):
    """The catalogue's reading of "低于2%": exactly at the line fails; no exited people is not measured."""
    from tasks.assess import verdict_columns

    villages = pd.DataFrame({"village_code": ["V1"], "wrong_exit_rate": [rate], "exit_people": [people],
                             "wrong_exit_rate_year": [rate], "exit_people_year": [people],
                             "recognition_rate": [0.95], "recognition_surveyed": [20]})
    criteria = pd.DataFrame(columns=["village_code", "code", "status", "band"])
    verdicts = verdict_columns(villages, criteria, PROFILE)
    assert verdicts["wrong_exit_status"].tolist() == [status] == verdicts["wrong_exit_status_year"].tolist()
    assert verdicts["recognition_status"].tolist() == ["pass"]


@pytest.mark.parametrize("yes, surveyed, status", [(36, 40, "fail"), (37, 40, "pass"), (0, 0, "unknown")])
def test_the_recognition_status_reads_exactly_ninety_percent_as_failing(yes, surveyed, status):
    """认可度 = 认可户 / 全部受访户 must be above 90% ("必须高于90%"): 36 of 40 is exactly 90% and fails."""
    from tasks.assess import verdict_columns

    villages = pd.DataFrame({"village_code": ["V1"], "wrong_exit_rate": [0.0], "exit_people": [0.0],
                             "wrong_exit_rate_year": [0.0], "exit_people_year": [0.0],
                             "recognition_rate": [yes / surveyed if surveyed else float("nan")],
                             "recognition_surveyed": [surveyed]})
    verdicts = verdict_columns(villages, pd.DataFrame(columns=["village_code", "code", "status", "band"]), PROFILE)
    assert verdicts["recognition_status"].tolist() == [status]
