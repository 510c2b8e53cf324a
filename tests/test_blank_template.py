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
