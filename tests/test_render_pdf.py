"""Real PDFs: text checked with pypdf, fetching confined to report_templates/, same input → same bytes."""
from __future__ import annotations

import io
import re
import subprocess

import pytest
from fontTools.ttLib import TTCollection, TTFont
from pypdf import PdfReader

from evalprep.settings import TEMPLATES_DIR
from expectations.catalogue import load_profile
from tasks.render import pdf as render_pdf_module
from tasks.render.html import render_html
from tasks.render.pdf import (
    HarfBuzzSubsetMissing,
    TemplateFolderFetcher,
    check_harfbuzz_subset,
    render_county_summary,
    render_pdf,
    render_village_dossier,
)
from demo.preview import RUN, sample_county, village_frames
from tasks.render.view_models import village_dossier_context

PROFILE = load_profile("xunyang-2016")
COUNTY = sample_county(PROFILE, villages=6)
CODE = COUNTY["villages"]["village_code"].iloc[0]
A4 = (595.28, 841.89)
INJECTED = '<img src="file:///etc/hostname"><a rel="attachment" href="file:///etc/hostname">附件</a>'


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def dossier() -> bytes:
    return render_village_dossier(PROFILE, run=RUN, **village_frames(COUNTY, CODE))


@pytest.fixture
def fetched(monkeypatch):
    """Every URL WeasyPrint asks the fetcher for, refused or not."""
    urls = []
    original = TemplateFolderFetcher.fetch

    def spy(self, url, headers=None):
        urls.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(TemplateFolderFetcher, "fetch", spy)
    render_pdf_module.stylesheet.cache_clear()  # this process may have parsed print.css already
    return urls


def test_harfbuzz_subsetting_is_available():
    check_harfbuzz_subset()


def test_missing_harfbuzz_subset_fails_with_the_package_name(monkeypatch):
    monkeypatch.setattr(render_pdf_module.weasyprint_ffi, "harfbuzz_subset", None)
    with pytest.raises(HarfBuzzSubsetMissing, match="libharfbuzz-subset0"):
        check_harfbuzz_subset()


def test_dossier_is_a_short_a4_document_with_header_and_footer(dossier):
    reader = PdfReader(io.BytesIO(dossier))
    assert 4 <= len(reader.pages) <= 6
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=0.5)
    text = pdf_text(dossier)
    village = village_frames(COUNTY, CODE)["village"]
    assert f"{RUN['county']} · {village['township_name']} · {village['village_name']} · {RUN['week']}" in text
    assert f"第 1 页 / 共 {len(reader.pages)} 页" in text
    assert RUN["run_id"] in text and PROFILE.label in text
    assert reader.metadata.title.startswith(RUN["county"])
    assert "/CreationDate" not in reader.metadata and "/ModDate" not in reader.metadata


def test_dossier_text_has_grade_labels_and_masked_ids_only(dossier):
    text = pdf_text(dossier)
    frames = village_frames(COUNTY, CODE)
    assert frames["village"]["grade"] in text
    for criterion in PROFILE.criteria:
        assert criterion.label in text
    failing = frames["households"][frames["households"]["failing_criteria"].map(bool)]
    masked = failing["head_id_number"].map(lambda n: n[:6] + "*" * 8 + n[-4:])
    assert masked.map(lambda m: m in text).any()
    assert not re.search(r"(?<![\dA-Za-z])\d{17}[\dX](?![\dA-Za-z])", text)
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)
    for number in frames["households"]["head_id_number"]:
        assert number not in text
    for phone in frames["households"]["helper_phone"]:
        assert phone not in text


def test_fonts_are_embedded_as_cid_fonts(dossier, tmp_path):
    path = tmp_path / "dossier.pdf"
    path.write_bytes(dossier)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert any("Noto-Sans-CJK-SC" in row for row in rows)
    assert all("Identity-H" in row and " yes yes yes " in row for row in rows)


def _font_characters(family: str) -> set[int]:
    path = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True, check=True).stdout
    fonts = TTCollection(path).fonts if path.endswith(".ttc") else [TTFont(path)]
    return set().union(*(font.getBestCmap() for font in fonts))


