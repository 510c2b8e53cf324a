"""GX expectation: resident ID numbers carry the right GB 11643-1999 check character."""
from __future__ import annotations

from typing import ClassVar

import pandas as pd

import evalprep  # noqa: F401  (sets GX_ANALYTICS_ENABLED=false before GX is imported)
from evalprep.idcard import valid_mask
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

METRIC_NAME = "column_values.gb11643_check_character"
# evalprep.idcard.ID_PATTERN with [0-9] for \d: under Python's re \d also matches full-width digits (６),
# which valid_mask cannot encode; under RE2 (pyarrow-backed str columns) it does not. [0-9] means the
# same in both engines.
ASCII_ID_PATTERN = r"^[0-9]{17}[0-9X]$"


class ColumnValuesGb11643CheckCharacter(ColumnMapMetricProvider):
    """Row-wise: True where an 18-character ID has the right check character and a real birth date."""

    condition_metric_name = METRIC_NAME

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        # Values of the wrong shape are the format expectation's finding (ExpectColumnValuesToMatchRegex
        # with ASCII_ID_PATTERN); judging them here too would report one typo twice.
        shaped = column.astype("string").str.fullmatch(ASCII_ID_PATTERN).fillna(False).astype(bool)
        valid = pd.Series(True, index=column.index)
        valid[shaped] = valid_mask(column[shaped])
        return valid


class ExpectColumnValuesToHaveGb11643CheckCharacter(ColumnMapExpectation):
    """Expect 18-character resident ID numbers to carry the right GB 11643 (ISO 7064 MOD 11-2) check
    character and a real birth date; values of another shape are left to the format (regex) expectation."""

    map_metric: ClassVar[str] = METRIC_NAME
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["evalprep", "id number"]}
