"""The rehearsal (模拟评估) for real: the Prefect flow on the small demo county, its PDF read back with pdftotext,
its visits.csv; the CLI's error for a bad week."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import LAST_WEEK, files

pytestmark = pytest.mark.slow

# a small design, so that the test renders a dozen sheets, not the national design's ~540 of the small county
DESIGN = {"villages": {"poor": 2, "non_poor": 1}, "households": {"exited": 3, "remaining_poor": 1, "ordinary": 2},
          "questionnaire_ordinary": 1}
UNMASKED_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


@pytest.fixture(scope="module")
def packs(small_county, prefect_harness, tmp_path_factory, monkeypatch_session):
    from flows.rehearsal import rehearsal_run

    monkeypatch_session.setenv("EVALPREP_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    runs = {}
    for name, seed in (("first", 11), ("again", 11), ("other", 12)):
        out = tmp_path_factory.mktemp(name)
        runs[name] = Path(rehearsal_run(inbox=str(small_county / "inbox"), week=LAST_WEEK, seed=seed, out=str(out),
                                        reference=str(small_county / "reference"), design=DESIGN))
    return runs


def test_the_pack_goes_to_its_folder_and_the_same_seed_gives_the_same_bytes(packs):
    first = packs["first"]
    assert first.parts[-2:] == ("rehearsal", f"{LAST_WEEK}-seed11")
    assert sorted(files(first)) == ["rehearsal.pdf", "visits.csv"]
    assert files(packs["again"]) == files(first)
    drawn = pd.read_csv(first / "visits.csv", dtype=str, keep_default_na=False)
    other = pd.read_csv(packs["other"] / "visits.csv", dtype=str, keep_default_na=False)
    assert list(drawn["household_id"]) != list(other["household_id"])


def test_villages_and_households_drawn_follow_the_design(packs, small_manifest):
    visits = pd.read_csv(packs["first"] / "visits.csv", dtype=str, keep_default_na=False)
    strata = visits.drop_duplicates("village_code")["stratum"].value_counts()
    assert (strata.get("贫困村", 0), strata.get("非贫困村", 0)) == (2, 1)
    for _, village in visits.groupby("village_code"):
        kinds = village["kind"].value_counts()
        assert kinds.get("exited", 0) <= 3 and kinds.get("remaining_poor", 0) <= 1 and kinds.get("ordinary", 0) == 2
    registered = visits[visits["kind"] != "ordinary"]
    assert registered["household_id"].str.fullmatch(r"\d{16}").all() and registered["household_id"].is_unique
    assert registered["head_id"].str.fullmatch(r"610928\*{8}[\dX]{4}").all()
    assert not UNMASKED_ID.search((packs["first"] / "visits.csv").read_text(encoding="utf-8-sig"))


def test_the_pdf_has_a_cover_and_one_page_per_visit_sheet_with_ids_masked(packs):
    visits = pd.read_csv(packs["first"] / "visits.csv", dtype=str, keep_default_na=False)
    drawn = list(visits.loc[visits["kind"] != "ordinary", "household_id"])
    pages = _pages(packs["first"] / "rehearsal.pdf")
    assert len(pages) == 1 + len(drawn)  # the cover, then exactly one page per household drawn
    for village in visits["village_name"].unique():
        assert village in pages[0]
    for number, (page, household) in enumerate(zip(pages[1:], drawn), start=2):
        assert re.findall(r"(?<!\d)\d{16}(?!\d)", page) == [household]  # this household's sheet, and only it
        assert "入户核查表" in page and "☐满意" in page and "☐认可" in page
        assert re.search(rf"第\s*{number}\s*页\s*/\s*共\s*{len(pages)}\s*页", page)
    text = "".join(pages)
    assert not UNMASKED_ID.search(text)
    assert re.search(r"610928\*{8}[\dX]{4}", text)


def test_a_bad_week_is_a_one_line_error_with_exit_code_2():
    done = subprocess.run([sys.executable, "-m", "flows.cli", "rehearse", "--week", "2016-39"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "YYYY-Www" in lines[0] and "2016-39" in lines[0]
