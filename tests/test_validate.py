"""Criteria and data rules at their boundaries, through real GX validations of tiny county frames."""
import datetime as dt
import json

import pandas as pd
import pytest

from evalprep.idcard import make
from expectations.catalogue import load_profile
from expectations.suites import build_suites, criteria_suites
from tasks.criteria_frames import canonical_frame, criteria_frames
from tasks.validate import FAILURE_COLUMNS, validate_frames, validate_profile, validation_context

AS_OF = dt.date(2016, 12, 31)
TOWNSHIP = "610928100"
GOOD_VILLAGE = TOWNSHIP + "201"
BORDER = {"township_code": TOWNSHIP, "_file": "610928100_城关镇_2016-W52.xlsx"}


def born(age: int) -> dt.date:
    return dt.date(AS_OF.year - age, 6, 1)


def household(household_id: str, village_code: str = GOOD_VILLAGE, **values) -> dict:
    return {
        "household_id": household_id,
        "township_name": "城关镇",
        "village_name": "村",
        "village_code": village_code,
        "head_name": "张三",
        "head_id_number": make("610928", born(50), 11),
        "household_size": 1.0,
        "household_type": "一般贫困户",
        "exit_status": "已脱贫",
        "identified_year": 2015.0,
        "net_income": 5000.0,
        "income_per_capita": 5000.0,
        "housing_safety": "安全",
        "safe_water": True,
        "industry_support": "养猪",
        **BORDER,
        "_sheet": "贫困户",
        **values,
    }


def member(household_id: str, n: int, age: int = 50, **values) -> dict:
    return {
        "household_id": household_id,
        "person_id": f"{household_id}{n:02d}",
        "name": "张三",
        "id_number": make("610928", born(age), 10 + n),
        "relation": "户主" if n == 1 else "之子",
        "schooling": "非在校生",
        "labour_capacity": "普通劳动力",
        "skill_certificate_no": "人社证2016001",
        "insured_ncms": True,
        "insured_critical": True,
        **BORDER,
        "_sheet": "家庭成员",
        **values,
    }


def village(village_code: str, **values) -> dict:
    return {
        "village_code": village_code,
        "village_name": "村",
        "is_key_village": True,
        "total_households": 100.0,
        "rural_population": 1000.0,
        "has_paved_road": True,
        "power_full_coverage": True,
        "telecom_carriers": "电信、移动",
        "safe_water_coverage": 100.0,
        "has_clinic": True,
        "has_culture_venue": True,
        "industry_org": "旬阳县拐枣产业园",
        "industry_subsidy": True,
        "collective_income": 20000.0,
        **BORDER,
        "_sheet": "村基本情况",
        **values,
    }


def project(project_id: str, village_code: str, criterion_code: str, **values) -> dict:
    return {
        "project_id": project_id,
        "project_name": "项目",
        "village_code": village_code,
        "criterion_code": criterion_code,
        "department": "交通运输局",
        "lead": "王五",
        "responsible_person": "赵六",
        "approval_status": "已批复",
        **BORDER,
        "_sheet": "双七项目",
        **values,
    }


def surveys(village_code: str, answers: list[str]) -> list[dict]:
    return [
        {"survey_id": f"{village_code}-{i}", "village_code": village_code, "surveyed_on": pd.Timestamp("2016-12-01"), "respondent_type": "贫困户", "satisfaction": a, **BORDER}
        for i, a in enumerate(answers)
    ]


CHILD = {"labour_capacity": "无劳动力", "skill_certificate_no": None, "relation": "之子"}
MEMBER_CRITERIA = {"H-MEDICAL", "H-EDU", "H-SKILL"}