def test_every_character_of_the_dossier_has_a_glyph_in_the_named_fonts():
    html = render_html("village_dossier.html.j2",
                       village_dossier_context(PROFILE, run=RUN, **village_frames(COUNTY, CODE)))
    covered = _font_characters("Noto Sans CJK SC") | _font_characters("DejaVu Sans")
    body = re.sub(r"<[^>]+>", "", html.split("<body", 1)[1])
    missing = {ch for ch in body if not ch.isspace() and ord(ch) not in covered}
    assert not missing, f"characters without a glyph (tofu): {sorted(missing)}"


def test_same_input_gives_the_same_bytes(dossier):
    assert render_village_dossier(PROFILE, run=RUN, **village_frames(COUNTY, CODE)) == dossier


def test_stylesheet_is_parsed_once_and_prints_as_a_linked_one(dossier, fetched):
    """print.css is fetched and parsed once per process, and a dossier printed with that parsed sheet is the
    same PDF, byte for byte, as one whose HTML links print.css (the way WeasyPrint parses it per document)."""
    html = render_html("village_dossier.html.j2",
                       village_dossier_context(PROFILE, run=RUN, **village_frames(COUNTY, CODE)))
    assert render_pdf(html, render_pdf_module.PRINT_CSS) == dossier
    assert render_pdf(html, render_pdf_module.PRINT_CSS) == dossier
    assert fetched == [(TEMPLATES_DIR / "print.css").as_uri()]
    linked = html.replace("</head>", '<link rel="stylesheet" href="print.css"></head>', 1)
    assert render_pdf(linked) == dossier


def test_injected_markup_renders_as_text_and_fetches_nothing(fetched):
    frames = village_frames(COUNTY, CODE)
    frames["village"] = {**frames["village"], "village_name": INJECTED}
    data = render_village_dossier(PROFILE, run=RUN, **frames)
    assert fetched == [(TEMPLATES_DIR / "print.css").as_uri()]
    text = pdf_text(data)
    assert 'src="file:///etc/hostname"' in text
    reader = PdfReader(io.BytesIO(data))
    assert not any(page.images for page in reader.pages)
    assert not reader.attachments


def test_fetcher_refuses_raw_html_references_outside_the_templates(fetched):
    html = (
        '<html><head><link rel="stylesheet" href="print.css"></head><body>'
        f'{INJECTED}<img src="http://127.0.0.1:9/x.png"><img src="../pyproject.toml"></body></html>'
    )
    reader = PdfReader(io.BytesIO(render_pdf(html)))
    assert not any(page.images for page in reader.pages)
    assert not reader.attachments
    assert (TEMPLATES_DIR / "print.css").as_uri() in fetched
    assert "file:///etc/hostname" in fetched and "http://127.0.0.1:9/x.png" in fetched


@pytest.mark.parametrize("url", [
    "file:///etc/hostname",
    "http://example.com/print.css",
    "https://example.com/print.css",
    "data:text/css,body{}",
    "file://otherhost" + str(TEMPLATES_DIR / "print.css"),
    (TEMPLATES_DIR / "print.css").as_uri().replace("print.css", "../pyproject.toml"),
    (TEMPLATES_DIR / "missing.css").as_uri(),
])
def test_fetcher_refuses_anything_but_template_files(url):
    with pytest.raises(ValueError, match="refused"):
        TemplateFolderFetcher().fetch(url)


def test_fetcher_serves_the_stylesheet():
    response = TemplateFolderFetcher().fetch((TEMPLATES_DIR / "print.css").as_uri())
    assert response.content_type == "text/css"
    assert b"@page" in response.read()


def test_county_summary_renders():
    data = render_county_summary(PROFILE, COUNTY["villages"], COUNTY["households"], COUNTY["village_criteria"], RUN)
    text = pdf_text(data)
    assert "全县汇总" in text and "10,114" in text
    for township in COUNTY["villages"]["township_name"].unique():
        assert township in text


SECTION_TITLES = ("一、指标达标情况", "二、第三方评估视角", "三、不达标户明细", "四、住房保障", "五、“双七”项目",
                  "六、数据质量", "七、变化趋势")


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def assert_nothing_personal(text: str) -> None:
    assert not re.search(r"(?<![\dA-Za-z])\d{17}[\dX](?![\dA-Za-z])", text)
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)


