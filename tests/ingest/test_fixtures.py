"""One small file per bad shape (tests/ingest/fixtures/, built by make_fixtures.py) and its exact outcome."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tasks.ingest.references import load_register
from tasks.ingest.submission import ACCEPTED, ACCEPTED_WITH_ISSUES, REJECTED, read_submission

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
SHUHE = "610928103"
LIMIT = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def register():
    return load_register(REFERENCE, REFERENCE)


def read(name: str, register, limit: int = LIMIT):
    return read_submission(FIXTURES / name, "sha", register, limit)


def located(result) -> list[tuple]:
    return [(i.rule, i.sheet, i.row, i.column) for i in result.issues]


CLEAN_SHAPES = ["610928103_蜀河镇_2016-W39.xlsx", "title_rows_merged_header.xlsx", "header_variants.xlsx",
                "value_forms.xlsx", "蜀河镇_gbk_csv", "蜀河镇_utf8_bom.zip"]


@pytest.mark.parametrize("name", CLEAN_SHAPES)
def test_clean_shapes_are_accepted_whole(name, register):
    result = read(name, register)
    assert (result.status, result.township_code, located(result)) == (ACCEPTED, SHUHE, [])
    counts = {k: len(v) for k, v in result.tables.items()}
    assert counts == {"cover": 1, "households": 2, "members": 4, "villages": 1, "surveys": 2, "projects": 1, "missed": 0}


def canonical(value):
    """A value as the clerk typed it into the clean fixture, in the form ingestion is specified to give it
    (submissions.md: 是/否 → True/False, blanks → missing, numbers as floats)."""
    if value == "是":
        return True
    if value == "":
        return None
    return float(value) if isinstance(value, int) else value


def test_the_reference_shape_reads_the_values_typed_into_it(register):
    """The shape every other is compared with is itself checked against the values written into it
    (tests/ingest/fixtures/make_fixtures.base_rows), not against another reading."""
    from tests.ingest.fixtures.make_fixtures import base_rows

    tables = read(CLEAN_SHAPES[0], register).tables
    typed = base_rows()
    for key in ("households", "members", "villages"):
        got = tables[key].drop(columns=["_file", "_sheet", "_row"]).astype(object)
        got = got.where(got.notna(), None).to_dict("records")
        want = [{k: canonical(v) for k, v in row.items()} for row in typed[key]]
        assert [{k: row[k] for k in w} for row, w in zip(got, want)] == want
    assert tables["households"]["head_id_number"].iloc[0] == "61092819610302079X"  # the X check character kept


@pytest.mark.parametrize("name", CLEAN_SHAPES[1:])
def test_every_shape_gives_the_same_canonical_values(name, register):
    reference = read(CLEAN_SHAPES[0], register).tables
    tables = read(name, register).tables
    for key in ("households", "members", "villages", "projects"):
        got = tables[key].drop(columns=["_file", "_sheet", "_row"])
        want = reference[key].drop(columns=["_file", "_sheet", "_row"])
        if name == "value_forms.xlsx" and key == "households":
            got, want = got.drop(columns=["has_power"]), want.drop(columns=["has_power"])
        pd.testing.assert_frame_equal(got, want, check_dtype=True)


def test_title_rows_merged_header_blank_rows_and_totals_keep_excel_row_numbers(register):
    households = read("title_rows_merged_header.xlsx", register).tables["households"]
    assert households["_row"].tolist() == [5, 7]
    assert households["net_income"].tolist() == [7000.0, 7000.0]


def test_value_forms_are_normalised_once(register):
    tables = read("value_forms.xlsx", register).tables
    h = tables["households"]
    assert h["safe_water"].tolist() == [True, True]
    assert h["has_power"].tolist() == [True, True]
    assert h["net_income"].tolist() == [7000.0, 7000.0]
    assert h["income_per_capita"].tolist() == [3500.0, 3500.0]
    assert h["head_id_number"].iloc[0].endswith("X")  # typed with a lower-case x
    assert tables["surveys"]["surveyed_on"].tolist() == [pd.Timestamp("2016-09-28")] * 2
    assert tables["projects"]["planned_completion"].tolist() == [pd.Timestamp("2016-10-30")]


def test_id_typed_as_number_is_reported_at_its_cell_and_the_row_kept(register):
    result = read("id_scientific.xlsx", register)
    assert result.status == ACCEPTED_WITH_ISSUES
    assert located(result) == [("DQ-ID-SCIENTIFIC", "家庭成员", 4, "证件号码")]
    assert "科学计数法" in result.issues[0].message and "第4行" in result.issues[0].message
    members = result.tables["members"]
    assert len(members) == 4 and members.loc[members["_row"] == 4, "id_number"].isna().all()


def test_bad_values_are_reported_cell_by_cell(register):
    result = read("bad_values.xlsx", register)
    assert result.status == ACCEPTED_WITH_ISSUES
    assert located(result) == [
        ("DQ-DICT", "贫困户", 2, "住房安全"),
        ("DQ-NUMBER", "贫困户", 3, "人均纯收入(元)"),
        ("DQ-BOOL", "贫困户", 3, "饮水安全"),
        ("DQ-REQUIRED", "家庭成员", 3, "在校生状况"),
        ("DQ-DATE", "双七项目", 2, "计划完工日期"),
    ]
    assert len(result.tables["households"]) == 2


def test_village_code_of_another_township_is_reported_and_not_imported(register):
    result = read("foreign_village_code.xlsx", register)
    assert located(result) == [("DQ-VILLAGE-CODE", "贫困户", 3, "村代码")]
    assert result.tables["households"]["village_code"].tolist() == ["610928103201"]


def test_duplicated_household_row_is_reported_and_imported_once(register):
    result = read("duplicate_household.xlsx", register)
    assert located(result) == [("DQ-DUPLICATE", "贫困户", 4, "户编号")]
    assert result.tables["households"]["household_id"].is_unique


def test_township_from_content_and_file_name_disagreement_is_an_issue(register):
    result = read("610928104_双河镇_2016-W39.xlsx", register)
    assert (result.status, result.township_code) == (ACCEPTED_WITH_ISSUES, SHUHE)
    assert located(result) == [("DQ-TOWNSHIP", "", None, "")]


@pytest.mark.parametrize("name, rule, sheet, column", [
    ("corrupt.xlsx", "DQ-FILE-CORRUPT", "", ""),
    ("empty.xlsx", "DQ-FILE-EMPTY", "", ""),
    ("not_excel.xlsx", "DQ-FILE-TYPE", "", ""),
    ("encrypted.xlsx", "DQ-FILE-ENCRYPTED", "", ""),
    ("sheet_missing.xlsx", "DQ-SHEET-MISSING", "家庭成员", ""),
    ("column_missing.xlsx", "DQ-COLUMN-MISSING", "贫困户", "人均纯收入(元)"),
])
def test_unreadable_files_are_rejected_with_a_reason(name, rule, sheet, column, register):
    result = read(name, register)
    assert result.status == REJECTED
    assert located(result) == [(rule, sheet, None, column)]
    assert result.reason == result.issues[0].message and result.reason


def test_the_encrypted_fixture_is_what_office_software_calls_encrypted():
    """Made by the demo's writer (demo/forms.py encrypted_workbook), checked by an independent reader."""
    import msoffcrypto

    with open(FIXTURES / "encrypted.xlsx", "rb") as f:
        assert msoffcrypto.OfficeFile(f).is_encrypted()


def test_oversized_file_is_rejected_before_it_is_read(register):
    result = read("610928103_蜀河镇_2016-W39.xlsx", register, limit=1024)
    assert (result.status, located(result)) == (REJECTED, [("DQ-FILE-TOO-LARGE", "", None, "")])
    assert result.township_code == SHUHE  # from the file name, for the completeness table
