"""The GB 11643 check-character expectation, next to the format regex, in real GX validations."""
import datetime as dt
import re

import pandas as pd
import pytest

import evalprep  # noqa: F401
import great_expectations as gx
import great_expectations.expectations as gxe
from evalprep.idcard import ID_PATTERN, is_valid, make
from expectations.gb11643 import ASCII_ID_PATTERN, ExpectColumnValuesToHaveGb11643CheckCharacter
from tasks.validate import RESULT_FORMAT, validation_context

VALID = make("610928", dt.date(1980, 5, 17), 123)


def _valid_ending_in_x() -> str:
    for seq in range(1000):
        candidate = make("610928", dt.date(1975, 3, 2), seq)
        if candidate.endswith("X"):
            return candidate
    raise AssertionError("no ID ending in X")


VALID_X = _valid_ending_in_x()
WRONG_CHECK = VALID[:17] + ("0" if VALID[17] != "0" else "1")
BAD_BIRTH_DATE = "610928" + "19801341" + "123"
BAD_BIRTH_DATE += "0" if not is_valid(BAD_BIRTH_DATE + "0") else "1"


@pytest.fixture(scope="module")
def validate_ids():
    context = validation_context()
    asset = context.data_sources.add_pandas("ids").add_dataframe_asset("ids")
    batch_definition = asset.add_batch_definition_whole_dataframe("all")

    def run(values: list) -> dict[str, list[int]]:
        frame = pd.DataFrame({"id_number": pd.array(values, dtype="str")})
        suite = gx.ExpectationSuite(
            name="ids",
            expectations=[
                gxe.ExpectColumnValuesToMatchRegex(column="id_number", regex=ASCII_ID_PATTERN, meta={"code": "format"}),
                ExpectColumnValuesToHaveGb11643CheckCharacter(column="id_number", meta={"code": "check"}),
            ],
        )
        result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format=RESULT_FORMAT)
        assert not any(r.exception_info.get("raised_exception") for r in result.results)
        return {r.expectation_config.meta["code"]: r.result["unexpected_index_list"] for r in result.results}

    return run


def test_valid_ids_pass_both(validate_ids):
    assert VALID_X.endswith("X")
    assert validate_ids([VALID, VALID_X]) == {"format": [], "check": []}


def test_wrong_check_character_fails_only_the_check(validate_ids):
    assert validate_ids([VALID, WRONG_CHECK]) == {"format": [], "check": [1]}


def test_impossible_birth_date_fails_the_check(validate_ids):
    assert validate_ids([BAD_BIRTH_DATE]) == {"format": [], "check": [0]}


def test_lower_case_x_fails_the_format_not_the_check(validate_ids):
    # Ingestion upper-cases x; an x that reaches validation is a format error, reported once.
    assert validate_ids([VALID_X[:17] + "x"]) == {"format": [0], "check": []}


def test_wrong_shapes_are_the_format_expectations_finding(validate_ids):
    values = [VALID[:17], "6.10928E+17", VALID + "1", "６" + VALID[1:]]
    assert validate_ids(values) == {"format": [0, 1, 2, 3], "check": []}


def test_missing_ids_are_left_to_the_required_check(validate_ids):
    assert validate_ids([None, VALID]) == {"format": [], "check": []}


def test_expectation_type_name():
    exp = ExpectColumnValuesToHaveGb11643CheckCharacter(column="id_number")
    assert exp.expectation_type == "expect_column_values_to_have_gb11643_check_character"


def test_ascii_pattern_is_the_idcard_pattern_on_ascii_text():
    samples = [VALID, VALID_X, WRONG_CHECK, VALID[:17] + "x", VALID[:17], VALID + "1", "", "X" * 18]
    for text in samples:
        assert bool(re.fullmatch(ASCII_ID_PATTERN, text)) == bool(re.fullmatch(ID_PATTERN, text)), text