# name: (household values, [member values], criteria expected to fail)
HOUSEHOLD_CASES = {
    "income_at_the_line": ({"income_per_capita": 2952.0}, [{}], set()),
    "income_one_fen_below": ({"income_per_capita": 2951.99}, [{}], {"H-INCOME"}),
    "income_unknown": ({"income_per_capita": None}, [{}], {"H-INCOME"}),
    "unsafe_but_resettled": ({"housing_safety": "D级危房", "housing_solution": "易地扶贫搬迁(集中安置)", "housing_progress": "已入住"}, [{}], set()),
    "unsafe_renovation_done": ({"housing_safety": "C级危房", "housing_solution": "危房改造", "housing_progress": "已竣工"}, [{}], set()),
    "unsafe_still_building": ({"housing_safety": "C级危房", "housing_solution": "危房改造", "housing_progress": "在建"}, [{}], {"H-HOUSING"}),
    "unsafe_no_solution": ({"housing_safety": "D级危房", "housing_solution": "未确定"}, [{}], {"H-HOUSING"}),
    "housing_unknown": ({"housing_safety": None}, [{}], {"H-HOUSING"}),
    "no_safe_water": ({"safe_water": False}, [{}], {"H-WATER"}),
    "water_unknown": ({"safe_water": None}, [{}], {"H-WATER"}),
    "dropout_aged_5": ({}, [{}, {"age": 5, "schooling": "辍学", **CHILD}], set()),
    "dropout_aged_6": ({}, [{}, {"age": 6, "schooling": "辍学", **CHILD}], {"H-EDU"}),
    "dropout_aged_15": ({}, [{}, {"age": 15, "schooling": "辍学", **CHILD}], {"H-EDU"}),
    "dropout_aged_16": ({}, [{}, {"age": 16, "schooling": "辍学", **CHILD}], set()),
    "pupil_aged_10": ({}, [{}, {"age": 10, "schooling": "小学", **CHILD}], set()),
    "dropout_age_unreadable": ({}, [{}, {"id_number": "6.10928E+17", "schooling": "辍学", **CHILD}], {"H-EDU"}),
    "schooling_unknown_aged_10": ({}, [{}, {"age": 10, "schooling": None, **CHILD}], {"H-EDU"}),
    "no_critical_insurance": ({}, [{}, {"age": 10, "schooling": "小学", "insured_critical": False, **CHILD}], {"H-MEDICAL"}),
    "ncms_unknown": ({}, [{"insured_ncms": None}], {"H-MEDICAL"}),
    "labour_without_certificate": ({}, [{}, {"age": 30, "skill_certificate_no": None}], {"H-SKILL"}),
    "no_labour_without_certificate": ({"household_type": "低保贫困户"}, [{"labour_capacity": "丧失劳动力", "skill_certificate_no": None}], set()),
    "labour_without_livelihood": ({"industry_support": "无", "employment": None}, [{}], {"H-LIVELIHOOD"}),
    "labour_with_employment_only": ({"industry_support": None, "employment": "外出务工"}, [{}], set()),
    "no_labour_on_wubao": ({"household_type": "五保贫困户", "industry_support": None}, [{"labour_capacity": "无劳动力", "skill_certificate_no": None}], set()),
    "no_labour_not_on_welfare": ({"household_type": "一般贫困户"}, [{"labour_capacity": "无劳动力", "skill_certificate_no": None}], {"H-LIVELIHOOD"}),
    # Missing people are not passing people (domain.md, last bullet of the third-party section): the member
    # criteria fail as unknowable; the two rows present are complete and would pass.
    "three_people_two_rows": ({"household_size": 3.0}, [{}, {}], MEMBER_CRITERIA),
    # No member row at all (on 低保, so H-LIVELIHOOD's "no labour member" branch passes and only the rule shows).
    "three_people_no_rows": ({"household_size": 3.0, "household_type": "低保贫困户"}, [], MEMBER_CRITERIA),
    "three_people_three_rows": ({"household_size": 3.0}, [{}, {}, {}], set()),
    "more_rows_than_people": ({"household_size": 1.0}, [{}, {}], set()),
    "household_size_unknown": ({"household_size": None}, [{}], MEMBER_CRITERIA),
}
HOUSEHOLD_IDS = {name: f"{GOOD_VILLAGE}{i + 1:04d}" for i, name in enumerate(HOUSEHOLD_CASES)}