def test_dossier_has_every_section_the_trend_and_the_projects(dossier, tmp_path):
    text = pdftotext(dossier, tmp_path)
    for title in SECTION_TITLES:
        assert title in text
    frames = village_frames(COUNTY, CODE)
    for week in frames["trend"]["week"]:
        assert week in text
    assert "W36" in text and "W39" in text            # the chart's axis labels are text, not outlines
    for name in frames["projects"]["project_name"]:
        assert name in text.replace(" ", "")
    assert f"{frames['village']['village_code']}_" in text and ".xlsx" in text
    assert_nothing_personal(text)


def rollup_contexts():
    from tasks.assess import Readiness
    from tasks.departments import department_problem_list
    from tasks.render.rollup_views import department_list_context, township_summary_context

    town_code = COUNTY["villages"]["township_code"].iloc[0]
    town = COUNTY["villages"][COUNTY["villages"]["township_code"] == town_code]
    own = COUNTY["village_criteria"][COUNTY["village_criteria"]["village_code"].isin(town["village_code"])]
    township = township_summary_context(PROFILE, town, COUNTY["households"], own, RUN, COUNTY["submissions"],
                                        COUNTY["issues"])
    readiness = Readiness(COUNTY["villages"], COUNTY["village_criteria"], COUNTY["households"])
    items = department_problem_list(readiness, COUNTY["projects"], PROFILE)
    department = PROFILE.criterion("H-HOUSING").department
    listing = department_list_context(PROFILE, department, items[items["department"] == department], RUN,
                                      COUNTY["households"])
    return township, listing


def test_township_summary_and_department_list_pdfs(tmp_path):
    from tasks.render.pdf import DEPARTMENT_LIST, TOWNSHIP_SUMMARY, render_document

    township, listing = rollup_contexts()
    text = pdftotext(render_document(TOWNSHIP_SUMMARY, township), tmp_path)
    assert township["overview"]["township"] in text and re.search(r"第\s*1\s*页\s*/\s*共", text)
    for row in township["villages"]:
        assert row["village"] in text
    assert_nothing_personal(text)

    data = render_document(DEPARTMENT_LIST, listing)
    text = pdftotext(data, tmp_path)
    department = listing["overview"]["department"]
    assert f"{department}问题清单" in text and re.search(r"第\s*1\s*页\s*/\s*共", text) and RUN["run_id"] in text
    assert "整改重点" in text and "问题清单" in text
    assert listing["rows"][0]["village"] in text
    assert_nothing_personal(text)
    assert render_document(DEPARTMENT_LIST, listing) == data


def test_county_summary_prints_the_simulators_headline(tmp_path):
    from tests.test_render_view_models import SIMULATION

    data = render_county_summary(PROFILE, COUNTY["villages"], COUNTY["households"], COUNTY["village_criteria"], RUN,
                                 COUNTY["submissions"], SIMULATION)
    text = pdftotext(data, tmp_path)
    assert "P(错退率 ≥ 2%) ≈ 49.8%" in text
    assert "P(群众认可度 < 90%) > 99.95%" in text
    assert "漏评率：未测算" in text


def test_injected_markup_in_a_village_name_is_text_in_the_roll_ups_too(fetched):
    from tasks.render.pdf import DEPARTMENT_LIST, render_document
    from tasks.render.rollup_views import department_list_context
    from tasks.departments import department_problem_list
    from tasks.assess import Readiness

    villages = COUNTY["villages"].assign(village_name=INJECTED)
    items = department_problem_list(Readiness(villages, COUNTY["village_criteria"], COUNTY["households"]),
                                    COUNTY["projects"], PROFILE)
    department = items["department"].iloc[0]
    data = render_document(DEPARTMENT_LIST, department_list_context(PROFILE, department,
                                                                    items[items["department"] == department], RUN))
    assert fetched == [(TEMPLATES_DIR / "print.css").as_uri()]
    assert 'src="file:///etc/hostname"' in re.sub(r"\s", "", pdf_text(data))
    reader = PdfReader(io.BytesIO(data))
    assert not any(page.images for page in reader.pages) and not reader.attachments


