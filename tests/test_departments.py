"""Department problem lists from tiny readiness frames: routing, ordering, the fixes that turn villages."""
from __future__ import annotations

import math

import pandas as pd

from expectations.catalogue import load_profile
from tasks.assess import Readiness
from tasks.departments import (
    IMPACT_DECISIVE, IMPACT_ONE_OF_SEVERAL, IMPACT_OTHER, department_names, department_problem_list,
    fixes_that_turn_villages, village_blockers, villages_turned_by,
)

PROFILE = load_profile("xunyang-2016")
HOUSING = PROFILE.criterion("H-HOUSING")
SATISFACTION = PROFILE.criterion("V-SATISFACTION")
ROAD = PROFILE.criterion("V-ROAD")
PASS_RATE = SATISFACTION.params["fail_below"] + 0.05
LOW_RATE = SATISFACTION.params["fail_below"] - 0.1


def village(code, failing, grade="未达标", key=False, rate=PASS_RATE):
    """A village as tasks/assess.py leaves it: the satisfaction band is GX's verdict on the rate."""
    return {"village_code": code, "village_name": f"{code}村", "township_code": "610928100", "township_name": "城关镇",
            "is_key_village": key, "grade": grade, "failing_criteria": failing, "satisfaction_rate": rate,
            "satisfaction_band": "fail" if rate == LOW_RATE else "pass"}


VILLAGES = pd.DataFrame([
    village("A", ["H-HOUSING", "P-OWNER"], key=True),             # housing alone keeps A from 合格
    village("B", ["H-HOUSING", "V-ROAD", "P-OWNER"]),               # housing is one of two vetoes
    village("C", ["H-HOUSING", "V-SATISFACTION"], key=True, rate=LOW_RATE),
    village("D", ["V-CLINIC", "P-OWNER"], grade="合格"),             # only a non-veto gap
    village("E", ["V-SATISFACTION"], rate=LOW_RATE),                 # satisfaction alone keeps E from 合格
])


def criteria_rows():
    rows = []
    for v in VILLAGES.to_dict("records"):
        for criterion in PROFILE.criteria:
            failing = criterion.code in v["failing_criteria"]
            owner = ("杨主抓", "李责任") if (v["village_code"], criterion.code) == ("A", "H-HOUSING") else (None, None)
            rows.append({"village_code": v["village_code"], "code": criterion.code, "status": "fail" if failing else "pass",
                         "value": math.nan, "failing_count": 2 if failing and criterion.level == "household" else 0,
                         "department": criterion.department, "lead": owner[0], "responsible_person": owner[1]})
    return pd.DataFrame(rows)


PROJECTS = pd.DataFrame([
    # A: no department, lead and responsible named → the road's department, owner known
    {"project_id": "P1", "project_name": "A村道路", "village_code": "A", "criterion_code": "V-ROAD",
     "department": None, "lead": "赵", "responsible_person": "钱"},
    # B: department named, no lead → that department, owner missing
    {"project_id": "P2", "project_name": "B村危房改造", "village_code": "B", "criterion_code": "H-HOUSING",
     "department": "住建局", "lead": None, "responsible_person": "孙"},
    # D: a department that is not in the catalogue → the criterion's department
    {"project_id": "P3", "project_name": "D村道路", "village_code": "D", "criterion_code": "V-ROAD",
     "department": "交通局", "lead": None, "responsible_person": None},
    # complete owner: no item
    {"project_id": "P4", "project_name": "D村卫生室", "village_code": "D", "criterion_code": "V-CLINIC",
     "department": "卫生和计划生育局", "lead": "周", "responsible_person": "吴"},
])
READINESS = Readiness(villages=VILLAGES, village_criteria=criteria_rows(), households=pd.DataFrame())
ITEMS = department_problem_list(READINESS, PROJECTS, PROFILE)


def of(department):
    return ITEMS[ITEMS["department"] == department].reset_index(drop=True)


def test_blockers_are_failing_vetoes_and_low_satisfaction():
    blockers = village_blockers(VILLAGES, PROFILE)
    assert blockers["A"] == {"H-HOUSING"}
    assert blockers["B"] == {"H-HOUSING", "V-ROAD"}
    assert blockers["C"] == {"H-HOUSING", "V-SATISFACTION"}
    assert blockers["D"] == set()
    assert blockers["E"] == {"V-SATISFACTION"}


def test_criterion_failures_go_to_the_department_and_every_co_department():
    for department in HOUSING.departments:
        housing = of(department)
        assert set(housing.loc[housing["code"] == "H-HOUSING", "village_code"]) == {"A", "B", "C"}
    for department in SATISFACTION.departments:
        assert set(of(department).loc[lambda f: f["code"] == "V-SATISFACTION", "village_code"]) == {"C", "E"}


def test_project_owner_gaps_go_to_the_project_department_or_the_criterions():
    projects = ITEMS[ITEMS["kind"] == "project"].set_index("project_id")
    assert projects.loc["P1", "department"] == ROAD.department and not projects.loc["P1", "owner_missing"]
    assert projects.loc["P2", "department"] == "住建局" and projects.loc["P2", "owner_missing"]
    assert projects.loc["P3", "department"] == ROAD.department
    assert projects.loc["P3", "owner_gaps"] == "lead;responsible_person"
    assert "P4" not in projects.index
    # P-OWNER is listed per project, not once more per village
    assert not ((ITEMS["kind"] == "criterion") & (ITEMS["code"] == "P-OWNER")).any()


