"""The evaluators' sample, simulated: determinism, the boundaries of each metric, and the small demo."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from expectations.catalogue import load_profile
from tasks.assess import Readiness
from tasks.evaluation_design import EvaluationDesign, allocation, draw_villages, load_design, p_drawn
from tasks.sample_risk import village_sample_risk
from tasks.simulate import MISSED_NOT_MEASURED, should_be_registered, simulate_evaluation
from tasks.survey_answers import approvals

PROFILE = load_profile("xunyang-2016")
DRAWS = 400


def county(villages: int = 30, households: int = 40, failing: int = 0, cohort: int = 30,
           approving: int = 20, answers: int = 20, population: int = 1000):
    """`villages` villages of `households` registered households (size 3); the first `cohort` of each
    village are exiting, the first `failing` of those fail H-INCOME; `approving` of `answers` approve."""
    vrows, hrows, srows = [], [], []
    for v in range(villages):
        code = f"610928100{200 + v:03d}"
        vrows.append({"village_code": code, "township_code": "610928100", "rural_population": float(population),
                      "remaining_poor_people": 3.0 * (households - cohort),
                      "satisfaction_answers": answers, "satisfaction_yes": approving})
        for h in range(households):
            hrows.append({"household_id": f"{code}{h:04d}", "village_code": code, "exit_status": "已脱贫" if h < cohort else "未脱贫",
                          "in_exit_cohort": h < cohort, "household_size": 3.0,
                          "failing_criteria": ["H-INCOME"] if h < failing else [], "head_id_number": f"ID{code}{h:04d}"})
        for s in range(answers):
            srows.append({"village_code": code, "satisfaction": "满意" if s < approving else "不满意", "exit_recognised": "不适用"})
    readiness = Readiness(villages=pd.DataFrame(vrows), village_criteria=pd.DataFrame(), households=pd.DataFrame(hrows))
    surveys = pd.DataFrame(srows, columns=["village_code", "satisfaction", "exit_recognised"])
    return readiness, surveys


def missed_rows(readiness: Readiness, per_village: int, income: float = 1000.0) -> pd.DataFrame:
    rows = [{"village_code": code, "township_code": "610928100", "head_id_number": f"M{code}{i}", "household_size": 3.0,
             "income_per_capita": income, "housing_safety": "安全"}
            for code in readiness.villages["village_code"] for i in range(per_village)]
    return pd.DataFrame(rows)


def run(readiness, surveys, missed=None, **kwargs):
    return simulate_evaluation(readiness, surveys, PROFILE, missed, draws=kwargs.pop("draws", DRAWS), **kwargs)


def test_same_seed_same_result_and_json_able():
    readiness, surveys = county(failing=1, approving=18)
    first, again = run(readiness, surveys, seed=7), run(readiness, surveys, seed=7)
    assert first == again
    assert json.loads(json.dumps(first, ensure_ascii=False)) == first
    assert (first["seed"], first["draws"]) == (7, DRAWS)
    assert run(readiness, surveys, seed=8)["metrics"] != first["metrics"]


def test_the_design_comes_from_the_catalogue_and_the_sample_is_what_it_says():
    readiness, surveys = county(villages=60)
    readiness.villages["is_key_village"] = [v < 40 for v in range(60)]  # 40 poor villages, 20 others
    readiness.households["exit_status"] = ["已脱贫" if c else "未脱贫" for c in readiness.households["in_exit_cohort"]]
    design = load_design()
    assert (design.villages, design.households, design.questionnaire_ordinary) == (
        {"poor": 19, "non_poor": 10}, {"exited": 24, "remaining_poor": 3, "ordinary": 27}, 10)
    result = run(readiness, surveys, missed_rows(readiness, 1))
    # every village has 30 exited, 10 remaining-poor and (1000 - 120) / 3 = 293 ordinary households: nothing runs short
    assert result["sample"] == {"villages": 29.0, "households": 29 * 54.0, "exit_people": 29 * 24 * 3.0,
                                "ordinary": 29 * 27.0, "questionnaire": 29 * 37.0}
    small = EvaluationDesign("test", "test", {"poor": 2, "non_poor": 1}, {"exited": 2, "remaining_poor": 1, "ordinary": 1}, 1)
    got = run(readiness, surveys, design=small)["sample"]
    assert (got["villages"], got["households"], got["questionnaire"]) == (3, 12, 12)


def test_the_villages_are_drawn_per_stratum():
    strata = pd.Series(["poor"] * 5 + ["non_poor"] * 3)
    design = EvaluationDesign("test", "test", {"poor": 2, "non_poor": 1}, {"exited": 1}, 0)
    drawn = draw_villages(strata, design, np.random.default_rng(1), 200)
    assert drawn.shape == (200, 3)
    assert all((strata.to_numpy()[row] == "poor").sum() == 2 and len(set(row)) == 3 for row in drawn)
    assert set(drawn.ravel()) == set(range(8))  # every village can be drawn
    assert p_drawn(strata, design).tolist() == [0.4] * 5 + [pytest.approx(1 / 3)] * 3
    few = EvaluationDesign("test", "test", {"poor": 9, "non_poor": 9}, {"exited": 1}, 0)
    assert draw_villages(strata, few, np.random.default_rng(1), 5).shape == (5, 8)  # short strata are taken whole
    assert p_drawn(strata, few).tolist() == [1.0] * 8
    # a stratum short of villages: the rest of the county's total comes from the other stratum
    lopsided = EvaluationDesign("test", "test", {"poor": 1, "non_poor": 5}, {"exited": 1}, 0)
    assert allocation(strata, lopsided) == {"poor": 3, "non_poor": 3}


def test_a_design_is_checked_and_can_be_overridden():
    assert load_design(overrides={"villages": {"poor": 5, "non_poor": 5}}).villages_total == 10
    assert load_design("legacy-100x10").households == {"registered": 5, "ordinary": 5}
    for bad in ({"villages": {"poor": -1}}, {"households": {"exited": 2, "registered": 2}}, {"colour": 1},
                {"questionnaire_ordinary": 99}, {"households": {"ordinary": 10**9}}, {"villages": {"poor": "多"}}):
        with pytest.raises(ValueError):
            load_design(overrides=bad)
    assert load_design().with_villages(10).villages == {"poor": 7, "non_poor": 3}


def test_exactly_at_the_line_fails_every_metric():
    # 实施办法 "高于2%的不得退出" vs 瞭望 "必须低于2%": the catalogue takes the stricter reading
    assert PROFILE.metric_fails("wrong_exit_rate", 1 / 50) and not PROFILE.metric_fails("wrong_exit_rate", 0.0199)
    assert PROFILE.metric_fails("missed_rate", 0.02) and PROFILE.metric_fails("overall_incidence", 3 / 100)
    assert PROFILE.metric_fails("recognition", 9 / 10) and not PROFILE.metric_fails("recognition", 0.9001)
    assert not PROFILE.metric_fails("recognition", math.nan) and not PROFILE.metric_fails("wrong_exit_rate", math.nan)


def test_recognition_counts_every_surveyed_household():
    # 群众认可度 = 调查户中认可户数 / 调查总户数: 7 满意 + 1 基本满意 of 10 surveyed, one 不了解, one blank → 80%
    readiness, _ = county(villages=1)
    answers = ["满意"] * 7 + ["基本满意", "不了解", None]
    surveys = pd.DataFrame({"village_code": readiness.villages["village_code"].iloc[0], "satisfaction": answers,
                            "exit_recognised": [None] * 10})
    rec = run(readiness, surveys)["metrics"]["recognition"]
    assert rec["point_estimate"] == 0.8  # not 8/9 (不了解 left out) nor 8/8 (blank left out too)
    assert rec["p_fail"] > 0.9


def test_missed_rate_counts_people():
    # 漏评率 = 调查核实的漏评人口数 / 抽查村未建档立卡的农村人口数: 1 village, 1000 people, 40 registered households
    # of 3 → 880 people outside; 2 suspects of 5 people below the line → 10 / 880, not 2 households / 293
    readiness, surveys = county(villages=1)
    missed = missed_rows(readiness, 2)
    missed["household_size"] = 5.0
    rate = run(readiness, surveys, missed)["metrics"]["missed_rate"]
    assert rate["point_estimate"] == round(10 / 880, 4)


def test_overall_incidence_adds_missed_and_wrongly_exited_people():
    # (remaining 30 + missed 10 + wrong 3) / 1000, one village of 40 households of 3, the first of 30 exited failing
    readiness, surveys = county(villages=1, failing=1)
    missed = missed_rows(readiness, 2)
    missed["household_size"] = 5.0
    incidence = run(readiness, surveys, missed)["metrics"]["overall_incidence"]
    assert incidence["point_estimate"] == round((30 + 10 + 3) / 1000, 4)


def test_the_this_year_exit_cohort_is_shown_beside_the_pooled_rate():
    readiness, surveys = county(villages=2, failing=2)
    hh = readiness.households
    hh["planned_exit_year"] = [2016 if i % 40 < 5 else 2015 for i in range(len(hh))]  # the 2 failing are of 2016
    wrong = run(readiness, surveys)["metrics"]["wrong_exit_rate"]
    assert wrong["point_estimate"] == round(4 / 60, 4) and wrong["point_estimate_year"] == round(4 / 10, 4)


def test_the_published_design_sees_more_than_the_old_100_by_10():
    # 2.5% of exited people fail; many remaining poor: the old design met few exited people and reassured
    readiness, surveys = county(villages=120, households=80, cohort=40, failing=1)
    national = run(readiness, surveys, seed=3)["metrics"]["wrong_exit_rate"]["p_fail"]
    legacy = run(readiness, surveys, seed=3, design=load_design("legacy-100x10"))["metrics"]["wrong_exit_rate"]["p_fail"]
    assert national > legacy + 0.1


def test_the_size_table_has_the_design_and_smaller_and_larger_samples():
    readiness, surveys = county(villages=80, failing=1)
    rows = run(readiness, surveys)["by_villages"]
    assert [r["villages"] for r in rows] == sorted({10, 15, 20, 29, 40, 60})
    assert [r["design_default"] for r in rows].count(True) == 1
    assert all(r["households"] == r["villages"] * 54 for r in rows)
    assert all(0 <= r["p_any_fail"] <= 1 and r["p_any_fail"] >= max(v for v in r["p_fail"].values() if v is not None)
               for r in rows)


def test_every_exit_household_failing_fails_the_wrong_exit_rate_surely():
    readiness, surveys = county(failing=30)
    wrong = run(readiness, surveys)["metrics"]["wrong_exit_rate"]
    assert wrong["point_estimate"] == 1.0 and wrong["p_fail"] == 1.0
    assert wrong["threshold"] == PROFILE.metrics["wrong_exit_rate"]["max"]


def test_no_exit_household_failing_never_fails_the_wrong_exit_rate():
    readiness, surveys = county(failing=0, population=2000)
    result = run(readiness, surveys)
    wrong = result["metrics"]["wrong_exit_rate"]
    assert (wrong["point_estimate"], wrong["mean"], wrong["q95"], wrong["p_fail"]) == (0.0, 0.0, 0.0, 0.0)
    assert result["p_any_fail"] == 0.0


def test_only_wrong_exit_criteria_count():
    readiness, surveys = county()
    readiness.households["failing_criteria"] = [["H-SKILL"]] * len(readiness.households)  # not a 错退 criterion
    assert run(readiness, surveys)["metrics"]["wrong_exit_rate"]["p_fail"] == 0.0


def test_remaining_poor_failures_are_not_wrong_exits():
    readiness, surveys = county(cohort=20)
    hh = readiness.households
    hh["failing_criteria"] = [["H-INCOME"] if not c else [] for c in hh["in_exit_cohort"]]
    assert run(readiness, surveys)["metrics"]["wrong_exit_rate"]["point_estimate"] == 0.0


def test_more_failures_raise_the_chance_of_failing():
    def with_failing_villages(n: int):  # one failing exited household in each of the first n of 30 villages
        readiness, surveys = county(failing=1)
        hh = readiness.households
        keep = hh["village_code"].isin(readiness.villages["village_code"].iloc[:n])
        hh["failing_criteria"] = [c if k else [] for c, k in zip(hh["failing_criteria"], keep)]
        return run(readiness, surveys, seed=3)["metrics"]["wrong_exit_rate"]["p_fail"]

    chances = [with_failing_villages(n) for n in (0, 12, 18, 24)]  # pooled 0%, 1.3%, 2.0%, 2.7%
    assert chances[0] == 0.0 and chances == sorted(chances) and chances[1] < 0.5 < chances[-1]


def test_wrong_exit_rate_is_people_weighted():
    readiness, surveys = county(failing=1)
    hh = readiness.households
    first = hh.groupby("village_code").head(1).index
    hh.loc[first, "household_size"] = 9.0  # the failing household is large
    point = run(readiness, surveys)["metrics"]["wrong_exit_rate"]["point_estimate"]
    assert point == pytest.approx(9 / (9 + 29 * 3), abs=1e-4)


def test_recognition_all_approving_never_fails_and_none_approving_always_fails():
    readiness, surveys = county(approving=20)
    rec = run(readiness, surveys)["metrics"]["recognition"]
    assert (rec["point_estimate"], rec["mean"], rec["p_fail"]) == (1.0, 1.0, 0.0)
    readiness, surveys = county(approving=0)
    assert run(readiness, surveys)["metrics"]["recognition"]["p_fail"] == 1.0


def test_lower_approval_raises_the_chance_of_failing_recognition():
    chances = [run(*county(approving=a), seed=5)["metrics"]["recognition"]["p_fail"] for a in (20, 19, 18, 17)]
    assert chances[0] == 0.0 and chances == sorted(chances) and chances[-1] > chances[1]


def test_a_village_without_answers_counts_as_the_county_average():
    readiness, surveys = county(villages=4, approving=18)
    silent = readiness.villages["village_code"].iloc[0]
    result = run(readiness, surveys[surveys["village_code"] != silent])
    assert any("1 个村无满意度调查答复" in note and "90.0%" in note for note in result["notes"])
    assert result["metrics"]["recognition"]["mean"] == pytest.approx(0.9, abs=0.03)


def test_recognition_answer_rule():
    surveys = pd.DataFrame({
        "satisfaction": ["不满意", "满意", "满意", "基本满意", "不了解", None, "不满意"],
        "exit_recognised": ["认可", "不认可", "不适用", None, None, None, None],
    })
    # 认可户 / 调查总户数: 不了解 and blanks are surveyed households that do not approve
    assert approvals(surveys).tolist() == [True, False, True, True, False, False, False]


def test_missed_rate_is_not_measured_without_suspected_households():
    readiness, surveys = county()
    for missed in (None, missed_rows(readiness, 0)):
        result = run(readiness, surveys, missed)
        rate = result["metrics"]["missed_rate"]
        assert rate["measured"] is False and result["missed_rate_measured"] is False
        assert (rate["point_estimate"], rate["mean"], rate["p_fail"]) == (0.0, 0.0, 0.0)
        assert MISSED_NOT_MEASURED in result["notes"]


def test_missed_rate_from_suspected_households():
    readiness, surveys = county(households=40, population=1000)  # 120 registered of 1000: ~293 outside households
    many = run(readiness, surveys, missed_rows(readiness, 60))
    rate = many["metrics"]["missed_rate"]
    assert rate["measured"] is True and MISSED_NOT_MEASURED not in many["notes"]
    assert rate["point_estimate"] == pytest.approx(60 / 293, abs=1e-3)
    assert rate["p_fail"] == 1.0 and many["p_any_fail"] == 1.0
    assert run(readiness, surveys, missed_rows(readiness, 60, income=5000.0))["metrics"]["missed_rate"]["p_fail"] == 0.0
    assert (run(readiness, surveys, missed_rows(readiness, 1))["metrics"]["missed_rate"]["p_fail"]
            < run(readiness, surveys, missed_rows(readiness, 6))["metrics"]["missed_rate"]["p_fail"])


def test_should_be_registered_rule():
    missed = pd.DataFrame({"income_per_capita": [1000.0, 5000.0, 5000.0, np.nan, PROFILE.poverty_line],
                           "housing_safety": ["安全", "安全", "D级危房", "安全", None]})
    assert should_be_registered(missed, PROFILE.poverty_line).tolist() == [True, False, True, True, False]


def test_village_sample_risk_at_the_boundaries():
    villages = pd.DataFrame({"village_code": ["A", "B", "C", "D"], "satisfaction_answers": [40, 40, 0, 4],
                             "satisfaction_yes": [40, 0, 0, 4]})
    posterior = village_sample_risk(villages, PROFILE)
    binomial = village_sample_risk(villages, PROFILE, method="binomial")
    assert posterior.index.name == "village_code" and list(posterior.index) == ["A", "B", "C", "D"]
    assert posterior["A"] < 0.05 and binomial["A"] == 0.0
    assert posterior["B"] == pytest.approx(1.0, abs=1e-6) and binomial["B"] == pytest.approx(1.0)
    assert math.isnan(posterior["C"]) and math.isnan(binomial["C"])
    assert posterior["D"] > posterior["A"]  # four happy answers are weak evidence
    assert binomial["D"] == 0.0


def test_village_sample_risk_binomial_is_the_hand_computed_sum():
    # 37 questionnaires; satisfaction fails below 80%, i.e. 29 or fewer satisfied (29/37 = 78.4%, 30/37 = 81.1%)
    villages = pd.DataFrame({"village_code": ["A", "B"], "satisfaction_answers": [10, 30], "satisfaction_yes": [8, 25]})
    got = village_sample_risk(villages, PROFILE, method="binomial")
    assert load_design().questionnaire_per_village == 37
    for code, p in (("A", 0.8), ("B", 25 / 30)):
        exact = sum(math.comb(37, k) * p**k * (1 - p) ** (37 - k) for k in range(30))
        assert got[code] == pytest.approx(exact)


def test_on_the_small_demo_county(small_county, tmp_path):
    from evalprep.weeks import week_sunday
    from tasks.assess import assess_readiness
    from tasks.criteria_frames import criteria_frames
    from tasks.ingest.references import load_register
    from tasks.ingest.week import ingest_week
    from tasks.validate import validate_profile
    from tests.conftest import LAST_WEEK

    register = load_register(small_county / "reference", Path(__file__).resolve().parents[1] / "data" / "reference")
    ingest = ingest_week(small_county / "inbox" / LAST_WEEK, LAST_WEEK, tmp_path / "archive", register, 200 * 1024 * 1024)
    frames = criteria_frames(ingest.tables, week_sunday(LAST_WEEK), PROFILE)
    readiness = assess_readiness(frames, validate_profile(frames, PROFILE).failures, PROFILE)
    result = simulate_evaluation(readiness, frames["surveys"], PROFILE, ingest.tables["missed"], draws=500)
    json.dumps(result)
    cohort = readiness.households[readiness.households["in_exit_cohort"]]
    wrong = cohort["failing_criteria"].map(lambda c: bool(set(c) & set(PROFILE.metrics["wrong_exit_rate"]["criteria"])))
    expected = cohort.loc[wrong, "household_size"].sum() / cohort["household_size"].sum()
    assert result["metrics"]["wrong_exit_rate"]["point_estimate"] == pytest.approx(expected, abs=1e-4)
    assert result["missed_rate_measured"] is False  # the demo submits no 疑似漏评户
    for metric in result["metrics"].values():
        if metric["p_fail"] is not None:
            assert 0.0 <= metric["p_fail"] <= 1.0 and metric["q05"] <= metric["mean"] <= metric["q95"]
    risk = village_sample_risk(readiness.villages, PROFILE)
    assert set(risk.index) == set(readiness.villages["village_code"]) and risk.between(0, 1).all()


def test_the_result_cites_its_sources_and_says_when_a_stratum_runs_short():
    readiness, surveys = county(villages=40)
    readiness.villages["is_key_village"] = [v < 5 for v in range(40)]  # 5 poor villages where the design asks 19
    result = run(readiness, surveys)
    assert result["sample"]["villages"] == 29.0  # the other 14 come from the non-poor stratum
    assert any("贫困村仅 5 个，全部抽取" in n and "共抽 29 个村" in n for n in result["notes"])
    texts = "".join(result["sources"])
    assert "国开办发〔2017〕56号" in texts and "县均29个" in texts and "必须高于90%" in texts


def test_a_county_overrides_the_design_in_its_county_yaml(tmp_path):
    from flows.run_config import CountyFileError, load_county

    (tmp_path / "county.yaml").write_text("evaluation_design:\n  villages: {poor: 5, non_poor: 5}\n", encoding="utf-8")
    county = load_county(tmp_path, tmp_path)
    assert load_design(overrides=county["evaluation_design"]).villages_total == 10
    (tmp_path / "county.yaml").write_text("evaluation_design:\n  villages: {poor: -5}\n", encoding="utf-8")
    with pytest.raises(CountyFileError, match="county.yaml：evaluation_design"):
        load_county(tmp_path, tmp_path)


def test_thousands_of_distinct_absurd_household_sizes_stay_within_bounds():
    # one failing household of 5,000 people, and 1,200 households each with its own size above 30
    readiness, surveys = county(villages=30, failing=1)
    hh = readiness.households
    hh["household_size"] = [31.0 + i for i in range(len(hh))]
    result = run(readiness, surveys, draws=50)
    assert any("超过 30 人" in note and "1200 户" in note for note in result["notes"])
    sizes = hh.loc[hh["in_exit_cohort"], "household_size"]
    failing = hh.loc[hh["failing_criteria"].map(bool), "household_size"]
    assert result["metrics"]["wrong_exit_rate"]["point_estimate"] == round(failing.sum() / sizes.sum(), 4)