def test_every_character_written_in_templates_and_view_models_has_a_glyph():
    from pathlib import Path

    from tasks.render import formatting, rollup_views, view_models, village_sections

    covered = _font_characters("Noto Sans CJK SC") | _font_characters("DejaVu Sans")
    sources = [*TEMPLATES_DIR.glob("*.j2"), *(Path(m.__file__) for m in (formatting, rollup_views, view_models,
                                                                         village_sections))]
    missing = {ch for path in sources for ch in path.read_text(encoding="utf-8") if ord(ch) > 127 and ord(ch) not in covered}
    assert not missing, f"characters without a glyph (tofu): {sorted(missing)}"


def plain_text(data: bytes, tmp_path) -> list[str]:
    """pdftotext's reading-order text (what a copy from a PDF viewer gives), one line each."""
    path = tmp_path / "copied.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in text.splitlines()]


def test_village_name_band_and_headings_copy_out_without_inserted_spaces(dossier, tmp_path):
    """Letter-spacing made the cover title copy out as "东 坡村" (issue 15)."""
    lines = plain_text(dossier, tmp_path)
    village = village_frames(COUNTY, CODE)["village"]["village_name"]
    assert village in lines                                    # the cover's title, alone on its line, intact
    assert f"{RUN['county']} · 脱贫退出第三方评估迎评准备" in lines
    for title in ("一、指标达标情况", "二、第三方评估视角", "四、住房保障", "六、数据质量", "七、变化趋势"):
        assert title in lines


def test_county_summary_title_copies_out_without_inserted_spaces(tmp_path):
    data = render_county_summary(PROFILE, COUNTY["villages"], COUNTY["households"], COUNTY["village_criteria"], RUN)
    lines = plain_text(data, tmp_path)
    assert f"{RUN['county']}脱贫退出迎评汇总" in lines
    assert f"{RUN['county']} · 脱贫退出第三方评估迎评准备" in lines


def test_no_stylesheet_spaces_letters_out():
    for sheet in (*TEMPLATES_DIR.glob("*.css"), *TEMPLATES_DIR.glob("*.j2")):
        assert "letter-spacing" not in re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S), sheet


def assert_tagged(data: bytes) -> None:
    root = PdfReader(io.BytesIO(data)).trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712  (a pypdf BooleanObject)
    tree = root["/StructTreeRoot"].get_object()
    kids = tree["/K"]
    kids = kids if isinstance(kids, list) else [kids]
    assert kids and root["/Lang"] == "zh-CN"


def test_dossier_and_county_summary_are_tagged_pdfs(dossier):
    """Tagged (issue 15): a structure tree and /MarkInfo /Marked true, the document's language zh-CN."""
    assert_tagged(dossier)
    assert_tagged(render_county_summary(PROFILE, COUNTY["villages"], COUNTY["households"],
                                        COUNTY["village_criteria"], RUN))


def test_dossier_is_laid_out_in_one_pass_and_its_contents_link_to_the_sections(caplog):
    """No repagination: a forward page reference (target-counter in the contents) made WeasyPrint lay the cover
    out twice more, ≈ 10 % of a dossier's render. The contents still link to each section, and the PDF's
    bookmarks list the seven sections."""
    caplog.set_level("INFO", logger="weasyprint.progress")
    data = render_village_dossier(PROFILE, run=RUN, **village_frames(COUNTY, CODE))
    steps = [record.getMessage() for record in caplog.records if record.name == "weasyprint.progress"]
    assert any("Creating layout" in step for step in steps)
    assert not [step for step in steps if "Repagination" in step]
    reader = PdfReader(io.BytesIO(data))
    cover_links = [annotation.get_object() for annotation in reader.pages[0].get("/Annots", [])]
    assert len([link for link in cover_links if link.get("/Subtype") == "/Link" and "/Dest" in link]) >= 7
    bookmarks = _outline_titles(reader.outline)
    for title in SECTION_TITLES:
        assert any(bookmark.startswith(title) for bookmark in bookmarks), (title, bookmarks)


def _outline_titles(outline: list) -> list[str]:
    """Every bookmark title of a pypdf outline, nested levels included."""
    return [title for item in outline
            for title in (_outline_titles(item) if isinstance(item, list) else [item.title])]
