"""Data rules across columns and sheets (issue 4): real GX validations of tiny frames, at the tolerances."""
import datetime as dt

import pytest

from evalprep.idcard import make
from expectations.catalogue import load_profile
from tasks.criteria_frames import canonical_frame, criteria_frames
from tasks.validate import validate_profile

PROFILE = load_profile("xunyang-2016")
TOLERANCE = PROFILE.data_rules["DQ-INCOME-SUM"]["tolerance"]
BORDER = {"township_code": "610928100", "_file": "f.xlsx"}
VILLAGE = "610928100201"


def household(hid, **values):
    row = {"household_id": hid, "village_code": VILLAGE, "household_size": 2.0, "exit_status": "未脱贫",
           "net_income": 6000.0, "income_per_capita": 3000.0, "_sheet": "贫困户", **BORDER}
    return {**row, **values}


def member(hid, n, sequence=11, sex="男", **values):
    row = {"household_id": hid, "person_id": f"{hid}{n:02d}", "id_number": make("610928", dt.date(1970, 1, n), sequence),
           "sex": sex, "_sheet": "家庭成员", **BORDER}
    return {**row, **values}


def failing(households, members):
    tables = {"households": canonical_frame("households", households), "members": canonical_frame("members", members),
              "villages": canonical_frame("villages", [{"village_code": VILLAGE, "_sheet": "村基本情况", **BORDER}])}
    frames = criteria_frames(tables, dt.date(2016, 10, 2), PROFILE)
    failures = validate_profile(frames, PROFILE).failures
    quality = failures[failures["family"] == "quality"]
    return {(code, key) for code, key in zip(quality["code"], quality["key"])
            if code in {"DQ-ID-SEX", "DQ-MEMBER-ORPHAN", "DQ-PERSON-TWICE", "DQ-HOUSEHOLD-SIZE", "DQ-INCOME-SUM",
                        "DQ-INCOME-PER-CAPITA"}}


H = "6109281002010001"


def test_a_consistent_household_passes_every_rule():
    assert failing([household(H)], [member(H, 1), member(H, 2, sequence=22, sex="女")]) == set()


def test_household_size_must_equal_its_member_rows():
    assert failing([household(H, household_size=3.0, income_per_capita=2000.0)],
                   [member(H, 1), member(H, 2, sequence=22, sex="女")]) == {("DQ-HOUSEHOLD-SIZE", H)}


def test_a_member_of_no_listed_household_and_a_person_in_two_households():
    other = "6109281002010002"
    twice = member(H, 2, sequence=22, sex="女")
    rows = [member(H, 1), twice, {**twice, "household_id": other, "person_id": other + "01"}]
    found = failing([household(H)], rows)
    assert ("DQ-MEMBER-ORPHAN", other + "01") in found
    assert {("DQ-PERSON-TWICE", H + "02"), ("DQ-PERSON-TWICE", other + "01")} <= found


def test_sex_must_agree_with_the_id():
    assert failing([household(H)], [member(H, 1), member(H, 2, sequence=22, sex="男")]) == {("DQ-ID-SEX", H + "02")}


@pytest.mark.parametrize("gap, fails", [(0.0, False), (TOLERANCE, False), (TOLERANCE + 0.01, True)])
def test_income_components_add_up_within_the_tolerance(gap, fails):
    row = household(H, income_wage=4000.0, income_business=1000.0, income_transfer=1000.0 - gap)
    found = failing([row], [member(H, 1), member(H, 2, sequence=22, sex="女")])
    assert (("DQ-INCOME-SUM", H) in found) is fails


def test_no_components_given_is_not_a_sum_error():
    assert failing([household(H)], [member(H, 1), member(H, 2, sequence=22, sex="女")]) == set()


@pytest.mark.parametrize("per_capita, fails", [(3000.0, False), (3000.0 + TOLERANCE, False), (3001.5, True)])
def test_per_capita_income_agrees_with_total_over_size(per_capita, fails):
    found = failing([household(H, income_per_capita=per_capita)], [member(H, 1), member(H, 2, sequence=22, sex="女")])
    assert (("DQ-INCOME-PER-CAPITA", H) in found) is fails
