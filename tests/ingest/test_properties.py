"""Property-based: whatever the cells or bytes, ingestion reports cleanly, never crashes, never loses a row."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalprep.template import sheets
from tasks.ingest.references import load_register
from tasks.ingest.sheet import TOTAL_WORDS, parse_sheet
from tasks.ingest.submission import read_submission
from tasks.ingest.values import Invalid, converter, is_blank
from tasks.ingest.workbook import Rejected, csv_rows

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
REGISTER = load_register(REFERENCE, REFERENCE)
HOUSEHOLDS = sheets()["households"]
DROP_RULES = {"DQ-ROW-NO-KEY"}

cells = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["是", "否", "√", "×", "3,100元", "６１０９２８", "2016年9月28日", "2016.9.28", "合计", " ", "无",
                     "610928198005171235", "61092819800517123x", "6.10928E+17", "易地扶贫搬迁（集中安置）"]),
    st.integers(min_value=-10**18, max_value=10**18),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)


@settings(max_examples=300, deadline=None)
@given(column=st.sampled_from([c for s in sheets().values() for c in s.columns]), value=cells)
def test_a_cell_is_normalised_or_reported_never_crashes(column, value):
    try:
        converter(column)(value)
    except Invalid as exc:
        assert exc.rule.startswith("DQ-")


def _is_total(row: list) -> bool:
    return any(isinstance(c, str) and c.replace(" ", "").strip().startswith(TOTAL_WORDS) for c in row[:4])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(cells, min_size=len(HOUSEHOLDS.columns), max_size=len(HOUSEHOLDS.columns)), max_size=25),
       title_rows=st.integers(min_value=0, max_value=3))
def test_every_data_row_is_imported_or_reported_exactly_once(rows, title_rows):
    header = [c.header for c in HOUSEHOLDS.columns]
    sheet_rows = [["旬阳县某镇建档立卡贫困户花名册"]] * title_rows + [header] + rows
    parsed = parse_sheet(sheet_rows, HOUSEHOLDS, "f.xlsx", "贫困户")
    first_data_row = title_rows + 2
    expected = {first_data_row + i for i, row in enumerate(rows) if not all(is_blank(c) for c in row) and not _is_total(row)}
    imported = parsed.frame["_row"].tolist()
    dropped = [i.row for i in parsed.issues if i.rule in DROP_RULES]
    assert sorted(imported + dropped) == sorted(expected)  # none lost, none twice
    for issue in parsed.issues:
        assert issue.rule.startswith("DQ-") and issue.message and issue.row in expected
    assert list(parsed.frame.columns[: len(HOUSEHOLDS.columns)]) == HOUSEHOLDS.column_names


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".xlsx", ".xls", ".csv", ".zip"]))
def test_random_bytes_are_rejected_or_read_never_crash(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"610928103_蜀河镇{suffix}"
    path.write_bytes(data)
    result = read_submission(path, "sha", REGISTER, 1024 * 1024)
    assert result.status in ("accepted", "accepted_with_issues", "rejected")
    if result.status == "rejected":
        assert result.reason and all(i.rule.startswith("DQ-") for i in result.issues)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=400), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_csv_text_in_any_of_the_encodings_reads_back(text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    try:
        rows = csv_rows(data)
    except Rejected as exc:
        assert exc.rule == "DQ-FILE-CORRUPT" and "\x00" in text
        return
    assert all(isinstance(cell, str) for row in rows for cell in row)
    if text and '"' not in text and "\x00" not in text:
        assert "".join("".join(r) for r in rows) == "".join(text.replace("\r\n", "").replace("\r", "").replace("\n", "").split(","))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cells, min_size=6, max_size=6), min_size=1, max_size=8))
def test_random_households_in_a_real_workbook_never_crash(tmp_path_factory, rows):
    import xlsxwriter

    path = tmp_path_factory.mktemp("book") / "610928103_蜀河镇_2016-W39.xlsx"
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "nan_inf_to_errors": True})
    for key in ("households", "members", "villages", "surveys", "projects"):
        sheet = book.add_worksheet(sheets()[key].name)
        sheet.write_row(0, 0, [c.header for c in sheets()[key].columns])
    sheet = book.get_worksheet_by_name("贫困户")
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, book.add_format({"num_format": "yyyy-mm-dd"}))
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    path.write_bytes(buffer.getvalue())
    result = read_submission(path, "sha", REGISTER, 1024 * 1024)
    assert result.status in ("accepted", "accepted_with_issues", "rejected")
    if result.status != "rejected":
        assert isinstance(result.tables["households"], pd.DataFrame)
