"""The rehearsal's draw (模拟评估) on a hand-built county and on the small demo county, its visit sheets and its
visits.csv (pure functions; the flow and the PDF are tested in tests/flows/test_rehearsal_flow.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from expectations.catalogue import load_profile, raw_catalogue
from tasks.assess import Readiness
from tasks.evaluation_design import EvaluationDesign, load_design
from evalprep.redaction import csv_bytes, csv_cell_safe as csv_safe
from tasks.rehearsal import draw_rehearsal, rehearsal_context, visit_sheet, visits_table

PROFILE = load_profile("xunyang-2016")
DESIGN = EvaluationDesign(name="hand", label="手算", villages={"poor": 2, "non_poor": 1},
                          households={"exited": 2, "remaining_poor": 1, "ordinary": 1}, questionnaire_ordinary=1)
UNMASKED_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")


def _id(n: int) -> str:
    return f"61092819800101{n:04d}"


def hand_county() -> Readiness:
    """3 poor villages (P1–P3: 5 exited households, no remaining poor, 10 households in all) and 2 non-poor ones
    (N1, N2: 1 exited, 2 remaining poor, 1 cancelled; 总户数 of N2 not given)."""
    villages = pd.DataFrame({
        "village_code": ["P1", "P2", "P3", "N1", "N2"],
        "village_name": ["一村", "二村", "三村", "四村", "五村"],
        "township_code": ["T"] * 5, "township_name": ["蜀河镇"] * 5,
        "is_key_village": [True, True, False, False, False],
        "planned_exit_year": [None, None, 2016.0, None, None],
        "total_households": [10.0, 10.0, 10.0, 8.0, None],
    })
    rows = []
    for code in ("P1", "P2", "P3"):
        rows += [(code, "已脱贫" if i % 2 else "预脱贫") for i in range(5)]
    for code in ("N1", "N2"):
        rows += [(code, "已脱贫"), (code, "未脱贫"), (code, "返贫"), (code, "注销")]
    households = pd.DataFrame(rows, columns=["village_code", "exit_status"])
    households["household_id"] = [f"{c}{i:02d}" for i, c in enumerate(households["village_code"])]
    households["head_name"] = [f"户主{i}" for i in range(len(households))]
    households["head_id_number"] = [_id(i) for i in range(len(households))]
    households["household_size"] = 3.0
    households = households.sample(frac=1.0, random_state=1)  # the draw must not depend on the row order
    return Readiness(villages=villages, village_criteria=pd.DataFrame(), households=households)


def missed_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "village_code": ["P1", "P1", "P1", "P2"],
        "head_name": ["疑甲", "疑乙", "已在册", "疑丙"],
        "head_id_number": [_id(9001), _id(9002), _id(0), _id(9003)],
        "household_size": [2.0, 4.0, 3.0, 1.0],
        "note": ["=HYPERLINK(\"x\")", "电话 13812345678", "", ""],
    })


def _households_by(draw, kind: str) -> dict[str, list[str]]:
    rows = draw.drawn(kind)
    return {code: sorted(group["household_id"]) for code, group in rows.groupby("village_code")}


def test_villages_per_stratum_and_households_per_kind_are_min_of_design_and_available():
    county = hand_county()
    draw = draw_rehearsal(county, DESIGN, seed=7)
    villages = draw.villages.set_index("village_code")
    assert sorted(villages["stratum"].value_counts().items()) == [("non_poor", 1), ("poor", 2)]
    assert draw.present == {"poor": 3, "non_poor": 2}
    for code, village in villages.iterrows():
        if village["stratum"] == "poor":  # 5 exited, 0 remaining poor → 2 exited, 0 remaining
            assert (village["exited_available"], village["exited_drawn"]) == (5, 2)
            assert (village["remaining_poor_available"], village["remaining_poor_drawn"]) == (0, 0)
        else:  # 1 exited, 2 remaining poor (the cancelled household is nobody's)
            assert (village["exited_available"], village["exited_drawn"]) == (1, 1)
            assert (village["remaining_poor_available"], village["remaining_poor_drawn"]) == (2, 1)
        assert village["ordinary_drawn"] == 1
    exited, remaining = _households_by(draw, "exited"), _households_by(draw, "remaining_poor")
    status = county.households.set_index("household_id")
    for code, ids in exited.items():
        assert len(ids) == len(set(ids)) == villages.loc[code, "exited_drawn"]
        assert set(status.loc[ids, "village_code"]) == {code}
        assert set(status.loc[ids, "exit_status"]) <= {"预脱贫", "已脱贫"}
    for code, ids in remaining.items():
        assert set(status.loc[ids, "exit_status"]) <= {"未脱贫", "返贫", "新识别"}
    assert "注销" not in set(status.loc[draw.visits["household_id"][draw.visits["household_id"] != ""], "exit_status"])


def test_every_village_is_drawn_when_the_design_asks_for_more_and_that_is_noted():
    design = EvaluationDesign(name="big", label="大", villages={"poor": 5, "non_poor": 5},
                              households={"registered": 3, "ordinary": 20}, questionnaire_ordinary=0)
    draw = draw_rehearsal(hand_county(), design, seed=1)
    villages = draw.villages.set_index("village_code")
    assert sorted(villages.index) == ["N1", "N2", "P1", "P2", "P3"]
    assert villages.loc["P1", "registered_drawn"] == 3 and villages.loc["N1", "registered_drawn"] == 3
    # ordinary households available: 总户数 − registered (P1: 10 − 5); N2 has no 总户数: the design's number
    assert villages.loc["P1", "ordinary_drawn"] == 5 and villages.loc["N1", "ordinary_drawn"] == 5
    assert villages.loc["N2", "ordinary_drawn"] == 20
    assert any("贫困村仅 3 个" in note for note in draw.notes) and any("五村" in note for note in draw.notes)


def test_the_same_seed_gives_the_same_draw_and_other_seeds_other_draws():
    county = hand_county()
    first = draw_rehearsal(county, DESIGN, seed=2016, missed=missed_rows())
    again = draw_rehearsal(hand_county(), DESIGN, seed=2016, missed=missed_rows())
    pd.testing.assert_frame_equal(first.visits, again.visits)
    assert csv_bytes(visits_table(first, county)) == csv_bytes(visits_table(again, county))
    others = {tuple(draw_rehearsal(county, DESIGN, seed=s).visits["household_id"]) for s in range(1, 9)}
    assert len(others) > 1


def test_suspected_missed_households_come_first_and_registered_heads_are_not_suspects():
    design = EvaluationDesign(name="o", label="o", villages={"poor": 3, "non_poor": 2},
                              households={"exited": 1, "ordinary": 2}, questionnaire_ordinary=0)
    draw = draw_rehearsal(hand_county(), design, seed=3, missed=missed_rows())
    ordinary = draw.drawn("ordinary")
    p1 = ordinary[ordinary["village_code"] == "P1"]
    assert list(p1["head_name"]) == ["疑甲", "疑乙"] and p1["suspect"].all()  # the registered head is left out
    p2 = ordinary[ordinary["village_code"] == "P2"]
    assert list(p2["head_name"]) == ["疑丙", ""] and list(p2["suspect"]) == [True, False]
    p3 = ordinary[ordinary["village_code"] == "P3"]
    assert list(p3["household_id"]) == ["", ""] and not p3["suspect"].any()
    # seq numbers every household to visit of a village once
    for _, group in draw.visits.groupby("village_code"):
        assert list(group["seq"]) == list(range(1, len(group) + 1))


def test_visits_csv_masks_ids_and_phones_and_defuses_formulas():
    county = hand_county()
    county.households["helper_phone"] = "13912345678"
    county.households["helper_name"] = "-张"
    county.households["head_name"] = "@" + county.households["head_name"]
    design = EvaluationDesign(name="o", label="o", villages={"poor": 3, "non_poor": 2},
                              households={"exited": 1, "ordinary": 2}, questionnaire_ordinary=0)
    draw = draw_rehearsal(county, design, seed=3, missed=missed_rows())
    table = visits_table(draw, county)
    text = csv_bytes(table).decode("utf-8-sig")
    assert not UNMASKED_ID.search(text) and "13912345678" not in text and "13812345678" not in text
    assert "610928********9001" in text and "139****5678" in text
    assert len(table) == len(draw.visits)
    for row in pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False).itertuples(index=False):
        assert not any(str(cell).startswith(("=", "+", "-", "@")) for cell in row)
    assert "'-张" in text and "'@户主" in text
    assert "疑似漏评户：=HYPERLINK" in text  # not at the start of its cell: harmless, kept as written
    assert [csv_safe(v) for v in ("=1+1", "+86", "-3", "@x", "ok", 5)] == ["'=1+1", "'+86", "'-3", "'@x", "ok", 5]


def test_numbers_typed_into_names_are_masked_in_the_csv_and_the_pack():
    county = hand_county()
    county.households["head_name"] = "张三 " + _id(7777)
    county.villages["village_name"] = "一村13812345678"
    design = EvaluationDesign(name="o", label="o", villages={"poor": 3, "non_poor": 2},
                              households={"exited": 1}, questionnaire_ordinary=0)
    draw = draw_rehearsal(county, design, seed=3)
    text = csv_bytes(visits_table(draw, county)).decode("utf-8-sig")
    assert "张三 610928********7777" in text and not UNMASKED_ID.search(text) and "13812345678" not in text
    run = {"county": "旬阳县", "week": "2016-W39", "as_of": pd.Timestamp("2016-10-02").date(), "run_id": "t",
           "profile": PROFILE.name, "generated_on": pd.Timestamp("2016-10-02").date(), "targets": {}}
    members = pd.DataFrame(columns=["household_id", "name", "id_number"])
    surveys = pd.DataFrame(columns=["household_id", "village_code", "satisfaction", "exit_recognised"])
    context = str(rehearsal_context(draw, county, members, surveys, PROFILE, run))
    assert "张三 610928********7777" in context and not UNMASKED_ID.search(context) and "13812345678" not in context


def test_a_visit_sheet_shows_the_register_answers_and_its_failing_criteria_in_words():
    household = {
        "household_id": "6109281002310004", "head_name": "尹玉巧", "head_id_number": "610928198001011234",
        "village_name": "北沟村", "village_code": "610928100231", "township_name": "城关镇",
        "household_size": 3.0, "household_type": "一般贫困户", "exit_status": "已脱贫", "planned_exit_year": 2016.0,
        "identified_year": 2014.0, "income_per_capita": 2800.0, "housing_safety": "C级危房",
        "housing_solution": "危房改造", "housing_progress": "在建", "safe_water": True,
        "failing_criteria": ["H-HOUSING", "H-INCOME", "H-MEDICAL"], "helper_name": "柯红凤",
        "helper_unit": "县教育局", "helper_phone": "15812342361",
    }
    members = pd.DataFrame({
        "person_id": ["1", "2"], "name": ["尹玉巧", "尹小"], "relation": ["户主", "之子"],
        "id_number": ["610928198001011234", "610928200601011235"], "age": [36.0, 10.0],
        "schooling": ["非在校生", "小学"], "labour_capacity": ["普通劳动力", "无劳动力"],
        "insured_ncms": [True, True], "insured_critical": [True, False],
    })
    surveys = pd.DataFrame({"survey_id": ["S1"], "household_id": ["6109281002310004"], "village_code": ["610928100231"],
                            "surveyed_on": [pd.Timestamp("2016-09-20")], "satisfaction": ["不了解"],
                            "exit_recognised": [pd.NA]})
    sheet = visit_sheet(PROFILE, household, members, surveys, "exited", "poor", 1, 1)
    checks = {c["code"]: c for c in sheet["checks"]}
    assert list(checks) == raw_catalogue()["metrics"]["wrong_exit_rate"]["criteria"]
    assert checks["H-INCOME"]["failing"] and "2,952" in checks["H-INCOME"]["register"] and "152" in checks["H-INCOME"]["register"]
    assert not checks["H-WATER"]["failing"]
    assert "尹小（10岁）小学" in checks["H-EDU"]["register"]
    assert "尹小" in checks["H-MEDICAL"]["register"] and "大病保险" in checks["H-MEDICAL"]["register"]
    for code in household["failing_criteria"]:
        assert PROFILE.criterion(code).label in sheet["failing"]
    assert sheet["head_id"] == "610928********1234" and sheet["helper_phone"] == "158****2361"
    assert all(not UNMASKED_ID.search(m["id"]) for m in sheet["members"])
    assert sheet["members_short"]  # 2 member rows, household of 3
    assert [q["register"] for q in sheet["questions"]] == ["不了解", "未填"]
    assert sheet["survey"]["counted"] == "不认可"  # 不了解 stays in the denominator and does not approve
    assert "☐满意" in sheet["questions"][0]["boxes"] and "☐不了解" in sheet["questions"][0]["boxes"]


# ------------------------------------------------------------------------------------- small demo county


@pytest.fixture(scope="module")
def small_readiness(small_county, tmp_path_factory):
    from evalprep.weeks import week_sunday
    from tasks.assess import assess_readiness
    from tasks.criteria_frames import criteria_frames
    from tasks.ingest.references import load_register
    from tasks.ingest.week import ingest_week
    from tasks.validate import validate_profile
    from tests.conftest import LAST_WEEK

    register = load_register(small_county / "reference", Path(__file__).resolve().parents[1] / "data" / "reference")
    ingest = ingest_week(small_county / "inbox" / LAST_WEEK, LAST_WEEK, tmp_path_factory.mktemp("archive"), register,
                         200 * 1024 * 1024)
    frames = criteria_frames(ingest.tables, week_sunday(LAST_WEEK), PROFILE)
    return assess_readiness(frames, validate_profile(frames, PROFILE).failures, PROFILE)


def test_the_catalogue_design_on_the_small_demo_county(small_readiness):
    design = load_design()
    draw = draw_rehearsal(small_readiness, design, seed=2016)
    villages = small_readiness.villages
    present = villages["stratum"].value_counts()
    drawn = draw.villages["stratum"].value_counts()
    for stratum, asked in design.villages.items():  # at least min(asked, present); never more than present
        assert min(asked, present.get(stratum, 0)) <= drawn.get(stratum, 0) <= present.get(stratum, 0)
    assert len(draw.villages) <= design.villages_total and draw.villages["village_code"].is_unique
    households = small_readiness.households
    for village in draw.villages.to_dict("records"):
        here = households[households["village_code"] == village["village_code"]]
        exited = int(here["exit_status"].isin(["预脱贫", "已脱贫"]).sum())
        remaining = int(here["exit_status"].isin(["新识别", "未脱贫", "返贫"]).sum())
        assert village["exited_drawn"] == min(design.households["exited"], exited)
        assert village["remaining_poor_drawn"] == min(design.households["remaining_poor"], remaining)
    ids = draw.visits.loc[draw.visits["kind"] != "ordinary", "household_id"]
    assert ids.is_unique and set(ids) <= set(households["household_id"])
    again = draw_rehearsal(small_readiness, design, seed=2016)
    other = draw_rehearsal(small_readiness, design, seed=2017)
    assert list(again.visits["household_id"]) == list(draw.visits["household_id"])
    assert list(other.visits["household_id"]) != list(draw.visits["household_id"])


def test_the_rehearsal_functions_do_not_import_prefect():
    import subprocess
    import sys

    code = "import sys, tasks.rehearsal; print('prefect' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "False"