ALL_YES = ["满意"] * 6 + ["基本满意"] * 4
# name: (village values, survey answers, projects as (criterion, values), remaining-poor people, criteria expected to fail)
VILLAGE_CASES = {
    "good": ({}, ALL_YES, [], 0, set()),
    "incidence_exactly_3pct": ({"rural_population": 100.0}, ALL_YES, [], 3, {"V-INCIDENCE"}),
    "incidence_2_9pct": ({"rural_population": 1000.0}, ALL_YES, [], 29, set()),
    "rural_population_unknown": ({"rural_population": None}, ALL_YES, [], 0, {"V-INCIDENCE"}),
    "satisfaction_exactly_80pct": ({}, ["满意"] * 8 + ["不满意"] * 2 + ["不了解"] * 3, [], 0, {"V-SATISFACTION:excellent"}),
    "satisfaction_exactly_90pct": ({}, ["基本满意"] * 9 + ["不满意"], [], 0, set()),
    "satisfaction_below_80pct": ({}, ["满意"] * 15 + ["不满意"] * 4, [], 0, {"V-SATISFACTION", "V-SATISFACTION:excellent"}),
    # No answer at all fails the pass band (not 合格), so the excellent band is moot.
    "no_answers": ({}, ["不了解"] * 3, [], 0, {"V-SATISFACTION"}),
    "road_project_approved": ({"has_paved_road": False}, ALL_YES, [("V-ROAD", {})], 0, set()),
    "road_project_pending": ({"has_paved_road": False}, ALL_YES, [("V-ROAD", {"approval_status": "已申报"})], 0, {"V-ROAD"}),
    "road_unknown": ({"has_paved_road": None}, ALL_YES, [], 0, {"V-ROAD"}),
    # "项目不启动，考核是不可能通过的": only a started power project stands in for full coverage.
    "power_project_building_unapproved": ({"power_full_coverage": False}, ALL_YES, [("V-POWER", {"approval_status": "未申报", "build_status": "在建"})], 0, set()),
    "power_project_completed": ({"power_full_coverage": False}, ALL_YES, [("V-POWER", {"build_status": "已完工"})], 0, set()),
    "power_project_accepted": ({"power_full_coverage": False}, ALL_YES, [("V-POWER", {"build_status": "已验收"})], 0, set()),
    "power_project_not_started": ({"power_full_coverage": False}, ALL_YES, [("V-POWER", {"build_status": "未开工"})], 0, {"V-POWER"}),
    "power_project_status_blank": ({"power_full_coverage": False}, ALL_YES, [("V-POWER", {})], 0, {"V-POWER"}),
    "no_power_no_project": ({"power_full_coverage": False}, ALL_YES, [], 0, {"V-POWER"}),
    "no_carrier": ({"telecom_carriers": "无"}, ALL_YES, [], 0, {"V-TELECOM"}),
    "one_carrier": ({"telecom_carriers": "联通"}, ALL_YES, [], 0, set()),
    "carrier_named_loosely": ({"telecom_carriers": "中国移动信号弱"}, ALL_YES, [], 0, {"V-TELECOM"}),
    "water_99pct": ({"safe_water_coverage": 99.0}, ALL_YES, [], 0, {"V-WATER"}),
    # V-WATER (xunyang-2016): the backlog allocated to the village (a km figure, 0 allowed) and a scheduled project.
    "water_scheduled": ({"safe_water_coverage": 60.0, "pipeline_backlog_km": 12.5}, ALL_YES, [("V-WATER", {"planned_completion": pd.Timestamp("2016-12-20")})], 0, set()),
    "water_scheduled_nothing_to_lay": ({"safe_water_coverage": 95.0, "pipeline_backlog_km": 0.0}, ALL_YES, [("V-WATER", {"planned_completion": pd.Timestamp("2016-12-20")})], 0, set()),
    "water_scheduled_backlog_not_allocated": ({"safe_water_coverage": 60.0}, ALL_YES, [("V-WATER", {"planned_completion": pd.Timestamp("2016-12-20")})], 0, {"V-WATER"}),
    "water_backlog_allocated_no_project": ({"safe_water_coverage": 60.0, "pipeline_backlog_km": 12.5}, ALL_YES, [], 0, {"V-WATER"}),
    "water_project_without_date": ({"safe_water_coverage": 60.0, "pipeline_backlog_km": 12.5}, ALL_YES, [("V-WATER", {})], 0, {"V-WATER"}),
    "water_full_backlog_blank": ({"safe_water_coverage": 100.0, "pipeline_backlog_km": None}, ALL_YES, [], 0, set()),
    "no_clinic": ({"has_clinic": False}, ALL_YES, [], 0, {"V-CLINIC"}),
    "culture_unknown": ({"has_culture_venue": None}, ALL_YES, [], 0, {"V-CULTURE"}),
    "industry_org_none": ({"industry_org": "无"}, ALL_YES, [], 0, {"V-INDUSTRY"}),
    "no_industry_subsidy": ({"industry_subsidy": False}, ALL_YES, [], 0, {"V-INDUSTRY"}),
    "project_without_lead": ({}, ALL_YES, [("V-CULTURE", {"lead": None})], 0, {"P-OWNER"}),
}
VILLAGE_CODES = {name: TOWNSHIP + str(201 + i) for i, name in enumerate(VILLAGE_CASES)}

