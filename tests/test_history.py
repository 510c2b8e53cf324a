import pandas as pd

from tasks.assess import Readiness
from tasks.history import changes_since, load_week, previous_figures, record_week, village_trend, weeks_recorded


def readiness(grades: dict[str, str], failing: dict[str, list[str]], township="610928103") -> Readiness:
    villages = pd.DataFrame({
        "village_code": list(grades), "village_name": [f"{c}村" for c in grades], "township_code": township,
        "township_name": "蜀河镇", "is_key_village": True, "grade": list(grades.values()),
        "failing_criteria": [failing.get(c, []) for c in grades], "satisfaction_rate": 0.9, "poverty_incidence": 0.01,
        "wrong_exit_rate": 0.0, "households": 10, "households_failing": 1, "exit_households": 5,
    })
    households = pd.DataFrame({
        "household_id": [f"{c}0001" for c in grades], "village_code": list(grades), "township_code": township,
        "household_size": 3.0, "income_per_capita": 3000.0, "meets_all": True, "failing_criteria": [[] for _ in grades],
    })
    return Readiness(villages=villages, village_criteria=pd.DataFrame(), households=households)


def test_a_rerun_of_a_week_replaces_and_never_duplicates(tmp_path):
    record_week(tmp_path, "xunyang-2016", "2016-W38", readiness({"A": "未达标", "B": "合格"}, {"A": ["V-ROAD"]}))
    record_week(tmp_path, "xunyang-2016", "2016-W38", readiness({"A": "合格"}, {}))
    week = load_week(tmp_path, "xunyang-2016", "2016-W38")
    assert week.set_index("village_code")["grade"].to_dict() == {"A": "合格", "B": "合格"}
    assert weeks_recorded(tmp_path, "xunyang-2016") == ["2016-W38"]


def test_previous_week_and_trend_follow_week_order(tmp_path):
    for week, grade in (("2016-W39", "合格"), ("2016-W37", "未达标"), ("2016-W38", "未达标")):
        record_week(tmp_path, "xunyang-2016", week, readiness({"A": grade}, {}))
    before, households = previous_figures(tmp_path, "xunyang-2016", "2016-W39")
    assert before["grade"].tolist() == ["未达标"] and households["household_id"].tolist() == ["A0001"]
    trend = village_trend(tmp_path, "xunyang-2016", "2016-W38")
    assert trend["week"].tolist() == ["2016-W37", "2016-W38"]
    assert previous_figures(tmp_path, "xunyang-2016", "2016-W37") == (None, None)
    assert weeks_recorded(tmp_path, "shaanxi-2017") == []


def test_changes_since_last_week_name_fixed_and_new_failures():
    before = readiness({"A": "未达标", "B": "合格", "C": "合格"}, {"A": ["H-INCOME", "V-ROAD"]}).villages
    before["failing_criteria"] = before["failing_criteria"].map(";".join)
    now = readiness({"A": "合格", "B": "未达标", "C": "合格", "D": "优秀"}, {"A": ["V-CULTURE"], "B": ["V-POWER"]}).villages
    changes = changes_since(before, now).set_index("village_code")
    assert list(changes.index) == ["A", "B"]  # C unchanged, D new
    assert changes.loc["A", ["grade_before", "grade_now", "fixed", "new_failures"]].tolist() == ["未达标", "合格", "H-INCOME;V-ROAD", "V-CULTURE"]
    assert changes.loc["B", "new_failures"] == "V-POWER"
    assert changes_since(None, now).empty
