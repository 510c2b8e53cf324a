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


def test_department_spreadsheet_has_every_item_and_its_households():
    from tasks.assess import Readiness
    from tasks.departments import department_problem_list

    readiness = Readiness(COUNTY["villages"], COUNTY["village_criteria"], COUNTY["households"])
    items = department_problem_list(readiness, COUNTY["projects"], PROFILE)
    department = PROFILE.criterion("H-INCOME").department
    own = items[items["department"] == department]
    context = department_list_context(PROFILE, department, pd.concat([own] * 30, ignore_index=True), RUN,
                                      COUNTY["households"])
    book = workbook(xlsx_bytes(department_attachment(context), context["document"], RUN["as_of"]))
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
