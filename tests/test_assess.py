import math

import pandas as pd
import pytest

from expectations.catalogue import load_profile
from tasks.assess import (
    GRADE_EXCELLENT, GRADE_FAIL, GRADE_PASS, assess_readiness, village_grade, wilson_interval,
)

PROFILE = load_profile("xunyang-2016")


@pytest.mark.parametrize("rate, grade", [(0.7999, GRADE_FAIL), (0.80, GRADE_PASS), (0.8999, GRADE_PASS), (0.90, GRADE_EXCELLENT)])
def test_satisfaction_bands_at_their_boundaries(rate, grade):
    assert village_grade(set(), PROFILE, rate, 0.0) == grade


def test_no_survey_is_not_ready():
    assert village_grade(set(), PROFILE, math.nan, 0.0) == GRADE_FAIL


def test_veto_failure_fails_and_non_veto_failure_blocks_only_excellent():
    assert village_grade({"V-ROAD"}, PROFILE, 0.95, 0.0) == GRADE_FAIL
    assert village_grade({"V-CULTURE"}, PROFILE, 0.95, 0.0) == GRADE_PASS


def test_wrong_exit_rate_at_two_percent_is_not_excellent():
    assert village_grade(set(), PROFILE, 0.95, 0.02) == GRADE_PASS
    assert village_grade(set(), PROFILE, 0.95, 0.0199) == GRADE_EXCELLENT


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