def test_items_without_owner_first_then_decisive_then_key_villages():
    housing = of("住建局")
    assert list(zip(housing["village_code"], housing["kind"])) == [
        ("C", "criterion"),   # no owner, one of two blockers, key village
        ("B", "criterion"),   # no owner, one of two blockers
        ("B", "project"),     # no owner, not a veto
        ("A", "criterion"),   # owner named: after every item without one, although decisive
    ]
    assert list(housing["impact"]) == [IMPACT_ONE_OF_SEVERAL, IMPACT_ONE_OF_SEVERAL, IMPACT_OTHER, IMPACT_DECISIVE]
    assert list(housing["owner_missing"]) == [True, True, True, False]
    assert (housing.loc[3, "lead"], housing.loc[3, "responsible_person"]) == ("杨主抓", "李责任")


def test_an_item_that_alone_keeps_a_village_from_passing_comes_before_one_of_several():
    poverty_office = of(SATISFACTION.department)
    satisfaction = poverty_office[poverty_office["code"] == "V-SATISFACTION"]
    assert list(satisfaction["village_code"]) == ["E", "C"]
    assert list(satisfaction["decisive"]) == [True, False]


def test_non_veto_gaps_are_listed_but_never_decisive():
    clinic = ITEMS[ITEMS["code"] == "V-CLINIC"]
    assert set(clinic["village_code"]) == {"D"} and not clinic["decisive"].any()
    assert set(clinic["impact"]) == {IMPACT_OTHER}


def test_every_catalogue_department_gets_a_list_and_the_township_government_when_it_has_items():
    names = department_names(PROFILE, ITEMS)
    assert names[:len(PROFILE.departments)] == list(PROFILE.departments)
    assert names[len(PROFILE.departments):] == ["镇政府"]
    assert department_names(PROFILE, ITEMS[ITEMS["department"] != "镇政府"]) == list(PROFILE.departments)


def test_fixes_that_turn_the_most_villages_come_first():
    fixes = fixes_that_turn_villages(of("住建局")).set_index("code")
    assert list(fixes.index) == ["H-HOUSING", "P-OWNER"]
    assert (fixes.loc["H-HOUSING", "villages"], fixes.loc["H-HOUSING", "decisive"]) == (3, 1)
    assert fixes.loc["H-HOUSING", "key_villages"] == 2 and fixes.loc["H-HOUSING", "failing_count"] == 6


def test_villages_a_department_alone_can_turn():
    blockers = village_blockers(VILLAGES, PROFILE)
    assert villages_turned_by(of("住建局"), blockers) == ["A"]
    assert villages_turned_by(of(SATISFACTION.department), blockers) == ["E"]
    assert villages_turned_by(of("国土资源局"), blockers) == []


def test_no_failures_give_an_empty_list():
    passing = Readiness(villages=VILLAGES.assign(failing_criteria=[[]] * 5, grade="优秀"),
                        village_criteria=criteria_rows().assign(status="pass"), households=pd.DataFrame())
    assert department_problem_list(passing, PROJECTS.iloc[3:], PROFILE).empty


def test_key_villages_without_any_power_project_are_named_first():
    """The speech: "2016年脱贫的45个重点村有的至今还没有项目，而项目不启动，考核是不可能通过的"."""
    power = PROFILE.criterion("V-POWER")
    villages = pd.DataFrame([
        village("Q", ["V-POWER"], key=True),   # key village, a power project not started (owner named)
        village("R", ["V-POWER"]),             # not a key village, no project: owner missing
        village("P", ["V-POWER"], key=True),   # key village, no power project at all → first
    ])
    rows = []
    for v in villages.to_dict("records"):
        for criterion in PROFILE.criteria:
            failing = criterion.code in v["failing_criteria"]
            owner = ("甲", "乙") if v["village_code"] == "Q" and failing else (None, None)
            rows.append({"village_code": v["village_code"], "code": criterion.code, "status": "fail" if failing else "pass",
                         "value": math.nan, "failing_count": 0, "department": criterion.department,
                         "lead": owner[0], "responsible_person": owner[1]})
    projects = pd.DataFrame([{"project_id": "Q1", "project_name": "Q村农网改造", "village_code": "Q",
                              "criterion_code": "V-POWER", "department": power.department, "lead": "甲",
                              "responsible_person": "乙", "build_status": "未开工"}])
    items = department_problem_list(Readiness(villages, pd.DataFrame(rows), pd.DataFrame()), projects, PROFILE)
    listed = items[items["department"] == power.department]
    assert list(listed["village_code"]) == ["P", "R", "Q"]
    assert list(listed["no_project_first"]) == [True, False, False]


def test_every_item_has_a_stable_id_from_its_rule_and_what_it_is_about_not_its_row():
    projects = ITEMS[ITEMS["kind"] == "project"].set_index("project_id")
    assert projects.loc["P3", "item_id"] == f"P-OWNER:{projects.loc['P3', 'village_code']}/P3"
    housing = of(HOUSING.department).set_index("village_code")
    assert housing.loc["A", "item_id"] == "H-HOUSING:A"
    # the same failures listed in another order give the same ids
    shuffled = Readiness(villages=VILLAGES.iloc[::-1], village_criteria=criteria_rows().iloc[::-1],
                         households=pd.DataFrame())
    again = department_problem_list(shuffled, PROJECTS.iloc[::-1], PROFILE)
    assert sorted(again["item_id"] + again["department"]) == sorted(ITEMS["item_id"] + ITEMS["department"])
    assert not ITEMS.duplicated(["department", "item_id"]).any()
