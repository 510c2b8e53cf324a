from pathlib import Path

import openpyxl

from evalprep.blank_template import write_blank_template
from evalprep.template import sheets, vocabularies
from tasks.ingest.references import load_register
from tasks.ingest.submission import read_submission

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"


def test_the_blank_template_has_every_sheet_and_header_ingestion_knows(tmp_path):
    path = write_blank_template(tmp_path / "模板.xlsx")
    result = read_submission(path, "sha", load_register(REFERENCE, REFERENCE), 10 * 1024 * 1024)
    assert [i.rule for i in result.issues] == ["DQ-TOWNSHIP-UNKNOWN"]  # complete, only empty


def test_dictionary_columns_have_drop_down_lists_and_codes_are_text(tmp_path):
    book = openpyxl.load_workbook(write_blank_template(tmp_path / "模板.xlsx"))
    households = book[sheets()["households"].name]
    validations = households.data_validations.dataValidation
    assert len(validations) == sum(1 for c in sheets()["households"].columns if c.vocabulary or c.kind == "bool")
    dictionary = book["字典"]
    assert dictionary.sheet_state == "hidden"
    column = [c.value for c in next(col for col in dictionary.iter_cols() if col[0].value == "exit_status")][1:]
    assert tuple(v for v in column if v) == vocabularies()["exit_status"]
    header = [c.value for c in households[1]]
    assert "*户主证件号码" in header


def test_same_template_same_bytes(tmp_path):
    assert write_blank_template(tmp_path / "a.xlsx").read_bytes() == write_blank_template(tmp_path / "b.xlsx").read_bytes()


def test_the_blank_template_prints_one_page_wide_per_sheet_with_whole_instructions(tmp_path):
    from openpyxl.utils import get_column_letter

    from evalprep.blank_template import BLANK_ROWS_PRINTED, INSTRUCTIONS

    book = openpyxl.load_workbook(write_blank_template(tmp_path / "模板.xlsx"))
    for sheet in sheets().values():
        ws = book[sheet.name]
        setup = ws.page_setup
        assert setup.paperSize == 9 and setup.fitToHeight == 0 and setup.fitToWidth in (None, 1), sheet.name
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"
        last = 4 + len(INSTRUCTIONS) if sheet.key == "cover" else BLANK_ROWS_PRINTED + 1
        assert ws.print_area == f"'{sheet.name}'!$A$1:${get_column_letter(len(sheet.columns))}${last}"
        assert ws.oddHeader.center.text == "&A" and "&P" in ws.oddFooter.center.text
    assert book[sheets()["households"].name].page_setup.orientation == "landscape"  # 29 columns
    assert book[sheets()["cover"].name].page_setup.orientation == "portrait"  # 5 columns
    cover = book[sheets()["cover"].name]
    # Each instruction is merged across the cover's columns and wrapped: it prints whole on the page.
    merged = {str(r) for r in cover.merged_cells.ranges}
    last_column = get_column_letter(len(sheets()["cover"].columns))
    for row, line in enumerate(INSTRUCTIONS, start=5):
        assert cover.cell(row, 1).value == line and f"A{row}:{last_column}{row}" in merged
        assert cover.cell(row, 1).alignment.wrap_text
