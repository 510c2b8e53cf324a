"""The rectification ledger (整改台账, tasks/ledger.py): status rules on a hand-made case, stable ids of data
problems, storage in the week history, and the four demo weeks against the generator's truth."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from expectations.catalogue import load_profile
from tasks.history import previous_ledger, record_ledger
from tasks.ledger import (
    FIXED, KIND_DATA, NEW, OPEN, REOPENED, TOWNSHIP_OWNER, advance_ledger, closure, data_items, problem_items,
)

PROFILE = load_profile("xunyang-2016")
EVALUATION = dt.date(2016, 12, 31)
W36, W37, W38 = "2016-W36", "2016-W37", "2016-W38"
SUNDAY = {W36: dt.date(2016, 9, 11), W37: dt.date(2016, 9, 18), W38: dt.date(2016, 9, 25)}


def item(item_id: str, township: str = "610928100", department: str = "交通运输局", kind: str = "criterion",
         deadline: dt.date = dt.date(2016, 11, 1)) -> dict:
    return {"item_id": item_id, "department": department, "township_code": township, "township_name": "城关镇",
            "village_code": township + "201", "village_name": "甲村", "kind": kind, "rule": item_id.split(":")[0],
            "problem": "通村硬化路未达标", "lead": "未明确", "responsible_person": "未明确", "count": 1,
            "deadline": deadline}


def items(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def status(ledger: pd.DataFrame, item_id: str) -> dict:
    return ledger.set_index("item_id").loc[item_id].to_dict()


A, B, C, D = "V-ROAD:610928100201", "V-POWER:610928100201", "V-CLINIC:610928100201", "V-CULTURE:610928100201"
DATA = "DQ-REQUIRED:610928101/households/6109281012010001/head_name"
AWAY = "V-ROAD:610928102201"  # a township that sends nothing in W37
TOWNSHIPS = {"610928100", "610928101", "610928102"}


def three_weeks() -> list[pd.DataFrame]:
    data = item(DATA, township="610928101", department=TOWNSHIP_OWNER, kind=KIND_DATA, deadline=dt.date(2016, 9, 18))
    weeks = [
        (W36, [item(A), item(B), item(C), data, item(AWAY, township="610928102")], TOWNSHIPS),
        (W37, [item(A), item(C), data], TOWNSHIPS - {"610928102"}),  # B fixed, C still open, AWAY not reported
        (W38, [item(A), item(B), item(D), data], TOWNSHIPS),  # B back, C fixed, D new, AWAY fixed
    ]
    ledgers, previous = [], None
    for week, rows, covered in weeks:
        previous = advance_ledger(previous, items(*rows), week, SUNDAY[week], covered)
        ledgers.append(previous)
    return ledgers


def test_statuses_over_three_weeks():
    w36, w37, w38 = three_weeks()
    assert {i: status(w36, i)["status"] for i in (A, B, C, DATA, AWAY)} == dict.fromkeys((A, B, C, DATA, AWAY), NEW)
    assert status(w37, A)["status"] == OPEN and status(w37, A)["weeks_open"] == 2
    assert (status(w37, B)["status"], status(w37, B)["fixed_week"]) == (FIXED, W37)
    assert status(w37, AWAY)["status"] == OPEN  # its township sent nothing: nothing shows it fixed
    a, b, c, d = (status(w38, i) for i in (A, B, C, D))
    assert (a["status"], a["first_seen"], a["weeks_open"]) == (OPEN, W36, 3)
    assert (b["status"], b["reopened"], b["fixed_week"], b["first_seen"]) == (REOPENED, 1, "", W36)
    assert (c["status"], c["fixed_week"]) == (FIXED, W38)
    assert (d["status"], d["first_seen"]) == (NEW, W38)
    assert (status(w38, AWAY)["status"], status(w38, AWAY)["fixed_week"]) == (FIXED, W38)
    # a fixed item stays in the ledger, fixed in the week it went
    w39 = advance_ledger(w38, items(item(A), item(B), item(D)), "2016-W39", dt.date(2016, 10, 2), TOWNSHIPS)
    assert (status(w39, C)["status"], status(w39, C)["fixed_week"]) == (FIXED, W38)
    assert (status(w39, DATA)["status"], status(w39, DATA)["fixed_week"]) == (FIXED, "2016-W39")
    assert status(w39, B)["status"] == OPEN and len(w39) == 6


def test_overdue_on_a_known_date():
    # a data problem first seen in W36 is due with the next week's submission (Sunday of W37)
    w36, w37, w38 = three_weeks()
    assert not status(w37, DATA)["overdue"] and status(w38, DATA)["overdue"]
    assert status(w38, DATA)["deadline"] == dt.date(2016, 9, 18)
    # a criterion is due the catalogue's days before the evaluation: V-ROAD 60 days → 2016-11-01
    road = problem_items(pd.DataFrame([{
        "item_id": A, "department": "交通运输局", "township_code": "610928100", "township_name": "城关镇",
        "village_code": "610928100201", "village_name": "甲村", "kind": "criterion", "code": "V-ROAD",
        "project_id": "", "project_name": "", "owner_gaps": "", "lead": "", "responsible_person": "张三"}]),
        PROFILE, EVALUATION)
    assert road.loc[0, "deadline"] == dt.date(2016, 11, 1) and road.loc[0, "lead"] == "未明确"
    on_time = advance_ledger(None, road, "2016-W44", dt.date(2016, 11, 1), TOWNSHIPS)
    late = advance_ledger(None, road, "2016-W44", dt.date(2016, 11, 2), TOWNSHIPS)
    assert not on_time.loc[0, "overdue"] and late.loc[0, "overdue"]
    fixed_late = advance_ledger(late, road.iloc[0:0], "2016-W45", dt.date(2016, 11, 6), TOWNSHIPS)
    assert fixed_late.loc[0, "status"] == FIXED and not fixed_late.loc[0, "overdue"]


def test_closure_rates_by_department():
    w38 = three_weeks()[-1]
    table = closure(w38, "department").set_index("department")
    assert table.loc["交通运输局", ["items", "fixed", "open", "reopened", "overdue"]].tolist() == [5, 2, 3, 1, 0]
    assert table.loc[TOWNSHIP_OWNER, ["items", "fixed", "overdue"]].tolist() == [1, 0, 1]
    assert table.loc["交通运输局", "rate"] == pytest.approx(0.4)


def test_a_data_problem_keeps_its_id_when_rows_move():
    """The same empty cell of the same household, at another Excel row next week: the same item; another
    household's: another item."""
    def week(rows: dict[int, str], file: str) -> pd.DataFrame:
        frames = {"households": pd.DataFrame({"_file": file, "_sheet": "贫困户", "_row": list(rows),
                                              "household_id": list(rows.values()), "township_code": "610928101"})}
        issues = pd.DataFrame([{"township_code": "610928101", "file": file, "sheet": "贫困户", "row": r,
                                "column": "户主姓名", "rule": "DQ-REQUIRED", "severity": "error", "message": "",
                                "village_code": "610928101201"} for r in rows])
        headers = pd.DataFrame([{"file": file, "sheet": "贫困户", "column": "head_name", "written": "户主姓名"}])
        return data_items(issues, frames, headers, {"610928101": "吕河镇"}, W36)

    first = week({5: "6109281012010001", 9: "6109281012010002"}, "610928101_吕河镇_2016-W36.xlsx")
    moved = week({12: "6109281012010001"}, "610928101_吕河镇_2016-W37.xlsx")
    assert set(moved["item_id"]) < set(first["item_id"]) and len(set(first["item_id"])) == 2
    assert moved.loc[0, "item_id"] == "DQ-REQUIRED:610928101/households/6109281012010001/head_name"
    assert moved.loc[0, "department"] == TOWNSHIP_OWNER and moved.loc[0, "township_name"] == "吕河镇"


def test_history_keeps_the_ledger_by_week(tmp_path):
    w36, w37, _ = three_weeks()
    record_ledger(tmp_path, "xunyang-2016", W36, w36)
    record_ledger(tmp_path, "xunyang-2016", W37, w37)
    assert previous_ledger(tmp_path, "xunyang-2016", W36) is None
    assert previous_ledger(tmp_path, "xunyang-2016", W37)["item_id"].tolist() == w36["item_id"].tolist()
    again = previous_ledger(tmp_path, "xunyang-2016", W38)
    assert again["status"].tolist() == w37["status"].tolist()
    # computed from what is stored, the next week is the same as from the frame in memory
    nxt = advance_ledger(again, items(item(A)), W38, SUNDAY[W38], TOWNSHIPS)
    assert nxt.equals(advance_ledger(w37, items(item(A)), W38, SUNDAY[W38], TOWNSHIPS))
