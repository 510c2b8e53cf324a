"""The blank township workbook the county hands out: template headers, drop-down lists, instructions."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from evalprep.print_setup import print_ready
from evalprep.template import sheets, vocabularies

DICTIONARY_SHEET = "字典"
ROWS_WITH_LISTS = 5000
FIXED_CREATED = dt.datetime(2016, 9, 1)  # same template, same bytes
BLANK_ROWS_PRINTED = 20  # a printed blank sheet: its header and this many empty rows, one page per sheet
INSTRUCTIONS_ROW = 3  # 0-based: 填报说明 under the cover's header and its one data row
LINE_HEIGHT = 15  # points per line of wrapped instruction text

INSTRUCTIONS = [
    "1. 每周一12:00前报送本镇上周数据，文件名：镇代码_镇名_YYYY-Www.xlsx（如 610928103_蜀河镇_2016-W39.xlsx）。",
    "2. 请勿修改表头、工作表名称和列的顺序；带 * 的列为必填项。",
    "3. 身份证号码、户编号、村代码等编号列已设为文本格式，请直接输入，不要改成数字格式，否则末几位会丢失。",
    "4. 有下拉列表的列，请从列表中选择，不要自行输入其他写法。",
    "5. 日期请填写为 2016-09-28 格式；金额只填数字，单位为元。",
    "6. 不要在表格中插入合计行、空行或说明文字。",
]


def write_blank_template(path: Path) -> Path:
    """Write the blank workbook: one sheet per template sheet, text-formatted code columns, drop-downs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": FIXED_CREATED, "title": "旬阳县脱贫攻坚周报表模板"})
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "vcenter", "border": 1, "bg_color": "#DDDDDD"})
    required = book.add_format({"bold": True, "text_wrap": True, "valign": "vcenter", "border": 1, "bg_color": "#F4CCCC"})
    text = book.add_format({"num_format": "@"})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    lists = _dictionary_refs()
    instruction = book.add_format({"text_wrap": True, "valign": "top"})
    for key, sheet in sheets().items():
        ws = book.add_worksheet(sheet.name)
        ws.freeze_panes(1, 0)
        ws.set_row(0, 32)
        widths = []
        for i, col in enumerate(sheet.columns):
            ws.write(0, i, ("*" if col.required else "") + col.header, required if col.required else header)
            # Wide enough for half the header on a line (it wraps to two in the 32-point header row), so a
            # wide sheet still prints legibly one page wide.
            width = 20 if col.kind == "id_number" else max(10, len(col.header) + 3)
            widths.append(width)
            fmt = text if col.kind in ("text", "code", "id_number", "carriers") or col.vocabulary else date if col.kind == "date" else None
            ws.set_column(i, i, width, fmt)
            source = col.vocabulary or ("yes_no" if col.kind == "bool" else None)
            if source:
                ws.data_validation(1, i, ROWS_WITH_LISTS, i, {
                    "validate": "list", "source": lists[source],
                    "error_title": "请从下拉列表选择", "error_message": f"「{col.header}」只能填写下拉列表中的选项",
                })
        last_row = BLANK_ROWS_PRINTED
        if key == "cover":
            ws.write(INSTRUCTIONS_ROW, 0, "填报说明", book.add_format({"bold": True}))
            for r, line in enumerate(INSTRUCTIONS, start=INSTRUCTIONS_ROW + 1):
                # Each line wrapped inside the sheet's columns (merged), so it prints whole on the page
                # instead of running past the last column; the row is as tall as its wrapped lines.
                lines = -(-_display_width(line) // max(1, sum(widths) - 2))
                ws.set_row(r, LINE_HEIGHT * lines + 3)
                ws.merge_range(r, 0, r, len(sheet.columns) - 1, line, instruction)
            last_row = INSTRUCTIONS_ROW + len(INSTRUCTIONS)
        print_ready(ws, widths, last_row, title="旬阳县脱贫攻坚周报表")
    _dictionary_sheet(book)  # last: Excel will not hide the first (active) sheet
    book.close()
    return path


def _display_width(text: str) -> int:
    """Width in Excel character units: a Chinese character (or full-width sign) takes two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _lists() -> dict[str, tuple[str, ...]]:
    return {**vocabularies(), "yes_no": ("是", "否")}


def _dictionary_refs() -> dict[str, str]:
    """Vocabulary → the range of its column on the dictionary sheet."""
    refs = {}
    for i, (name, values) in enumerate(_lists().items()):
        col = xl_col_to_name(i)
        refs[name] = f"='{DICTIONARY_SHEET}'!${col}$2:${col}${len(values) + 1}"
    return refs


def _dictionary_sheet(book) -> None:
    """A hidden sheet with one column per vocabulary, the source of every drop-down list."""
    ws = book.add_worksheet(DICTIONARY_SHEET)
    for i, (name, values) in enumerate(_lists().items()):
        ws.write(0, i, name)
        ws.write_column(1, i, list(values))
    ws.hide()
