"""The weekly flow under shaanxi-2017 on the small demo county: V-INCOME-GROWTH from reference/county.yaml when it
gives the county's figures, 无法判定 (said in the log, the county summary and every dossier) when it does not."""
from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import LAST_WEEK

pytestmark = pytest.mark.slow
CODE = "V-INCOME-GROWTH"


def run(small_county: Path, tmp_path: Path, monkeypatch, county: dict) -> Path:
    from flows.run_config import resolve_run
    from flows.stages import run_week

    reference = tmp_path / "reference"
    shutil.copytree(small_county / "reference", reference)
    (reference / "county.yaml").write_text(yaml.safe_dump(county, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("EVALPREP_DATA_DIR", str(tmp_path / "data"))
    return run_week(resolve_run(inbox=str(small_county / "inbox"), week=LAST_WEEK, out=str(tmp_path / "out"),
                                profile="shaanxi-2017", reference=str(reference)))


def villages(published: Path) -> pd.DataFrame:
    return pd.read_csv(published / "readiness" / "villages.csv", dtype=str, keep_default_na=False)


def text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_shaanxi_run_with_and_without_the_county_figures(small_county, tmp_path, monkeypatch):
    facts = yaml.safe_load((small_county / "reference" / "county.yaml").read_text(encoding="utf-8"))
    assert facts["rural_income"][2017] and facts["previous_income_ratio"][2017]  # the demo writes them

    given = villages(run(small_county, tmp_path / "given", monkeypatch, facts))
    assert (given["unknown_criteria"] == "").all()

    without = {k: v for k, v in facts.items() if k not in ("rural_income", "previous_income_ratio")}
    log, logger = Lines(), logging.getLogger("evalprep")  # the run log outside a Prefect run (evalprep/runlog.py)
    logger.addHandler(log)
    try:
        published = run(small_county, tmp_path / "without", monkeypatch, without)
    finally:
        logger.removeHandler(log)
    table = villages(published)
    assert (table["unknown_criteria"] == CODE).all()
    assert table["failing_criteria"].str.contains(CODE).all()
    assert not set(table["grade"]) & {"合格", "优秀"}
    logged = [line for line in log.lines if CODE in line]
    assert len(logged) == 1 and f"{len(table)} 个村无法判定" in logged[0]
    county = text(published / "summaries" / "county.pdf")
    assert county.count("无法判定：") == 1 and f"{len(table)} 个村" in county
    for pdf in sorted((published / "dossiers").rglob("*.pdf")):
        assert "无法判定" in text(pdf), pdf.name
