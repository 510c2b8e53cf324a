"""No silent unknowables (issue 11, part 8): V-INCOME-GROWTH from reference/county.yaml, and 无法判定 where the
county's figures are missing — in the status, the dossier, the county summary and the log."""
from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from flows.cli import main
from flows.run_config import CountyFileError, load_county
from expectations.catalogue import load_profile
from expectations.suites import criteria_suites
from tasks.assess import UNKNOWN, assess_readiness
from tasks.criteria_frames import canonical_frame, criteria_frames
from tasks.render.html import render_html
from tasks.render.pdf import render_village_dossier
from tasks.render.view_models import county_summary_context, village_dossier_context
from tasks.validate import validate_frames
from tests.test_render_pdf import pdf_text
from tests.test_validate import ALL_YES, TOWNSHIP, household, member, surveys, village

PROFILE = load_profile("shaanxi-2017")
AS_OF = dt.date(2017, 12, 31)
V1, V2, V3 = (TOWNSHIP + str(n) for n in (201, 202, 203))
RUN = {"county": "旬阳县", "week": "2017-W52", "as_of": AS_OF, "run_id": "run-unknown", "generated_on": AS_OF,
       "targets": {"key_villages": 0, "exit_households": 0}}

# Every village: one exit-cohort household of one person with 5,000 元 per capita.
# County rural income 10,000 元 → ratio 5,000 / 10,000 = 0.50 in every village.
# Last year's ratio: V1 0.45 (0.50 > 0.45: passes), V2 0.55 (0.50 < 0.55: fails), V3 not given (无法判定).
COUNTY_YAML = """\
county_name: 旬阳县
rural_income:
  2017: 10000
previous_income_ratio:
  2017:
    "610928100201": 0.45
    "610928100202": 0.55
"""


def tables() -> dict[str, pd.DataFrame]:
    codes = (V1, V2, V3)
    return {
        "households": canonical_frame("households", [household(v + "0001", v, exit_status="已脱贫") for v in codes]),
        "members": canonical_frame("members", [member(v + "0001", 1) for v in codes]),
        "villages": canonical_frame("villages", [village(v, village_name=f"村{v[-1]}") for v in codes]),
        "projects": canonical_frame("projects"),
        "surveys": canonical_frame("surveys", [s for v in codes for s in surveys(v, ALL_YES)]),
    }


def readiness(county: dict):
    frames = criteria_frames(tables(), AS_OF, PROFILE,
                             county_rural_income=county.get("rural_income", {}).get(PROFILE.year),
                             previous_income_ratio=county.get("previous_income_ratio", {}).get(PROFILE.year))
    failures = validate_frames(frames, criteria_suites(PROFILE)).failures
    result = assess_readiness(frames, failures, PROFILE)
    result.villages["township_name"] = "城关镇"
    return result


def status(result, village_code: str, code: str = "V-INCOME-GROWTH") -> str:
    rows = result.village_criteria
    return rows.loc[(rows["village_code"] == village_code) & (rows["code"] == code), "status"].item()


def dossier_context(result, village_code: str) -> dict:
    village = result.villages.set_index("village_code", drop=False).loc[village_code].to_dict()
    own = lambda frame: frame[frame["village_code"] == village_code]  # noqa: E731
    return village_dossier_context(PROFILE, village, own(result.village_criteria), own(result.households), RUN)


@pytest.fixture
def reference(tmp_path) -> Path:
    (tmp_path / "county.yaml").write_text(COUNTY_YAML, encoding="utf-8")
    return tmp_path


# ---- with county.yaml ------------------------------------------------------------------------------------------

def test_county_yaml_carries_the_income_inputs_by_profile_year(reference, tmp_path):
    county = load_county(reference, tmp_path / "none")
    assert county["rural_income"] == {2017: 10000.0}
    assert county["previous_income_ratio"] == {2017: {V1: 0.45, V2: 0.55}}
    assert load_county(tmp_path / "none", tmp_path / "none") == {}


