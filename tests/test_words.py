"""Words that match their numbers (issue 11, part 7): populations named, figures that read like their verdict,
owners the project did not name, criteria told apart."""
from __future__ import annotations

import pytest

from expectations.catalogue import load_profile, profile_names
from tasks.render.formatting import format_against


# ---- one printed label per criterion -------------------------------------------------------------------------

@pytest.mark.parametrize("name", profile_names())
def test_no_two_criteria_of_a_profile_share_a_printed_label(name):
    labels = [c.label for c in load_profile(name).criteria]
    assert len(labels) == len(set(labels)), sorted(label for label in labels if labels.count(label) > 1)


def test_household_and_village_water_are_told_apart():
    profile = load_profile("xunyang-2016")
    assert profile.criterion("H-WATER").label == "安全饮水（户）"
    assert profile.criterion("V-WATER").label == "安全饮水（村）"


# ---- a figure beside its threshold reads like its verdict -------------------------------------------------------

@pytest.mark.parametrize("value, threshold, op, passed, digits, printed", [
    # incidence: passes when < 3%
    (0.029994, 0.03, "<", True, 1, "2.999%"),      # not "3.0%" beside ✔
    (0.03, 0.03, "<", False, 1, "3.0%"),            # on the line: fails, and 3.0 is not < 3
    (0.030004, 0.03, "<", False, 1, "3.0%"),        # 3.0 reads as failing already
    (0.02996, 0.03, "<", True, 1, "2.996%"),        # 3.0 and 3.00 would read as failing
    (0.021, 0.03, "<", True, 1, "2.1%"),            # far from the line: the usual digit
    # water coverage: passes when ≥ 100%
    (0.996, 1.0, ">=", False, 0, "99.6%"),          # not "100%" beside ✘
    (0.9996, 1.0, ">=", False, 0, "99.96%"),
    (1.0, 1.0, ">=", True, 0, "100%"),
    # satisfaction: passes when ≥ 80%
    (0.79996, 0.8, ">=", False, 1, "79.996%"),      # not "80.0%" beside ✘
    (0.8, 0.8, ">=", True, 1, "80.0%"),
    (0.7999999999, 0.8, ">=", False, 1, "79.999999%"),  # past the digit limit: rounded toward failing
])
def test_printed_figure_reads_on_the_side_of_its_verdict(value, threshold, op, passed, digits, printed):
    assert format_against(value, threshold, op, passed, digits=digits) == printed


def test_a_verdict_resting_on_something_else_does_not_bend_the_figure():
    # V-WATER passes on an approved project although coverage is 99.96%: the figure still reads below 100%.
    assert format_against(0.9996, 1.0, ">=", True, digits=0) == "99.96%"
    assert format_against(float("nan"), 0.03, "<", False) == "—"


# ---- every count of households names its population -------------------------------------------------------------

def _rendered_texts() -> dict[str, str]:
    import re

    from tasks.departments import department_problem_list
    from tasks.assess import Readiness
    from tasks.render.html import render_html
    from demo.preview import RUN, sample_county, village_frames
    from tasks.render.rollup_views import department_list_context, township_summary_context
    from tasks.render.view_models import county_summary_context, village_dossier_context

    profile = load_profile("xunyang-2016")
    county = sample_county(profile, villages=6)
    code = county["villages"]["village_code"].iloc[0]
    village = village_dossier_context(profile, run=RUN, **village_frames(county, code))
    summary = county_summary_context(profile, county["villages"], county["households"], county["village_criteria"], RUN)
    town = county["villages"][county["villages"]["township_code"] == county["villages"]["township_code"].iloc[0]]
    township = township_summary_context(profile, town, county["households"], county["village_criteria"], RUN)
    readiness = Readiness(villages=county["villages"], village_criteria=county["village_criteria"],
                          households=county["households"])
    items = department_problem_list(readiness, county["projects"], profile)
    department = items["department"].iloc[0]
    listing = department_list_context(profile, department, items[items["department"] == department], RUN)
    html = {
        "dossier": render_html("village_dossier.html.j2", village),
        "county": render_html("county_summary.html.j2", summary),
        "township": render_html("township_summary.html.j2", township),
        "department": render_html("department_list.html.j2", listing),
    }
    return {name: re.sub(r"<[^>]+>", "", text) for name, text in html.items()}


def test_every_household_count_names_its_population():
    populations = ("脱贫户", "建档立卡户", "项目")
    texts = _rendered_texts()
    seen = 0
    for name, text in texts.items():
        for phrase in ("全部达标", "不达标户"):
            start = text.find(phrase)
            while start >= 0:
                seen += 1
                around = text[max(0, start - 8): start + len(phrase) + 8]
                assert any(p in around for p in populations), f"{name}: …{around}… names no population"
                start = text.find(phrase, start + 1)
    assert seen >= 4  # the words are there to be checked


def test_scorecard_prints_an_unnamed_owner_as_not_named_never_the_catalogue_default():
    import tinyhtml5

    from tasks.render.html import render_html
    from demo.preview import RUN, sample_county, village_frames
    from tasks.render.view_models import village_dossier_context

    profile = load_profile("xunyang-2016")
    county = sample_county(profile, villages=6)
    frames = village_frames(county, county["villages"]["village_code"].iloc[0])
    criteria = frames["criteria"].copy()
    housing = criteria["code"] == "H-HOUSING"
    criteria.loc[housing, "status"] = "fail"
    criteria.loc[housing, ["department_named", "lead", "responsible_person"]] = None
    criteria.loc[housing, "department"] = profile.criterion("H-HOUSING").department  # routed, not named
    frames["criteria"] = criteria
    root = tinyhtml5.parse(render_html("village_dossier.html.j2", village_dossier_context(profile, run=RUN, **frames)),
                           namespace_html_elements=False)
    rows = {"".join(tr.find(".//span[@class='code']").itertext()): tr
            for tr in root.iter("tr") if tr.find("./td[@class='criterion']") is not None}
    cells = {td.get("class"): "".join(td.itertext()) for td in rows["H-HOUSING"].iter("td")}
    routed = "、".join(profile.criterion("H-HOUSING").departments)
    assert cells["dept"] == f"未明确归口 {routed}"
    assert cells["person"] == "未明确未明确"
