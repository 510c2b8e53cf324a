import pandas as pd
import pytest

from expectations.catalogue import raw_catalogue
from tasks.outliers import far_from_village, jumps, outliers

CFG = raw_catalogue()["outliers"]


def households(incomes, village="V1"):
    return pd.DataFrame({"household_id": [f"H{i}" for i in range(len(incomes))], "village_code": village,
                         "township_code": "T", "income_per_capita": incomes, "household_size": 3.0})


def test_an_income_far_from_the_village_is_flagged_with_its_median():
    incomes = [3000, 3100, 3200, 3300, 3400, 3500, 3600, 3700, 3800, 3900, 30000]
    flagged = far_from_village(households(incomes), "income_per_capita", "OUT-INCOME")
    assert flagged["household_id"].tolist() == ["H10"]
    assert flagged["reference"].iloc[0] == 3500
    assert "30,000" in flagged["message"].iloc[0] and "3,500" in flagged["message"].iloc[0]


def test_small_villages_are_not_screened():
    incomes = [3000] * (CFG["min_households"] - 2) + [3500, 90000]
    assert far_from_village(households(incomes), "income_per_capita", "OUT-INCOME").empty


def test_jumps_between_weeks_at_their_limits():
    before = households([2000, 2000, 2000])
    limit = CFG["income_jump"]
    now = households([2000 * (1 + limit), 2000 * (1 + limit) + 1, 2000])
    flagged = jumps(now, before, "household_id", "income_per_capita", "OUT-JUMP-INCOME", limit, relative=True)
    assert flagged["household_id"].tolist() == ["H1"]  # exactly 50% is not "more than"
    sizes_before = households([1, 1, 1]).assign(household_size=[3.0, 3.0, 3.0])
    sizes_now = sizes_before.assign(household_size=[3.0 + CFG["size_jump"], 3.0 + CFG["size_jump"] - 1, 3.0])
    flagged = jumps(sizes_now, sizes_before, "household_id", "household_size", "OUT-JUMP-SIZE", CFG["size_jump"],
                    relative=False, inclusive=True)
    assert flagged["household_id"].tolist() == ["H0"]


def test_no_previous_week_means_no_jump_warnings():
    table = outliers(households([3000] * 12), pd.DataFrame({"village_code": ["V1"], "township_code": ["T"],
                                                             "satisfaction_rate": [0.8]}), None, None)
    assert table.empty


def test_satisfaction_jump_is_reported_per_village():
    villages_before = pd.DataFrame({"village_code": ["V1", "V2"], "township_code": "T", "satisfaction_rate": [0.6, 0.8]})
    villages_now = villages_before.assign(satisfaction_rate=[0.85, 0.85])
    table = outliers(households([3000] * 3), villages_now, households([3000] * 3), villages_before)
    jump = table[table["rule"] == "OUT-JUMP-SATISFACTION"]
    assert jump["village_code"].tolist() == ["V1"] and jump["score"].iloc[0] == pytest.approx(0.25)