VALID_X = next(i for i in (make("610928", born(40), s) for s in range(1000)) if i.endswith("X"))
WRONG_CHECK = VALID_X[:17] + "0"
# name: (household values, data rules expected as (code, column))
QUALITY_CASES = {
    "id_lower_case_x": ({"head_id_number": VALID_X[:17] + "x"}, {("DQ-ID-FORMAT", "head_id_number")}),
    "id_valid_x": ({"head_id_number": VALID_X}, set()),
    "id_wrong_check": ({"head_id_number": WRONG_CHECK}, {("DQ-ID-CHECK", "head_id_number")}),
    "id_scientific": ({"head_id_number": "6.10928E+17"}, {("DQ-ID-FORMAT", "head_id_number")}),
    "head_name_missing": ({"head_name": None}, {("DQ-REQUIRED", "head_name")}),
    "type_not_in_dictionary": ({"household_type": "贫困户"}, {("DQ-DICT", "household_type")}),
    "village_of_another_township": ({"village_code": "610928101201"}, {("DQ-VILLAGE-CODE", "village_code")}),
    "village_not_listed": ({"village_code": TOWNSHIP + "399"}, {("DQ-VILLAGE-CODE", "village_code")}),
}
QUALITY_IDS = {name: f"{GOOD_VILLAGE}{i + 101:04d}" for i, name in enumerate(QUALITY_CASES)}
DUPLICATE_ID = f"{GOOD_VILLAGE}0999"


def county_tables() -> dict[str, pd.DataFrame]:
    homes, people, villages, answers, works = [], [], [], [], []
    for name, (values, members, _) in HOUSEHOLD_CASES.items():
        hid = HOUSEHOLD_IDS[name]
        homes.append(household(hid, **values))
        people += [member(hid, n, **m) for n, m in enumerate(members, start=1)]
    for name, (values, _) in QUALITY_CASES.items():
        homes.append(household(QUALITY_IDS[name], **values))
        people.append(member(QUALITY_IDS[name], 1))
    homes += [household(DUPLICATE_ID), household(DUPLICATE_ID)]
    people.append(member(DUPLICATE_ID, 1))
    for name, (values, survey_answers, projects, remaining, _) in VILLAGE_CASES.items():
        code = VILLAGE_CODES[name]
        villages.append(village(code, **values))
        answers += surveys(code, survey_answers)
        works += [project(f"{code}-{i}", code, crit, **p) for i, (crit, p) in enumerate(projects)]
        if remaining:
            hid = f"{code}0001"
            homes.append(household(hid, code, exit_status="未脱贫", household_size=float(remaining)))
            people.append(member(hid, 1))
    records = {"households": homes, "members": people, "villages": villages, "surveys": answers, "projects": works}
    return {name: canonical_frame(name, rows) for name, rows in records.items()}


@pytest.fixture(scope="module")
def county():
    profile = load_profile("xunyang-2016")
    frames = criteria_frames(county_tables(), AS_OF, profile)
    return frames, validate_profile(frames, profile)


def criteria_failing(failures: pd.DataFrame, **where) -> set[str]:
    rows = failures[failures["family"] == "criteria"]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return {f"{c}:{b}" if b == "excellent" else c for c, b in zip(rows["code"], rows["band"].fillna(""))}


@pytest.mark.parametrize("name", list(HOUSEHOLD_CASES))
def test_household_criteria_at_their_boundaries(county, name):
    _, validation = county
    assert criteria_failing(validation.failures, household_id=HOUSEHOLD_IDS[name]) == HOUSEHOLD_CASES[name][2]


@pytest.mark.parametrize("name", list(VILLAGE_CASES))
def test_village_criteria_at_their_boundaries(county, name):
    _, validation = county
    failures = validation.failures
    village_level = failures[failures["table"].isin(["villages", "projects"])]
    assert criteria_failing(village_level, village_code=VILLAGE_CODES[name]) == VILLAGE_CASES[name][4]


