import datetime as dt

import pandas as pd
import pytest

from evalprep import idcard

# A published sample of GB 11643 with its check character (Beijing, 1949-12-31, sequence 999).
KNOWN_VALID = "11010519491231002X"


def test_known_id_with_x_check_character_is_valid():
    assert idcard.check_char(KNOWN_VALID[:17]) == "X"
    assert idcard.is_valid(KNOWN_VALID)


def test_lower_case_x_is_not_valid_until_normalised():
    assert not idcard.is_valid(KNOWN_VALID.lower())
    assert idcard.is_valid(KNOWN_VALID.lower().upper())


@pytest.mark.parametrize("wrong", "0123456789")
def test_every_other_check_character_is_invalid(wrong):
    built = idcard.make("610928", dt.date(1980, 5, 17), 123)
    candidate = built[:17] + wrong
    assert idcard.is_valid(candidate) == (candidate == built)


def test_impossible_birth_date_is_invalid_even_with_right_check_character():
    first17 = "61092819800230123"
    assert not idcard.is_valid(first17 + idcard.check_char(first17))


def test_make_encodes_birth_date_and_sex():
    male = idcard.make("610928", dt.date(2008, 2, 29), 7)
    female = idcard.make("610928", dt.date(2008, 2, 29), 8)
    assert idcard.birth_date(male) == dt.date(2008, 2, 29)
    assert (idcard.sex(male), idcard.sex(female)) == ("男", "女")


def test_vectorised_validity_agrees_with_scalar():
    ids = [idcard.make("610928", dt.date(1950 + i, 1 + i % 12, 1 + i % 28), i) for i in range(40)]
    ids += [i[:17] + ("0" if i[17] != "0" else "1") for i in ids[:10]] + [None, "", "123", KNOWN_VALID]
    series = pd.Series(ids, dtype="object")
    assert idcard.valid_mask(series).tolist() == [idcard.is_valid(i) for i in ids]


def test_ages_on_a_date_count_birthdays():
    born = idcard.make("610928", dt.date(2010, 9, 25), 1)
    ages = idcard.ages(pd.Series([born]), dt.date(2016, 9, 24))
    assert ages.tolist() == [5]
    assert idcard.ages(pd.Series([born]), dt.date(2016, 9, 25)).tolist() == [6]


def test_masking_keeps_region_and_last_four():
    assert idcard.mask("610928198005171235") == "610928********1235"
    assert idcard.mask_phone("13812345678") == "138****5678"
