"""Writing one township's weekly submission workbook with xlsxwriter (clean mode).

Clean mode: the header in row 1 with exactly the template's headers, data from row 2; codes and ID
numbers as text, booleans as 是/否, dates as real Excel dates, numbers as numbers, blanks left empty.
A later messy mode (title rows, header variants, IDs typed as numbers …) plugs in as another Style.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from evalprep.template import Column, sheets

from .table import Table

SHEET_ORDER = ("cover", "households", "members", "villages", "surveys", "projects")
TEXT_KINDS = ("text", "code", "id_number", "carriers")
WIDTHS = {"id_number": 21, "code": 18, "date": 12, "text": 14, "carriers": 16}


@dataclass(frozen=True)
class Style:
    """How a sheet is laid out; the manifest asks it for the Excel row of each data row."""

    name: str = "clean"
    header_row: int = 1  # Excel row number of the header (1-based)

    def data_row(self, position: int) -> int:
        """Excel row number (1-based) of the data row at 0-based `position`."""
        return self.header_row + 1 + position


CLEAN = Style()


def township_rows(table: Table, columns: list[str], start: int, stop: int) -> list[tuple]:
    """The rows [start, stop) of a table as tuples in template column order."""
    return list(zip(*(table[c][start:stop] for c in columns)))


def write_workbook(path: Path, data: dict[str, list[tuple]], created: dt.datetime, style: Style = CLEAN) -> None:
    """Write one submission: `data` maps sheet key → rows (tuples in template column order)."""
    if style.name != "clean":
        raise NotImplementedError(style.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False,
    })
    wb.set_properties({"created": created, "author": "旬阳县脱贫攻坚指挥部办公室", "title": path.stem})
    header_fmt = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "bg_color": "#DDEBF7",
                                "border": 1})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    spec = sheets()
    for key in SHEET_ORDER:
        sheet = spec[key]
        ws = wb.add_worksheet(sheet.name)
        _write_sheet(ws, list(sheet.columns), data.get(key, []), header_fmt, date_fmt, style)
    wb.close()


def _write_sheet(ws, columns: list[Column], rows: list[tuple], header_fmt, date_fmt, style: Style) -> None:
    header = style.header_row - 1
    for c, col in enumerate(columns):
        ws.set_column(c, c, max(WIDTHS.get(col.kind, 10), len(col.header) * 2 + 2))
        ws.write_string(header, c, col.header, header_fmt)
    ws.freeze_panes(header + 1, 0)
    write_string, write_number, write_datetime = ws.write_string, ws.write_number, ws.write_datetime
    midnight = dt.time()

    def yes_no(r: int, c: int, value: bool) -> None:
        write_string(r, c, "是" if value else "否")

    def date(r: int, c: int, value: dt.date) -> None:
        write_datetime(r, c, dt.datetime.combine(value, midnight), date_fmt)

    writers = []
    for col in columns:
        kind = col.kind
        if kind in ("int", "number", "percent"):
            writers.append(write_number)
        elif kind == "bool":
            writers.append(yes_no)
        elif kind == "date":
            writers.append(date)
        else:  # text, codes, ID numbers, dictionary values: always text
            writers.append(write_string)
    cells = list(enumerate(writers))
    r = header + 1
    for row in rows:
        for (c, write), value in zip(cells, row):
            if value is not None:
                write(r, c, value)
        r += 1