@pytest.mark.parametrize("name", list(QUALITY_CASES))
def test_data_rules(county, name):
    _, validation = county
    failures = validation.failures
    rows = failures[(failures["family"] == "quality") & (failures["key"] == QUALITY_IDS[name])]
    assert set(zip(rows["code"], rows["column"])) == QUALITY_CASES[name][1]
    assert set(rows["severity"]) <= {"error"}


def test_missing_member_rows_stay_one_data_quality_issue(county):
    """The household-size rule keeps reporting the mismatch once (data quality); the member criteria each
    fail once on the household row, from the households table, and never as a quality issue."""
    _, validation = county
    failures = validation.failures
    rows = failures[failures["household_id"] == HOUSEHOLD_IDS["three_people_two_rows"]]
    quality = rows[rows["family"] == "quality"]
    size_rule = quality[quality["code"] == "DQ-HOUSEHOLD-SIZE"]
    assert list(size_rule["column"]) == ["household_size"]
    assert "members_missing" not in set(quality["column"]) and not set(quality["code"]) & MEMBER_CRITERIA
    criteria = rows[rows["family"] == "criteria"]
    assert sorted(criteria["code"]) == sorted(MEMBER_CRITERIA)
    assert set(criteria["table"]) == {"households"} and set(criteria["column"]) == {"members_missing"}
    # the household whose rows are complete has no such failure
    complete = failures[failures["household_id"] == HOUSEHOLD_IDS["three_people_three_rows"]]
    assert complete[complete["family"] == "criteria"].empty
    assert "DQ-HOUSEHOLD-SIZE" not in set(complete["code"])


def test_duplicate_keys_fail_on_every_copy(county):
    frames, validation = county
    failures = validation.failures
    dup = failures[failures["code"] == "DQ-DUPLICATE"]
    assert sorted(dup["row"]) == frames["households"].index[frames["households"]["household_id"] == DUPLICATE_ID].tolist()
    assert set(dup["key"]) == {DUPLICATE_ID}


def test_every_failure_maps_back_to_its_frame_row(county):
    frames, validation = county
    failures = validation.failures
    assert tuple(failures.columns) == FAILURE_COLUMNS
    assert failures["row"].notna().all()
    keys = {"households": "household_id", "members": "person_id", "villages": "village_code", "projects": "project_id", "surveys": "survey_id"}
    for table, rows in failures.groupby("table"):
        frame = frames[table].loc[rows["row"].to_numpy()]
        assert (frame[keys[table]].to_numpy() == rows["key"].to_numpy()).all(), table
        assert (frame["village_code"].fillna("").to_numpy() == rows["village_code"].fillna("").to_numpy()).all(), table
        if "household_id" in frame:
            assert (frame["household_id"].to_numpy() == rows["household_id"].to_numpy()).all(), table
        else:
            assert rows["household_id"].isna().all()


def test_row_conditioned_failures_report_the_frames_own_index(county):
    frames, validation = county
    members = frames["members"]
    dropout = members.index[(members["household_id"] == HOUSEHOLD_IDS["dropout_aged_15"]) & (members["schooling"] == "辍学")]
    failures = validation.failures
    edu = failures[(failures["code"] == "H-EDU") & (failures["expectation"] == "expect_column_values_to_not_be_in_set")]
    assert dropout[0] in set(edu["row"])
    assert dropout[0] > 3  # far beyond its position among the few school-age rows the condition keeps


def test_failures_carry_household_and_village_attribution(county):
    _, validation = county
    failures = validation.failures
    member_rows = failures[(failures["table"] == "members") & (failures["family"] == "criteria")
                           & (failures["household_id"] == HOUSEHOLD_IDS["no_critical_insurance"])]
    assert set(member_rows["key"]) == {HOUSEHOLD_IDS["no_critical_insurance"] + "02"}
    assert set(member_rows["village_code"]) == {GOOD_VILLAGE}
    assert set(member_rows["severity"]) == {"error"}
    skill = failures[(failures["code"] == "H-SKILL")]
    assert set(skill["severity"]) == {"warning"}


def test_results_are_json_per_suite(county):
    _, validation = county
    profile = load_profile("xunyang-2016")
    assert set(validation.results) == set(build_suites(profile))
    blob = json.loads(json.dumps(validation.results))
    households = blob["criteria.households"]
    assert households["success"] is False
    assert all("code" in r["expectation_config"]["meta"] for r in households["results"])


