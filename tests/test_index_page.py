"""index.html of a run: the scoreboard, links that resolve to the run's files, escaped, no personal data."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest
import tinyhtml5

from expectations.catalogue import load_profile
from tasks.assess import Readiness
from tasks.departments import department_names, department_problem_list
from tasks.index_page import index_page_context, render_index_page, run_files, write_index_page
from tasks.render.paths import (
    COUNTY_SUMMARY, attachment_path, department_list_path, dossier_path, township_summary_path,
)
from demo.preview import RUN, sample_county
from tasks.rollups import readiness_rollups

PROFILE = load_profile("xunyang-2016")
INJECTED = '<img src="file:///etc/hostname">'


def run_folder(tmp_path: Path, county: dict, failed: str | None = None) -> tuple[Path, Readiness, dict, object]:
    """A run folder holding every document of the county (empty files), except the dossier of `failed`."""
    readiness = Readiness(county["villages"], county["village_criteria"], county["households"])
    rollups = readiness_rollups(readiness, PROFILE.year, RUN["targets"])
    problems = department_problem_list(readiness, county["projects"], PROFILE)
    paths = [COUNTY_SUMMARY, "issues.csv", "submissions.csv", "rendering.csv", "readiness/villages.csv",
             "readiness/simulation.json", "validation/quality.households.json", *rollups]
    for village in county["villages"].to_dict("records"):
        if village["village_code"] != failed:
            paths += [dossier_path(village), attachment_path(dossier_path(village))]
    for code, name in county["villages"][["township_code", "township_name"]].drop_duplicates().itertuples(index=False):
        paths.append(township_summary_path(code, name))
    for department in department_names(PROFILE, problems):
        paths += [department_list_path(department), attachment_path(department_list_path(department))]
    for path in paths:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(b"x")
    (tmp_path / ".dossier.pdf.part").write_bytes(b"half")
    return tmp_path, readiness, rollups, problems


@pytest.fixture
def county():
    return sample_county(PROFILE, villages=8)


def hrefs(html: str) -> list[str]:
    root = tinyhtml5.parse(html, namespace_html_elements=False)
    return [a.get("href") for a in root.iter("a")]


def test_every_link_resolves_to_a_file_of_the_run_and_every_document_is_linked(tmp_path, county):
    failed = county["villages"]["village_code"].iloc[1]
    stage, readiness, rollups, problems = run_folder(tmp_path, county, failed)
    village = county["villages"].iloc[1].to_dict()
    rendering = pd.DataFrame([{"path": dossier_path(village), "village_code": failed, "ok": False,
                               "error": "KeyError: x", "attachment": ""}])
    html = write_index_page(stage, readiness, rollups, problems, rendering, RUN, PROFILE.name).read_text(encoding="utf-8")
    files = [h for h in hrefs(html) if not h.startswith("#")]
    for href in files:
        assert not href.startswith(("/", "file:", "http")), href
        assert (stage / unquote(href)).is_file(), href
    linked = {unquote(h) for h in files}
    documents = {p for p in run_files(stage) if p.endswith((".pdf", ".xlsx", ".csv"))}
    assert documents <= linked
    assert "readiness/simulation.json" in linked
    assert "validation/quality.households.json" not in linked          # GX results are for machines
    assert not any(".part" in h for h in linked)
    assert html.count("✘ 生成失败") == 2                              # the failed village's PDF and spreadsheet


def test_villages_left_out_of_an_inspection_run_are_not_shown_as_failures(tmp_path, county):
    stage, readiness, rollups, problems = run_folder(tmp_path, county, county["villages"]["village_code"].iloc[0])
    no_failures = pd.DataFrame(columns=["path", "village_code", "ok", "error", "attachment"])
    html = write_index_page(stage, readiness, rollups, problems, no_failures, RUN, PROFILE.name).read_text(encoding="utf-8")
    assert "✘ 生成失败" not in html and '<span class="muted">—</span>' in html


def test_scoreboard_counts_grades_key_villages_and_exit_households(county):
    readiness = Readiness(county["villages"], county["village_criteria"], county["households"])
    rollups = readiness_rollups(readiness, PROFILE.year, RUN["targets"])
    context = index_page_context(PROFILE, RUN, county["villages"], rollups["readiness/townships.csv"],
                                 rollups["readiness/county.csv"], department_problem_list(readiness, county["projects"], PROFILE), [])
    assert sum(g["count"] for g in context["grades"]) == len(county["villages"])
    assert context["key"]["target"] == RUN["targets"]["key_villages"]
    assert context["exits"]["target"] == RUN["targets"]["exit_households"]
    assert [t["name"] for t in context["townships"]] == sorted(set(county["villages"]["township_name"]),
                                                                key=lambda n: context_order(county, n))
    assert all(t["summary"] == {"href": "", "state": "absent"} for t in context["townships"])   # no files
    assert len(context["departments"]) >= len(PROFILE.departments)


def context_order(county, name):
    return county["villages"].loc[county["villages"]["township_name"] == name, "township_code"].iloc[0]


def test_index_escapes_data_and_shows_no_personal_data(tmp_path, county):
    county["villages"] = county["villages"].assign(village_name=INJECTED)
    stage, readiness, rollups, problems = run_folder(tmp_path, county)
    html = write_index_page(stage, readiness, rollups, problems, None, RUN, PROFILE.name).read_text(encoding="utf-8")
    root = tinyhtml5.parse(html, namespace_html_elements=False)
    assert not list(root.iter("img"))
    assert INJECTED in "".join(root.itertext())
    assert not re.search(r"(?<![0-9A-Za-z])[0-9]{17}[0-9X](?![0-9A-Za-z])", html)
    assert not re.search(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])", html)
    for name in county["households"]["head_name"]:
        assert name not in html


def test_same_run_gives_the_same_index(tmp_path, county):
    stage, readiness, rollups, problems = run_folder(tmp_path, county)
    first = write_index_page(stage, readiness, rollups, problems, None, RUN, PROFILE.name).read_bytes()
    assert write_index_page(stage, readiness, rollups, problems, None, RUN, PROFILE.name).read_bytes() == first
    assert render_index_page(index_page_context(PROFILE, RUN, county["villages"], rollups["readiness/townships.csv"],
                                                rollups["readiness/county.csv"], problems,
                                                run_files(stage))).encode("utf-8") == first


def test_no_context_key_shadows_a_dict_method(tmp_path, county):
    from tests.test_render_view_models import DICT_ATTRIBUTES, _keys

    stage, readiness, rollups, problems = run_folder(tmp_path, county)
    context = index_page_context(PROFILE, RUN, county["villages"], rollups["readiness/townships.csv"],
                                 rollups["readiness/county.csv"], problems, run_files(stage))
    assert not DICT_ATTRIBUTES & set(_keys(context))


CHENGGUAN, SHUHE, SHUANGHE = "610928100", "610928103", "610928104"


@pytest.fixture
def week_with_gaps(tmp_path):
    """A real ingest of a three-township week: 城关镇 sends nothing, 双河镇's only file is rejected (encrypted),
    蜀河镇 sends after the Monday 12:00 deadline."""
    import datetime as dt

    from tests.ingest.test_week import WEEK, drop, ingest

    inbox = tmp_path / "inbox" / WEEK
    inbox.mkdir(parents=True)
    drop(inbox, "encrypted.xlsx", "610928104_双河镇_2016-W39.xlsx", dt.datetime(2016, 10, 3, 9))
    drop(inbox, "610928103_蜀河镇_2016-W39.xlsx", "610928103_蜀河镇_2016-W39.xlsx", dt.datetime(2016, 10, 3, 14, 5))
    return ingest(inbox, tmp_path, townships=(CHENGGUAN, SHUHE, SHUANGHE)).submissions


def test_townships_missing_rejected_or_late_come_first_with_their_status_and_summary(tmp_path, county, week_with_gaps):
    submissions = week_with_gaps
    county["villages"] = county["villages"].assign(township_code=SHUHE, township_name="蜀河镇")
    stage, readiness, rollups, problems = run_folder(tmp_path / "run", county)
    html = write_index_page(stage, readiness, rollups, problems, None, RUN, PROFILE.name,
                            submissions).read_text(encoding="utf-8")
    root = tinyhtml5.parse(html, namespace_html_elements=False)
    body = root.find("body")
    first = next(el for el in body if el.tag == "section")
    assert first.get("id") == "submissions"                             # before the scoreboard
    rows = [["".join(td.itertext()).strip() for td in tr.iter("td")] for tr in first.iter("tr")][1:]
    assert [r[0] for r in rows] == ["城关镇", "双河镇", "蜀河镇"]          # missing, rejected, late
    assert [r[1] for r in rows] == ["✘ 本周未报送", "✘ 被退回", "✘ 逾期报送"]
    assert rows[0][2] == "本周未收到报表"
    assert "密码" in rows[1][2] and "本周没有可用的报表" in rows[1][2] and len(rows[1][2]) < 80
    assert rows[2][2] == "10月3日 14:05 收到（截止 10月3日 12:00）"
    links = [a.get("href") for a in first.iter("a") if not a.get("href").startswith("#")]
    assert [unquote(h) for h in links] == [township_summary_path(SHUHE, "蜀河镇")]   # only the late one has a summary
    assert (stage / unquote(links[0])).is_file()
    assert [r[3] for r in rows[:2]] == ["—", "—"]


def test_a_week_everyone_sent_on_time_says_so(tmp_path, county, week_with_gaps):
    on_time = week_with_gaps[week_with_gaps["township_code"] == SHUHE].assign(on_time=True)
    readiness = Readiness(county["villages"], county["village_criteria"], county["households"])
    rollups = readiness_rollups(readiness, PROFILE.year, RUN["targets"])
    context = index_page_context(PROFILE, RUN, county["villages"], rollups["readiness/townships.csv"],
                                 rollups["readiness/county.csv"], department_problem_list(readiness, county["projects"], PROFILE),
                                 [], None, on_time)
    assert context["chase"] == {"alerts": [], "expected": 1}
    assert "1 个乡镇均已按时报送" in render_index_page(context)
