"""Spreadsheets beside the PDFs: complete lists, masked, same bytes for the same inputs (openpyxl read-back)."""
from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pandas as pd

from expectations.catalogue import load_profile
from tasks.attachments import department_attachment, village_attachment, xlsx_bytes
from demo.preview import RUN, sample_county, village_frames
from tasks.render.rollup_views import department_list_context
from tasks.render.view_models import MAX_GAP_ROWS, village_dossier_context

PROFILE = load_profile("xunyang-2016")
COUNTY = sample_county(PROFILE, villages=4)
CODE = COUNTY["villages"]["village_code"].iloc[0]
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9X](?![0-9A-Za-z])")
PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def many_failing_households() -> dict:
    """The first village with every household failing: more rows than the dossier prints."""
    frames = village_frames(COUNTY, CODE)
    frames["households"] = frames["households"].assign(failing_criteria=[["H-INCOME"]] * len(frames["households"]))
    return frames


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def rows_of(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


def all_text(book: openpyxl.Workbook) -> str:
    return "\n".join(str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row if c is not None)


def test_village_spreadsheet_has_the_complete_lists():
    frames = many_failing_households()
    context = village_dossier_context(PROFILE, run=RUN, **frames)
    book = workbook(xlsx_bytes(village_attachment(context), context["document"], RUN["as_of"]))
    assert book.sheetnames == ["说明", "不达标建档立卡户", "住房", "双七项目", "数据问题"]
    households = rows_of(book["不达标建档立卡户"])
    assert len(households) == len(frames["households"]) > MAX_GAP_ROWS
    assert {row[0] for row in households} == set(frames["households"]["household_id"])
    assert len(rows_of(book["双七项目"])) == len(frames["projects"])
    assert len(rows_of(book["数据问题"])) == len(frames["issues"])
    housing = frames["households"]["housing_solution"].ne("无需").sum()
    assert len(rows_of(book["住房"])) == housing
    assert [c.value for c in book["不达标建档立卡户"][1]][:3] == ["户编号", "户主", "户主身份证号（已隐藏）"]


def test_village_spreadsheet_masks_ids_and_phones_and_keeps_codes_as_text():
    frames = many_failing_households()
    context = village_dossier_context(PROFILE, run=RUN, **frames)
    book = workbook(xlsx_bytes(village_attachment(context), context["document"], RUN["as_of"]))
    text = all_text(book)
    assert not ID_NUMBER.search(text) and not PHONE.search(text)
    for number in frames["households"]["head_id_number"]:
        assert number not in text
    first = rows_of(book["不达标建档立卡户"])[0]
    assert isinstance(first[0], str) and len(first[0]) == 16          # 户编号 stays text, not 6.1e15
    assert re.fullmatch(r"610928\*{8}[0-9X]{4}", first[2])


def test_same_inputs_give_the_same_bytes_with_the_cut_off_as_creation_date():
    context = village_dossier_context(PROFILE, run=RUN, **village_frames(COUNTY, CODE))
    first = xlsx_bytes(village_attachment(context), context["document"], RUN["as_of"])
    second = xlsx_bytes(village_attachment(village_dossier_context(PROFILE, run=RUN, **village_frames(COUNTY, CODE))),
                        context["document"], RUN["as_of"])
    assert first == second
    created = workbook(first).properties.created
    assert created == dt.datetime.combine(RUN["as_of"], dt.time())
    assert workbook(first).properties.title == context["document"]["title"]


def department_book(copies: int = 30) -> tuple[pd.DataFrame, dict, openpyxl.Workbook]:
    """The H-INCOME department's own items, its list's context with the items `copies` times over (more rows
    than the PDF prints) and its spreadsheet read back."""
    from tasks.assess import Readiness
    from tasks.departments import department_problem_list

    readiness = Readiness(COUNTY["villages"], COUNTY["village_criteria"], COUNTY["households"])
    items = department_problem_list(readiness, COUNTY["projects"], PROFILE)
    department = PROFILE.criterion("H-INCOME").department
    own = items[items["department"] == department]
    context = department_list_context(PROFILE, department, pd.concat([own] * copies, ignore_index=True), RUN,
                                      COUNTY["households"])
    return own, context, workbook(xlsx_bytes(department_attachment(context), context["document"], RUN["as_of"]))


def test_department_spreadsheet_has_every_item_and_its_households():
    own, context, book = department_book()
    assert book.sheetnames == ["说明", "问题清单", "涉及脱贫户"]
    listed = rows_of(book["问题清单"])
    assert len(listed) == 30 * len(own) > len(context["rows"])
    assert [row[0] for row in listed] == list(range(1, len(listed) + 1))
    assert len(rows_of(book["涉及脱贫户"])) == len(context["households"]) > 0
    text = all_text(book)
    assert not ID_NUMBER.search(text) and not PHONE.search(text)


def test_free_text_cells_are_redacted_on_the_way_out():
    from tasks.attachments import Sheet

    sheet = Sheet("x", (("note", "说明", 20),), [{"note": "身份证 610928196203081234 电话 13891234567"}])
    text = all_text(workbook(xlsx_bytes([sheet], {"title": "t", "author": "a", "footer": "f"}, RUN["as_of"])))
    assert "610928196203081234" not in text and "13891234567" not in text


def assert_print_ready(ws, last_column: str, last_row: int, landscape: bool) -> None:
    """The print settings stored in the file: A4, one page wide (fitToWidth's OOXML default is 1, so a writer may
    leave it out) and any number tall, header row on every page, print area ending at the data."""
    setup = ws.page_setup
    assert setup.paperSize == 9, ws.title  # A4
    assert setup.orientation == ("landscape" if landscape else "portrait"), ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
    assert ws.print_title_rows == "$1:$1", ws.title
    assert ws.print_area == f"'{ws.title}'!$A$1:${last_column}${last_row}", ws.title
    assert ws.oddHeader.center.text == "&A" and "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert ws.page_margins.left < 0.75  # narrower than Excel's default 0.7 in + room: the sheet gets the width


def test_every_spreadsheet_sheet_prints_one_page_wide_with_its_header_on_every_page():
    from openpyxl.utils import get_column_letter

    from tasks.attachments import DEPARTMENT_HOUSEHOLD_COLUMNS, DEPARTMENT_ITEM_COLUMNS

    frames = many_failing_households()
    context = village_dossier_context(PROFILE, run=RUN, **frames)
    village = workbook(xlsx_bytes(village_attachment(context), context["document"], RUN["as_of"]))
    gaps = village["不达标建档立卡户"]
    assert_print_ready(gaps, "H", len(frames["households"]) + 1, landscape=True)
    assert gaps.oddHeader.left.text == context["document"]["title"]
    assert_print_ready(village["说明"], "B", len(rows_of(village["说明"])) + 1, landscape=True)

    own, context, book = department_book()
    listed = book["问题清单"]
    assert_print_ready(listed, get_column_letter(len(DEPARTMENT_ITEM_COLUMNS)), 30 * len(own) + 1, landscape=True)
    households = book["涉及脱贫户"]
    wide = sum(width for _, _, width in DEPARTMENT_HOUSEHOLD_COLUMNS) > 88
    assert_print_ready(households, get_column_letter(len(DEPARTMENT_HOUSEHOLD_COLUMNS)),
                       len(context["households"]) + 1, landscape=wide)


def test_a_narrow_sheet_prints_portrait_and_an_empty_one_prints_its_header():
    from tasks.attachments import Sheet

    narrow = Sheet("窄", (("a", "甲", 20), ("b", "乙", 30)), [{"a": "1", "b": "2"}])
    empty = Sheet("空", (("a", "甲", 60), ("b", "乙", 60)), [])
    book = workbook(xlsx_bytes([narrow, empty], {"title": "t & u", "author": "a", "footer": "f"}, RUN["as_of"]))
    assert_print_ready(book["窄"], "B", 2, landscape=False)
    assert_print_ready(book["空"], "B", 1, landscape=True)
    assert book["窄"].oddHeader.left.text == "t && u"  # '&' starts a header code: written doubled
