"""The blank township workbook the county hands out: template headers, drop-down lists, instructions."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from evalprep.template import sheets, vocabularies

DICTIONARY_SHEET = "字典"
ROWS_WITH_LISTS = 5000
FIXED_CREATED = dt.datetime(2016, 9, 1)  # same template, same bytes

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
    for key, sheet in sheets().items():
        ws = book.add_worksheet(sheet.name)
        ws.freeze_panes(1, 0)
        ws.set_row(0, 32)
        for i, col in enumerate(sheet.columns):
            ws.write(0, i, ("*" if col.required else "") + col.header, required if col.required else header)
            width = max(10, len(col.header) * 2 + 2)
            fmt = text if col.kind in ("text", "code", "id_number", "carriers") or col.vocabulary else date if col.kind == "date" else None
            ws.set_column(i, i, 20 if col.kind == "id_number" else width, fmt)
            source = col.vocabulary or ("yes_no" if col.kind == "bool" else None)
            if source:
                ws.data_validation(1, i, ROWS_WITH_LISTS, i, {
                    "validate": "list", "source": lists[source],
                    "error_title": "请从下拉列表选择", "error_message": f"「{col.header}」只能填写下拉列表中的选项",
                })
        if key == "cover":
            ws.write(3, 0, "填报说明", book.add_format({"bold": True}))
            for r, line in enumerate(INSTRUCTIONS, start=4):
                ws.write(r, 0, line)
    _dictionary_sheet(book)  # last: Excel will not hide the first (active) sheet
    book.close()
    return path


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
