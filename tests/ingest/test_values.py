import datetime as dt

import pandas as pd
import pytest

from evalprep.template import sheets
from tasks.ingest import values as v


def col(sheet, name):
    return sheets()[sheet].column(name)


@pytest.mark.parametrize("raw, expected", [("是", True), ("有", True), ("Y", True), ("√", True), (1, True), ("1", True),
                                           ("否", False), ("无", False), ("n", False), ("×", False), (0, False)])
def test_yes_no_forms(raw, expected):
    assert v.to_bool(raw) is expected


def test_unknown_yes_no_is_reported():
    with pytest.raises(v.Invalid) as exc:
        v.to_bool("可能")
    assert exc.value.rule == "DQ-BOOL"


@pytest.mark.parametrize("raw", [42641, 42641.0, "2016-09-28", "2016.9.28", "2016/9/28", "2016年9月28日", "20160928",
                                 dt.datetime(2016, 9, 28, 10, 30)])
def test_date_forms(raw):
    assert v.to_date(raw) == pd.Timestamp("2016-09-28")


@pytest.mark.parametrize("raw, expected", [("3,100元", 3100.0), ("３１００", 3100.0), (" 2952 ", 2952.0), (2952.5, 2952.5)])
def test_numbers_with_separators_units_and_full_width_digits(raw, expected):
    assert v.to_number(raw) == expected


def test_id_number_typed_as_number_is_reported_not_repaired():
    for raw in (6.10928198005171e17, "6.10928E+17"):
        with pytest.raises(v.Invalid) as exc:
            v.to_id_number(raw)
        assert exc.value.rule == "DQ-ID-SCIENTIFIC"


def test_id_number_lower_case_x_and_full_width_digits_are_folded():
    assert v.to_id_number("１１０１０５１９４９１２３１００２x") == "11010519491231002X"


def test_sixteen_digit_code_typed_as_number_has_lost_digits():
    with pytest.raises(v.Invalid) as exc:
        v.to_code(6109281032010001.0, col("households", "household_id"))
    assert exc.value.rule == "DQ-CODE-SCIENTIFIC"
    assert v.to_code(610928103201.0, col("households", "village_code")) == "610928103201"


def test_enum_accepts_full_width_brackets_and_rejects_others():
    assert v.to_enum("易地扶贫搬迁（集中安置）", "housing_solution") == "易地扶贫搬迁(集中安置)"
    with pytest.raises(v.Invalid) as exc:
        v.to_enum("搬迁", "housing_solution")
    assert exc.value.rule == "DQ-DICT"


@pytest.mark.parametrize("raw, expected", [("电信、移动", "电信、移动"), ("中国移动,联通", "移动、联通"), ("无", "无")])
def test_carriers(raw, expected):
    assert v.to_carriers(raw) == expected


def test_percent_from_excel_percentage_cell_and_from_text():
    assert v.to_percent(0.95) == pytest.approx(95.0)
    assert v.to_percent("95%") == 95.0
    assert v.to_percent(100) == 100.0