def test_income_growth_computed_from_county_yaml(reference):
    result = readiness(load_county(reference, reference))
    assert status(result, V1) == "pass"      # 0.50 > 0.45
    assert status(result, V2) == "fail"      # 0.50 < 0.55
    assert status(result, V3) == UNKNOWN     # no ratio for last year
    rows = result.village_criteria.set_index(["village_code", "code"])
    assert rows.loc[(V1, "V-INCOME-GROWTH"), "value"] == 0.5
    assert "上年脱贫户收入比例" in rows.loc[(V3, "V-INCOME-GROWTH"), "unknown_reason"]
    grades = result.villages.set_index("village_code")["grade"]
    assert grades[V1] in ("合格", "优秀") and grades[V2] == grades[V3] == "未达标"
    assert result.villages.set_index("village_code")["unknown_criteria"][V3] == ["V-INCOME-GROWTH"]
    scorecard = {r["code"]: r for r in dossier_context(result, V1)["scorecard"]["rows"]}
    assert scorecard["V-INCOME-GROWTH"]["measured"] == "50.0%"
    assert scorecard["V-INCOME-GROWTH"]["threshold"] == "> 上年 45.0%"


def test_a_county_wide_ratio_applies_to_every_village(reference, tmp_path):
    (tmp_path / "wide").mkdir()
    (tmp_path / "wide" / "county.yaml").write_text("rural_income: {2017: 10000}\nprevious_income_ratio: {2017: 0.5}\n",
                                                   encoding="utf-8")
    result = readiness(load_county(tmp_path / "wide", tmp_path))
    # 0.50 is not higher than 0.50: fails in every village, none unknown
    assert {status(result, v) for v in (V1, V2, V3)} == {"fail"}


# ---- without county.yaml ---------------------------------------------------------------------------------------

def test_without_county_yaml_income_growth_is_unknown_and_said_so_everywhere(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        result = readiness(load_county(tmp_path, tmp_path))
    assert {status(result, v) for v in (V1, V2, V3)} == {UNKNOWN}
    assert not set(result.villages["grade"]) & {"合格", "优秀"}
    # the run log: one line
    lines = [r.getMessage() for r in caplog.records if "V-INCOME-GROWTH" in r.getMessage()]
    assert len(lines) == 1 and "3 个村无法判定" in lines[0] and "全县农村居民人均可支配收入" in lines[0]
    # the dossier: the status word, and one line saying why
    context = dossier_context(result, V1)
    row = next(r for r in context["scorecard"]["rows"] if r["code"] == "V-INCOME-GROWTH")
    assert row["status_text"] == "？ 无法判定" and "✘" not in row["status_text"]
    html = render_html("village_dossier.html.j2", context)
    notes = re.findall(r'<p class="unknown-note">(.*?)</p>', html)
    assert len(notes) == 1 and "无法判定" in notes[0] and "全县农村居民人均可支配收入" in notes[0]
    text = re.sub(r"\s", "", pdf_text(render_village_dossier(PROFILE, result.villages.iloc[0].to_dict(),
                                                              result.village_criteria[result.village_criteria["village_code"] == V1],
                                                              result.households[result.households["village_code"] == V1], RUN)))
    assert "无法判定" in text and "全县农村居民人均可支配收入" in text
    # the county summary: one line
    summary = county_summary_context(PROFILE, result.villages, result.households, result.village_criteria, RUN)
    assert len(summary["unknown_notes"]) == 1 and summary["unknown_notes"][0].startswith("3 个村")
    html = render_html("county_summary.html.j2", summary)
    assert len(re.findall(r'<p class="unknown-note">', html)) == 1


# ---- a malformed county.yaml -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, key", [
    ("rural_income: {2017: 一万}\n", "rural_income.2017"),
    ("rural_income: 10000\n", "rural_income"),
    ("previous_income_ratio: {2017: {\"610928100201\": -1}}\n", "previous_income_ratio.2017.610928100201"),
    ("previous_income_ratio: {2017: {610928100201: 0.4}}\n", "previous_income_ratio.2017"),
    ("rural_income: [2017: 1\n", "第 "),
])
def test_malformed_county_yaml_is_one_line_naming_file_and_key(tmp_path, text, key):
    (tmp_path / "county.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CountyFileError) as caught:
        load_county(tmp_path, tmp_path)
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path / "county.yaml") in message and key in message


def test_cli_exits_2_with_one_line_on_a_malformed_county_yaml(tmp_path, capsys):
    (tmp_path / "county.yaml").write_text("rural_income: {2017: 一万}\n", encoding="utf-8")
    code = main(["run", "--inbox", str(tmp_path / "inbox"), "--week", "2017-W52", "--profile", "shaanxi-2017",
                 "--reference", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "county.yaml" in err and "rural_income.2017" in err and "Traceback" not in err
