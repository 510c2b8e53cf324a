"""Writing one township's weekly submission workbook with xlsxwriter (clean mode).

Clean mode: the header in row 1 with exactly the template's headers, data from row 2; codes and ID
numbers as text, booleans as 是/否, dates as real Excel dates, numbers as numbers, blanks left empty.
Messy mode (title rows, merged two-level headers, header variants, other value forms …) is another Style,
laid out by grid.py and written by forms.py; write_workbook below only writes the clean style.
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
    """How a sheet is laid out; the manifest asks it for the Excel row of each data row (clean style).

    The fields after header_row describe the messy layouts (grid.py); their defaults are the clean form.
    Value forms given as tuples are cycled row by row, so one sheet mixes them as clerks do.
    """

    name: str = "clean"
    header_row: int = 1  # Excel row number of the header (1-based)
    title_rows: int = 0  # title rows above the header (旬阳县XX镇建档立卡贫困户花名册, 填报单位…)
    two_level: bool = False  # merged two-level header: 收入情况 over the incomes, 保险情况 over the insurances
    seq_column: bool = False  # a 序号 column in front
    blank_every: int = 0  # a blank row after every n data rows (0: none)
    total_row: bool = False  # a 合计 row under the data (households, villages)
    headers: str = "template"  # template | variants1 | variants2 (aliases, full-width brackets, spaces, line breaks)
    bools: tuple = (("是", "否"),)  # (true, false) forms, cycled; numbers 1/0 are number cells
    dates: tuple[str, ...] = ("date",)  # date (a date cell) | serial | iso | dots | chinese | slash, cycled
    numbers: str = "number"  # number | text (3,100元 on money columns) | fullwidth (every third row)
    ids: str = "text"  # text | lower_x | mixed (lower-case x, and full-width digits every fifth row)
    village_codes: str = "text"  # text | number (12-digit codes typed as numbers: harmless, < 15 digits)
    loose: bool = False  # full-width brackets and trailing spaces in dictionary values, carriers as 中国移动,…
    order: tuple[str, ...] = ("cover", "households", "members", "villages", "surveys", "projects")
    sheet_names: tuple[tuple[str, str], ...] = ()  # sheet key → name written, where not the template's
    cover: str = "table"  # table (header + one row) | pairs (label, value down the sheet)

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
