"""Problems found in a submission, worded for the township clerk from the catalogue's data rules."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import pandas as pd

from evalprep.idcard import mask
from expectations.catalogue import raw_catalogue

ISSUE_COLUMNS = ["township_code", "file", "sheet", "row", "column", "rule", "severity", "message", "village_code"]


def data_rule(rule: str) -> dict[str, str]:
    return raw_catalogue()["data_rules"][rule]


def _message(rule: str, **fields: object) -> str:
    template = data_rule(rule)["message"]
    values = {"row": "", "column": "", "value": "", "allowed": "", "sheet": "", "detail": "", **fields}
    text = template.format(**values)
    return text.replace("第行 ", "").replace("「」", "").strip()


@dataclass(frozen=True)
class Issue:
    """One problem: where (file, sheet, Excel row, header as written), which rule, and what to do."""

    rule: str
    severity: str
    message: str
    file: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    township_code: str = ""
    village_code: str = ""

    @classmethod
    def for_cell(cls, rule: str, file: str, sheet: str, row: int, column: str, value: str, allowed: str = "") -> "Issue":
        if rule.startswith("DQ-ID") and value:
            value = mask(value)  # issues.csv is read by people: ID numbers never appear whole
        return cls(
            rule=rule,
            severity=data_rule(rule)["severity"],
            message=_message(rule, row=row, column=column, value=value, allowed=allowed, sheet=sheet),
            file=file,
            sheet=sheet,
            row=row,
            column=column,
        )

    @classmethod
    def for_row(cls, rule: str, file: str, sheet: str, row: int, column: str = "", value: str = "") -> "Issue":
        return cls.for_cell(rule, file, sheet, row, column, value)

    @classmethod
    def for_file(cls, rule: str, file: str, sheet: str = "", column: str = "", detail: str = "", value: str = "") -> "Issue":
        return cls(
            rule=rule,
            severity=data_rule(rule)["severity"],
            message=_message(rule, sheet=sheet, column=column, detail=detail, value=value),
            file=file,
            sheet=sheet,
            column=column,
        )

    def at_township(self, code: str) -> "Issue":
        return replace(self, township_code=code)


def issues_frame(issues: list[Issue]) -> pd.DataFrame:
    """issues.csv rows (interface.md), in a stable order."""
    if not issues:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ISSUE_COLUMNS})
    frame = pd.DataFrame([asdict(i) for i in issues])[ISSUE_COLUMNS]
    frame["row"] = frame["row"].astype("Int64")
    return frame.sort_values(["township_code", "file", "sheet", "row", "column", "rule"], na_position="first", kind="stable").reset_index(drop=True)
