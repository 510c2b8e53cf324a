import pandas as pd

from tasks.assess import Readiness
from tasks.rollups import county_readiness, township_readiness


def test_township_and_county_counts_against_targets():
    villages = pd.DataFrame({
        "village_code": ["A", "B", "C"], "township_code": ["T1", "T1", "T2"], "township_name": ["甲镇", "甲镇", "乙镇"],
        "is_key_village": [True, False, True], "grade": ["合格", "未达标", "优秀"],
        "households": [2, 1, 1], "households_failing": [1, 1, 0],
    })
    households = pd.DataFrame({
        "household_id": ["a1", "a2", "b1", "c1"], "village_code": ["A", "A", "B", "C"], "township_code": ["T1", "T1", "T1", "T2"],
        "in_exit_cohort": [True, True, False, True], "meets_all": [True, False, False, True],
        "planned_exit_year": [2016, 2016, 2018, 2015],
    })
    readiness = Readiness(villages=villages, village_criteria=pd.DataFrame(), households=households)
    towns = township_readiness(readiness, 2016).set_index("township_code")
    assert towns.loc["T1", ["villages", "villages_未达标", "villages_合格", "key_villages", "key_villages_ready"]].tolist() == [2, 1, 1, 1, 1]
    assert towns.loc["T1", ["exit_households", "exit_households_ready", "planned_exit_households", "planned_exit_households_ready"]].tolist() == [2, 1, 2, 1]
    assert towns.loc["T2", ["villages_优秀", "key_villages_ready", "planned_exit_households"]].tolist() == [1, 1, 0]
    county = county_readiness(towns.reset_index(), {"key_villages": 4, "exit_households": 4}).iloc[0]
    assert county["key_villages_ready"] == 2 and county["key_villages_share_of_target"] == 0.5
    assert county["exit_households_share_of_target"] == 0.25
