"""End to end: the small demo county through the real weekly flow under prefect_test_harness."""
from __future__ import annotations

import json
import re
import subprocess

import pandas as pd
import pytest

from tasks.evaluation_design import load_design
from tests.conftest import LAST_WEEK

pytestmark = pytest.mark.slow


def test_village_grades_equal_the_generators_truth(small_run, small_manifest):
    truth = small_manifest["by_week"][LAST_WEEK]["villages"]
    got = pd.read_csv(small_run / "readiness" / "villages.csv", dtype={"village_code": str}, keep_default_na=False)
    got = got.set_index("village_code")
    assert sorted(got.index) == sorted(truth)
    for code, expected in truth.items():
        row = got.loc[code]
        assert row["grade"] == expected["grade"], code
        assert sorted(filter(None, row["failing_criteria"].split(";"))) == expected["failing_criteria"], code
    assert set(got["grade"]) == {"未达标", "合格", "优秀"}


def test_household_failures_equal_the_generators_truth(small_run, small_manifest):
    truth = small_manifest["by_week"][LAST_WEEK]["households_failing"]
    got = pd.read_csv(small_run / "readiness" / "households.csv", dtype={"household_id": str}, keep_default_na=False)
    failing = {h: sorted(c.split(";")) for h, c in zip(got["household_id"], got["failing_criteria"]) if c}
    assert failing == {h: sorted(c) for h, c in truth.items()}
    assert got["meets_all"].map(str).eq("True").sum() == len(got) - len(failing)


def test_injected_id_defects_are_reported_at_their_cells(small_run, small_manifest):
    defects = [d for d in small_manifest["by_week"][LAST_WEEK]["defects"] if d["kind"] == "id_check_digit"]
    issues = pd.read_csv(small_run / "issues.csv", dtype=str, keep_default_na=False)
    reported = set(zip(issues["file"], issues["sheet"], issues["row"].astype(int), issues["column"], issues["rule"]))
    expected = {(d["file"], d["sheet"], d["row"], d["column"], d["code"]) for d in defects}
    assert defects and expected <= reported
    assert not any(re.search(r"\d{17}[\dX]", m) for m in issues["message"])


def test_one_pdf_per_village_with_masked_ids(small_run, small_manifest):
    pdfs = sorted((small_run / "dossiers").rglob("*.pdf"))
    assert len(pdfs) == len(small_manifest["by_week"][LAST_WEEK]["villages"])
    assert (small_run / "summaries" / "county.pdf").exists()
    villages = pd.read_csv(small_run / "readiness" / "villages.csv", dtype=str).set_index("village_code")
    failing = villages[villages["households_failing"].astype(int) > 0].index[0]
    pdf = next(p for p in pdfs if p.name.startswith(failing))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert villages.loc[failing, "grade"] in text
    assert re.search(r"第\s*1\s*页\s*/\s*共\s*\d+\s*页", text)
    assert re.search(r"610928\*{8}[\dX]{4}", text)
    assert not re.search(r"(?<!\d)\d{17}[\dX](?!\d)", text)


def test_validation_results_carry_no_id_numbers(small_run):
    for path in (small_run / "validation").glob("*.json"):
        assert not re.search(r"(?<!\d)\d{17}[\dX](?!\d)", path.read_text(encoding="utf-8")), path.name


def test_villages_csv_carries_the_evaluators_view_and_the_summary_prints_it(small_run):
    villages = pd.read_csv(small_run / "readiness" / "villages.csv", dtype={"village_code": str})
    for column in ("recognition_rate", "recognition_sample_risk", "satisfaction_sample_risk", "p_drawn"):
        assert villages[column].dropna().between(0, 1).all(), column
    assert set(villages["stratum"]) <= {"poor", "non_poor"} and set(villages["accountability"]) <= {"是", "否"}
    assert (villages["evaluation_sample"] == load_design().questionnaire_per_village).all()
    simulation = json.loads((small_run / "readiness" / "simulation.json").read_text(encoding="utf-8"))
    text = subprocess.run(["pdftotext", str(small_run / "summaries" / "county.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert f"每次实际抽到 {int(simulation['sample']['villages'])} 个村" in text.replace("\n", "")
    assert "抽样村数与不通过的概率" in text and "本年度计划脱贫户单列" in text
