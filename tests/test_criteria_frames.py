"""Derived columns of the frames the GX suites validate (pure pandas)."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from evalprep.idcard import make
from evalprep.template import sheets, vocabularies
from expectations.catalogue import load_profile
from tasks.criteria_frames import (
    BORDER_COLUMNS,
    EXIT_COHORT,
    NONE_MARKERS,
    NOT_AN_ANSWER,
    REMAINING_POOR,
    SATISFIED,
    TABLES,
    canonical_frame,
    criteria_frames,
    labour_capacities,
)

AS_OF = dt.date(2016, 12, 31)
TOWNSHIP = "610928100"
VILLAGE = TOWNSHIP + "201"
OTHER = TOWNSHIP + "202"
PROFILE = load_profile("xunyang-2016")


def household(n: int, village: str = VILLAGE, **values) -> dict:
    return {"household_id": f"{village}{n:04d}", "village_code": village, "township_code": TOWNSHIP, "household_size": 1.0, "exit_status": "已脱贫", **values}


def member(household_id: str, n: int, **values) -> dict:
    return {"household_id": household_id, "person_id": f"{household_id}{n:02d}", "township_code": TOWNSHIP, **values}


def village(code: str = VILLAGE, **values) -> dict:
    return {"village_code": code, "township_code": TOWNSHIP, "rural_population": 1000.0, **values}


def frames_of(**records) -> dict[str, pd.DataFrame]:
    tables = {name: canonical_frame(name, rows) for name, rows in records.items()}
    return criteria_frames(tables, AS_OF, PROFILE)


def test_vocabulary_constants_are_template_values():
    statuses = set(vocabularies()["exit_status"])
    assert set(EXIT_COHORT) <= statuses and set(REMAINING_POOR) <= statuses
    assert not set(EXIT_COHORT) & set(REMAINING_POOR)
    assert set(SATISFIED) | set(NOT_AN_ANSWER) <= set(vocabularies()["satisfaction"])
    assert set(labour_capacities(PROFILE)) <= set(vocabularies()["labour_capacity"])
    assert labour_capacities(load_profile("shaanxi-2017")) == labour_capacities(PROFILE)


def test_canonical_frame_has_template_columns_in_border_dtypes():
    frame = canonical_frame("households", [household(1, income_per_capita=2952.0, safe_water=True)])
    assert list(frame.columns) == sheets()["households"].column_names + list(BORDER_COLUMNS)
    assert frame["income_per_capita"].dtype == "float64"
    assert frame["safe_water"].dtype == "boolean"
    assert frame["household_id"].dtype == "str"
    assert frame["_row"].tolist() == [2]
    assert canonical_frame("projects")["planned_completion"].dtype == "datetime64[ns]"


def test_frames_have_a_range_index_and_keep_the_border_columns():
    homes = canonical_frame("households", [household(1), household(2)])
    homes.index = [10, 11]
    frames = criteria_frames({"households": homes}, AS_OF, PROFILE)
    assert set(frames) == set(TABLES)
    for name, frame in frames.items():
        assert isinstance(frame.index, pd.RangeIndex) and frame.index.name is None, name
        assert set(BORDER_COLUMNS) <= set(frame.columns), name
    assert frames["households"]["_row"].tolist() == [2, 3]
    assert list(homes.index) == [10, 11] and "in_exit_cohort" not in homes


def test_member_age_on_the_as_of_date_from_the_id_even_with_a_wrong_check_character():
    on_the_day = make("610928", dt.date(2010, 12, 31), 1)
    day_after = make("610928", dt.date(2001, 1, 1), 1)
    wrong_check = day_after[:17] + ("0" if day_after[17] != "0" else "1")
    frames = frames_of(
        households=[household(1)],
        members=[
            member(VILLAGE + "0001", 1, id_number=on_the_day),
            member(VILLAGE + "0001", 2, id_number=day_after),
            member(VILLAGE + "0001", 3, id_number=wrong_check),
            member(VILLAGE + "0001", 4, id_number="6.10928E+17"),
            member(VILLAGE + "0001", 5),
        ],
    )
    ages = frames["members"]["age"].tolist()
    assert ages[:3] == [6.0, 15.0, 15.0]
    assert np.isnan(ages[3]) and np.isnan(ages[4])


def test_members_carry_their_households_village_and_cohort():
    frames = frames_of(
        households=[household(1, exit_status="预脱贫"), household(2, OTHER, exit_status="未脱贫")],
        members=[member(VILLAGE + "0001", 1), member(OTHER + "0002", 1), member("6109281009990001", 1)],
    )
    members = frames["members"]
    assert members["village_code"].tolist()[:2] == [VILLAGE, OTHER]
    assert pd.isna(members["village_code"].iloc[2])
    assert members["in_exit_cohort"].tolist() == [True, False, False]


def test_labour_flags_follow_the_catalogues_labour_capacities():
    capacities = vocabularies()["labour_capacity"]
    frames = frames_of(
        households=[household(i) for i in range(len(capacities))] + [household(99)],
        members=[member(VILLAGE + f"{i:04d}", 1, labour_capacity=c) for i, c in enumerate(capacities)],
    )
    labour = set(labour_capacities(PROFILE))
    assert frames["members"]["is_labour"].tolist() == [c in labour for c in capacities]
    assert frames["households"]["has_labour"].tolist() == [c in labour for c in capacities] + [False]


@pytest.mark.parametrize(
    ("industry", "employment", "expected"),
    [("养猪", None, True), (None, "外出务工", True), ("无", "外出务工", True), ("无", "无", False), (None, None, False), (" ", "无", False)],
)
def test_livelihood_any_needs_something_named(industry, employment, expected):
    frames = frames_of(households=[household(1, industry_support=industry, employment=employment)])
    assert frames["households"]["livelihood_any"].tolist() == [expected]
    assert NONE_MARKERS == ("无",)


def test_exit_cohort_and_remaining_poor():
    statuses = vocabularies()["exit_status"]
    frames = frames_of(households=[household(i, exit_status=s) for i, s in enumerate(statuses)])
    homes = frames["households"]
    assert homes["in_exit_cohort"].tolist() == [s in EXIT_COHORT for s in statuses]
    assert homes["is_remaining_poor"].tolist() == [s in REMAINING_POOR for s in statuses]
    assert not (homes["in_exit_cohort"] & homes["is_remaining_poor"]).any()


def test_poverty_incidence_counts_remaining_poor_people():
    frames = frames_of(
        villages=[village(rural_population=100.0), village(OTHER, rural_population=100.0), village(TOWNSHIP + "203", rural_population=0.0)],
        households=[
            household(1, exit_status="未脱贫", household_size=2.0),
            household(2, exit_status="返贫", household_size=1.0),
            household(3, exit_status="已脱贫", household_size=5.0),
            household(4, exit_status="注销", household_size=5.0),
            household(5, OTHER, exit_status="已脱贫", household_size=5.0),
            household(6, TOWNSHIP + "203", exit_status="新识别", household_size=1.0),
        ],
    )
    villages = frames["villages"]
    assert villages["remaining_poor_people"].tolist() == [3.0, 0.0, 1.0]
    assert villages["poverty_incidence"].tolist()[:2] == [0.03, 0.0]
    assert np.isnan(villages["poverty_incidence"].iloc[2])


def test_poverty_incidence_is_unknowable_when_a_remaining_household_has_no_size():
    frames = frames_of(villages=[village()], households=[household(1, exit_status="未脱贫", household_size=None), household(2, exit_status="未脱贫")])
    assert frames["villages"][["remaining_poor_people", "poverty_incidence"]].isna().all(axis=None)


def test_satisfaction_counts_exclude_dont_know_and_blanks():
    answers = ["满意"] * 6 + ["基本满意"] * 2 + ["不满意"] * 2 + ["不了解"] * 3 + [None]
    surveys = [{"survey_id": str(i), "village_code": VILLAGE, "satisfaction": a} for i, a in enumerate(answers)]
    surveys.append({"survey_id": "x", "village_code": OTHER, "satisfaction": "不了解"})
    frames = frames_of(villages=[village(), village(OTHER)], surveys=surveys)
    villages = frames["villages"]
    assert villages["satisfaction_answers"].tolist() == [10, 0]
    assert villages["satisfaction_yes"].tolist() == [8, 0]
    assert villages["satisfaction_rate"].iloc[0] == 0.8
    assert np.isnan(villages["satisfaction_rate"].iloc[1])


def test_project_alternatives():
    codes = [TOWNSHIP + str(200 + i) for i in range(1, 7)]
    projects = [
        {"project_id": "1", "village_code": codes[0], "criterion_code": "V-ROAD", "approval_status": "已批复"},
        {"project_id": "2", "village_code": codes[1], "criterion_code": "V-ROAD", "approval_status": "已申报"},
        {"project_id": "3", "village_code": codes[2], "criterion_code": "V-POWER", "approval_status": None},
        {"project_id": "4", "village_code": codes[3], "criterion_code": "V-WATER", "approval_status": "已批复", "planned_completion": pd.Timestamp("2016-12-01")},
        {"project_id": "5", "village_code": codes[4], "criterion_code": "V-WATER", "approval_status": "已批复"},
        {"project_id": "6", "village_code": codes[5], "criterion_code": "V-WATER", "approval_status": "已申报", "planned_completion": pd.Timestamp("2016-12-01")},
    ]
    villages = frames_of(villages=[village(c) for c in codes], projects=projects)["villages"]
    assert villages["road_project_approved"].tolist() == [True, False, False, False, False, False]
    assert villages["power_project_exists"].tolist() == [False, False, True, False, False, False]
    assert villages["water_project_scheduled"].tolist() == [False, False, False, True, False, False]


def test_exit_income_ratio_needs_county_income_and_last_years_ratio():
    records = {
        "villages": [village(), village(OTHER)],
        "households": [
            household(1, income_per_capita=3000.0, household_size=1.0),
            household(2, income_per_capita=6000.0, household_size=2.0),
            household(3, exit_status="未脱贫", income_per_capita=100.0),
        ],
    }
    tables = {name: canonical_frame(name, rows) for name, rows in records.items()}
    without = criteria_frames(tables, AS_OF, PROFILE)["villages"]
    assert without["exit_income_per_capita"].iloc[0] == 5000.0
    assert without[["exit_income_ratio", "exit_income_ratio_prev"]].isna().all(axis=None)
    given = criteria_frames(tables, AS_OF, PROFILE, county_rural_income=10000.0, previous_income_ratio={VILLAGE: 0.4})["villages"]
    assert given["exit_income_ratio"].iloc[0] == 0.5
    assert given["exit_income_ratio_prev"].tolist()[0] == 0.4
    assert np.isnan(given["exit_income_ratio"].iloc[1])


def test_village_code_in_township():
    frames = frames_of(
        villages=[village(), village("610928101201")],
        households=[household(1), household(2, OTHER), household(3, "610928101201"), household(4, village_code=None)],
    )
    assert frames["villages"]["village_code_in_township"].tolist() == [True, False]
    assert frames["households"]["village_code_in_township"].tolist()[:3] == [True, False, False]
    assert pd.isna(frames["households"]["village_code_in_township"].iloc[3])


def test_exit_income_per_capita_does_not_depend_on_the_order_rows_arrived_in():
    """Hand-checkable: village A's two exit households, 3 people at 3,000.10 元 and 1 at 9,000.30 元, give
    (9,000.30 + 9,000.30) / 4 = 4,500.15 元. And the same households in any order give the same bits (a float sum
    depends on its terms' order; a resubmission elsewhere in the county reorders the rows)."""
    from tasks.criteria_frames import _exit_income_per_capita

    small = pd.DataFrame({"household_id": ["A1", "A2"], "village_code": ["A", "A"], "in_exit_cohort": [True, True],
                          "household_size": [3, 1], "income_per_capita": [3000.10, 9000.30]})
    assert _exit_income_per_capita(small)["A"] == pytest.approx(4500.15)
    rng = np.random.default_rng(7)
    n = 6000
    county = pd.DataFrame({"household_id": [f"H{i:05d}" for i in range(n)], "in_exit_cohort": True,
                           "village_code": rng.choice([f"V{i:02d}" for i in range(40)], n),
                           "household_size": rng.integers(1, 6, n), "income_per_capita": rng.uniform(3000, 9000, n)})
    first = _exit_income_per_capita(county)
    for seed in range(5):
        assert _exit_income_per_capita(county.sample(frac=1, random_state=seed)).to_dict() == first.to_dict()
