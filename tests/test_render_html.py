"""HTML of the dossier and the summary, parsed with the HTML5 parser WeasyPrint itself uses."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import tinyhtml5
from jinja2 import UndefinedError

from evalprep.settings import TEMPLATES_DIR
from expectations.catalogue import load_profile, raw_catalogue
from tasks import attachments, departments, index_page, rehearsal
from tasks.render import charts, evaluators_view, formatting, rollup_views, view_models, village_sections
from tasks.render.html import environment, render_html
from demo.preview import RUN, sample_county, village_frames
from tasks.render.view_models import county_summary_context, village_dossier_context

PROFILE = load_profile("xunyang-2016")
COUNTY = sample_county(PROFILE, villages=6)
CODE = COUNTY["villages"]["village_code"].iloc[0]


def village_html(**village_overrides) -> str:
    frames = village_frames(COUNTY, CODE)
    frames["village"] = {**frames["village"], **village_overrides}
    return render_html("village_dossier.html.j2", village_dossier_context(PROFILE, run=RUN, **frames))


def county_html() -> str:
    ctx = county_summary_context(PROFILE, COUNTY["villages"], COUNTY["households"], COUNTY["village_criteria"], RUN)
    return render_html("county_summary.html.j2", ctx)


def parse(html: str):
    return tinyhtml5.parse(html, namespace_html_elements=False)


def text_of(element) -> str:
    return "".join(element.itertext())


def section(root, section_id: str):
    found = root.find(f".//section[@id='{section_id}']")
    assert found is not None, f"section #{section_id} missing"
    return found


def test_dossier_has_every_section_and_the_page_furniture():
    root = parse(village_html())
    assert root.get("lang") == "zh-CN"
    assert not list(root.iter("link"))  # the renderer prints it with print.css, parsed once (tasks/render/pdf.py)
    for section_id in ("cover", "scorecard", "third-party", "household-gaps", "housing", "projects", "data-quality",
                       "trend"):
        section(root, section_id)
    body = root.find("body")
    assert body.get("data-header").startswith(f"{RUN['county']} · ")
    assert body.get("data-header").endswith(RUN["week"])
    assert PROFILE.label in body.get("data-footer") and RUN["run_id"] in body.get("data-footer")


def test_scorecard_shows_every_profile_criterion_and_the_legend():
    scorecard = section(parse(village_html()), "scorecard")
    rows = scorecard.findall(".//tbody/tr")
    assert len(rows) == len(PROFILE.criteria)
    for row, criterion in zip(rows, PROFILE.criteria):
        cells = text_of(row)
        assert criterion.label in cells and criterion.code in cells
        assert ("否决" in cells) is criterion.veto
        assert re.search("✔ 达标|✘ 未达标|✘ 无数据", cells)
    legend = text_of(scorecard.find(".//div[@class='legend']"))
    assert PROFILE.label in legend
    for source in PROFILE.sources:
        assert source in legend


def test_cover_shows_grade_and_days_left():
    frames = village_frames(COUNTY, CODE)
    cover = text_of(section(parse(village_html()), "cover"))
    assert frames["village"]["grade"] in cover
    assert str((PROFILE.evaluation_date - RUN["as_of"]).days) in cover
    assert frames["village"]["first_secretary"] in cover


def test_household_gaps_show_masked_ids_only():
    frames = village_frames(COUNTY, CODE)
    gaps = text_of(section(parse(village_html()), "household-gaps"))
    failing = frames["households"][frames["households"]["failing_criteria"].map(bool)]
    assert failing["head_id_number"].map(lambda n: n[:6] + "*" * 8 + n[-4:] in gaps).any()
    for number in frames["households"]["head_id_number"]:
        assert number not in gaps
    for phone in frames["households"]["helper_phone"]:
        assert phone not in gaps


def test_markup_in_data_is_text_not_markup():
    injected = '<img src="file:///etc/hostname"><base href="http://example.com/">'
    html = village_html(village_name=injected)
    root = parse(html)
    assert not list(root.iter("img")) and not list(root.iter("base"))
    assert injected in text_of(section(root, "cover"))


def test_county_summary_has_every_township_and_criterion():
    root = parse(county_html())
    text = text_of(root)
    for section_id in ("overview", "townships"):
        section(root, section_id)
    for name in COUNTY["villages"]["township_name"].unique():
        assert name in text
    for criterion in PROFILE.criteria:
        assert criterion.label in text
    assert "10,114" in text and "/ 45" in text


def test_undefined_values_fail_loudly():
    with pytest.raises(UndefinedError):
        render_html("village_dossier.html.j2", {"document": {}})


def test_environment_escapes_html_j2_templates():
    assert environment().from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    assert environment().get_template("_cover.html.j2").environment.autoescape is True


def test_every_template_compiles():
    names = environment().list_templates(extensions=["j2"])
    assert {"base.html.j2", "village_dossier.html.j2", "county_summary.html.j2"} <= set(names)
    for name in names:
        environment().get_template(name)


def test_margin_boxes_name_the_cjk_font():
    css = (TEMPLATES_DIR / "print.css").read_text(encoding="utf-8")
    boxes = re.findall(r"@(top|bottom)-[a-z-]+\s*\{([^}]*)\}", css)
    assert len(boxes) >= 4
    for _, body in boxes:
        assert '"Noto Sans CJK SC"' in body
    assert 'counter(page) " 页 / 共 " counter(pages)' in css
    assert "size: A4" in css


def test_no_catalogue_label_or_threshold_is_written_into_templates_or_view_models():
    catalogue = raw_catalogue()
    labels = {c["label"] for c in catalogue["criteria"].values()}
    labels |= {m["label"] for m in catalogue["metrics"].values()}
    thresholds = {f"{v * 100:g}%" for c in PROFILE.criteria for v in c.params.values()
                  if isinstance(v, float) and 0 < v < 1}
    thresholds |= {f"{m[k] * 100:g}%" for m in catalogue["metrics"].values() for k in ("min", "max") if k in m}
    thresholds |= {f"{line:g}" for line in catalogue["poverty_lines"].values()}
    sources = {path.name: path.read_text(encoding="utf-8") for path in TEMPLATES_DIR.iterdir() if path.is_file()}
    for module in (view_models, village_sections, rollup_views, charts, formatting, attachments, departments, index_page,
                   evaluators_view, rehearsal):
        sources[Path(module.__file__).name] = Path(module.__file__).read_text(encoding="utf-8")
    for name, source in sources.items():
        for label in labels:
            assert label not in source, f"{label!r} is written into {name}; read it from the profile"
        for threshold in thresholds:
            assert not re.search(rf"(?<![\d.]){re.escape(threshold)}(?!\d)", source), (
                f"{threshold!r} is written into {name}; read it from the profile")


def test_new_sections_show_housing_projects_quality_and_trend():
    root = parse(village_html())
    frames = village_frames(COUNTY, CODE)
    housing = text_of(section(root, "housing"))
    assert "住房解决方式" in housing and "未开工" in housing
    projects = text_of(section(root, "projects"))
    for name in frames["projects"]["project_name"]:
        assert name in projects
    quality = text_of(section(root, "data-quality"))
    assert "本周报送" in quality
    for message in frames["issues"]["message"]:
        assert message in quality
    trend = section(root, "trend")
    svgs = list(trend.iter("{http://www.w3.org/2000/svg}svg"))
    assert len(svgs) == 3 and all("Noto Sans CJK SC" in svg.get("font-family") for svg in svgs)
    assert not list(trend.iter("img"))
    for week in frames["trend"]["week"]:
        assert week in text_of(trend)


def test_cover_table_of_contents_links_every_section():
    root = parse(village_html())
    hrefs = [a.get("href") for a in section(root, "cover").iter("a")]
    assert hrefs == ["#scorecard", "#third-party", "#household-gaps", "#housing", "#projects", "#data-quality", "#trend"]
    for href in hrefs:
        section(root, href[1:])


def test_township_summary_and_department_list_html():
    from tasks.departments import department_problem_list
    from tasks.render.rollup_views import department_list_context, township_summary_context
    from tasks.assess import Readiness

    town_code = COUNTY["villages"]["township_code"].iloc[0]
    town = COUNTY["villages"][COUNTY["villages"]["township_code"] == town_code]
    own = COUNTY["village_criteria"][COUNTY["village_criteria"]["village_code"].isin(town["village_code"])]
    ctx = township_summary_context(PROFILE, town, COUNTY["households"], own, RUN, COUNTY["submissions"], COUNTY["issues"])
    root = parse(render_html("township_summary.html.j2", ctx))
    text = text_of(root)
    for name in town["village_name"]:
        assert name in text
    assert root.find("body").get("data-header") == f"{RUN['county']} · {town['township_name'].iloc[0]} · {RUN['week']}"

    readiness = Readiness(COUNTY["villages"], COUNTY["village_criteria"], COUNTY["households"])
    items = department_problem_list(readiness, COUNTY["projects"], PROFILE)
    department = items["department"].iloc[0]
    ctx = department_list_context(PROFILE, department, items[items["department"] == department], RUN)
    root = parse(render_html("department_list.html.j2", ctx))
    rows = root.findall(".//table[@class='grid items-table']/tbody/tr")
    assert len(rows) == len(ctx["rows"]) > 0
    assert department in root.find("body").get("data-header")
    assert "<built-in" not in text_of(root)