def test_shaanxi_2017_rules():
    profile = load_profile("shaanxi-2017")
    v1, v2, v3, v4 = (TOWNSHIP + str(n) for n in (201, 202, 203, 204))
    tables = {
        "households": canonical_frame(
            "households",
            [
                household(v1 + "0001", identified_year=2017.0, exit_status="已脱贫"),
                household(v1 + "0002", identified_year=2017.0, exit_status="未脱贫"),
                household(v1 + "0003", identified_year=2016.0, exit_status="预脱贫"),
                household(v1 + "0004", identified_year=None, exit_status="已脱贫"),
                household(v2 + "0001"),
            ],
        ),
        "members": canonical_frame("members", [member(v1 + f"000{n}", 1) for n in range(1, 5)] + [member(v2 + "0001", 1)]),
        "villages": canonical_frame(
            "villages",
            [
                village(v1, rural_population=10000.0, industry_org="无", collective_income=0.0),
                village(v2, has_paved_road=False, industry_org="无", collective_income=500.0),
                village(v3, industry_org="合作社", collective_income=None),
                village(v4, industry_org=None, collective_income=None),
            ],
        ),
        "projects": canonical_frame("projects", [project("p1", v2, "V-ROAD")]),
        "surveys": canonical_frame("surveys", [s for v in (v1, v2, v3, v4) for s in surveys(v, ALL_YES)]),
    }
    frames = criteria_frames(tables, dt.date(2017, 12, 31), profile, county_rural_income=10000.0, previous_income_ratio={v1: 0.4, v2: 0.6})
    failures = validate_frames(frames, criteria_suites(profile)).failures
    assert {h for h in failures.loc[failures["code"] == "H-NEW-EXIT", "household_id"]} == {v1 + "0001", v1 + "0004"}
    assert criteria_failing(failures, table="villages", village_code=v1) == {"V-COLLECTIVE"}
    # No project alternative under the provincial rule; income ratio 0.5 is below last year's 0.6.
    assert criteria_failing(failures, table="villages", village_code=v2) == {"V-ROAD", "V-INCOME-GROWTH"}
    assert criteria_failing(failures, table="villages", village_code=v3) == {"V-INCOME-GROWTH"}
    assert criteria_failing(failures, table="villages", village_code=v4) == {"V-COLLECTIVE", "V-INCOME-GROWTH"}


def test_every_failing_row_comes_back_beyond_gx_value_caps():
    profile = load_profile("xunyang-2016")
    hid = GOOD_VILLAGE + "0001"
    tables = {
        "households": canonical_frame("households", [household(hid)]),
        "members": canonical_frame("members", [member(hid, n, insured_ncms=False) for n in range(1, 251)]),
    }
    frames = criteria_frames(tables, AS_OF, profile)
    suites = {"criteria.members": criteria_suites(profile)["criteria.members"]}
    failures = validate_frames(frames, suites).failures
    assert sorted(failures.loc[failures["code"] == "H-MEDICAL", "row"]) == list(range(250))


def test_an_expectation_that_cannot_run_is_reported_not_raised():
    profile = load_profile("xunyang-2016")
    frames = criteria_frames({}, AS_OF, profile)
    frames["members"] = frames["members"].drop(columns="insured_critical")
    failures = validate_frames(frames, criteria_suites(profile), context=validation_context()).failures
    broken = failures[failures["code"] == "H-MEDICAL"]
    assert set(broken["column"]) == {"insured_critical"}
    assert broken["row"].isna().all()


def test_empty_county_validates_clean():
    profile = load_profile("xunyang-2016")
    validation = validate_frames(criteria_frames({}, AS_OF, profile), build_suites(profile))
    assert validation.failures.empty and tuple(validation.failures.columns) == FAILURE_COLUMNS
    assert all(r["success"] for r in validation.results.values())


def test_frames_need_an_unnamed_unique_index():
    profile = load_profile("xunyang-2016")
    frames = criteria_frames({}, AS_OF, profile)
    frames["villages"] = frames["villages"].set_index("village_code")
    with pytest.raises(ValueError, match="villages"):
        validate_frames(frames, criteria_suites(profile))
