"""The generation date (生成于): the calendar day of the run, taken once in the run metadata, SOURCE_DATE_EPOCH
honoured; printed beside the data cut-off (数据截至), never instead of it; not part of a document's store key."""
from __future__ import annotations

import datetime as dt
import subprocess
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from evalprep.errors import InputError
from flows.run_config import generation_date, resolve_run, run_metadata
from tasks.document_store import document_key
from tasks.render.pdf import render_county_summary, render_village_dossier
from demo.preview import sample_county, village_frames
from tests.conftest import LAST_WEEK

SHANGHAI = "Asia/Shanghai"
# 2016-11-07 20:30 UTC = 2016-11-08 04:30 in Shanghai: the county's calendar day, not UTC's
EPOCH_NOV_8 = "1478550600"


def test_source_date_epoch_pins_the_day_in_the_countys_time_zone():
    assert generation_date(SHANGHAI, {"SOURCE_DATE_EPOCH": EPOCH_NOV_8}) == dt.date(2016, 11, 8)
    assert generation_date("UTC", {"SOURCE_DATE_EPOCH": EPOCH_NOV_8}) == dt.date(2016, 11, 7)


def test_without_source_date_epoch_it_is_today_in_the_county():
    before = dt.datetime.now(ZoneInfo(SHANGHAI)).date()
    day = generation_date(SHANGHAI, {})
    assert day in {before, dt.datetime.now(ZoneInfo(SHANGHAI)).date()}


def test_a_malformed_source_date_epoch_says_so_in_one_line():
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH"):
        generation_date(SHANGHAI, {"SOURCE_DATE_EPOCH": "yesterday"})


@pytest.fixture(scope="module")
def pinned_run(small_county):
    """The run metadata of the small county's last week, SOURCE_DATE_EPOCH on 2016-11-08 (as_of: 2016-10-02)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH_NOV_8)
        config = resolve_run(str(small_county / "inbox"), LAST_WEEK, reference=str(small_county / "reference"))
        run = run_metadata(config, pd.DataFrame({"used": pd.Series(dtype=bool), "sha256": pd.Series(dtype=str)}))
    return config, run


def test_run_metadata_takes_the_generation_date_apart_from_the_cut_off(pinned_run):
    config, run = pinned_run
    assert run["as_of"] == config.as_of == dt.date(2016, 10, 2)
    assert run["generated_on"] == dt.date(2016, 11, 8)


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_dossier_cover_and_county_summary_print_both_dates_labelled(pinned_run, tmp_path):
    config, run = pinned_run
    county = sample_county(config.profile, villages=4)
    code = county["villages"]["village_code"].iloc[0]
    cover = pdftotext(render_village_dossier(config.profile, run=run, **village_frames(county, code)), tmp_path)
    assert "数据截至 2016年10月2日 · 生成于 2016年11月8日" in cover
    assert "生成于 2016年10月2日" not in cover
    summary = pdftotext(render_county_summary(config.profile, county["villages"], county["households"],
                                              county["village_criteria"], run), tmp_path)
    assert "数据截至 2016年10月2日 · 生成于 2016年11月8日" in summary


def test_the_generation_date_is_not_part_of_a_documents_store_key(pinned_run):
    """A document reused from the store keeps the date it was made: another day alone renders nothing anew."""
    _, run = pinned_run
    key = document_key("dossier", "dossiers/a/b.pdf", {}, "xunyang-2016", run, "inputs")
    assert document_key("dossier", "dossiers/a/b.pdf", {}, "xunyang-2016",
                        {**run, "generated_on": dt.date(2016, 12, 1)}, "inputs") == key
    assert document_key("dossier", "dossiers/a/b.pdf", {}, "xunyang-2016",
                        {**run, "as_of": dt.date(2016, 9, 18)}, "inputs") != key
