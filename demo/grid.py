"""Laying out one township's sheets the way clerks do (messy mode): title rows, merged two-level headers,
a 序号 column, blank rows, a 合计 row, header variants, and the many forms of the same value.

Every form written here reads back to the same canonical value (docs/data-model.md §1); the cells a
problem replaces (messy.py) are passed in raw and written as they are. The grid records where each data row
landed (Excel row) and each header as ingestion reports it (the cell text, trimmed).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from evalprep.template import Column, sheets

from .forms import SheetGrid
from .workbook import Style

EXCEL_EPOCH = dt.date(1899, 12, 30)
MONEY = {"net_income", "income_wage", "income_business", "income_property", "income_transfer", "income_per_capita",
         "collective_income"}
GROUPS = {  # two-level headers: group title over contiguous columns
    "households": ("收入情况", ("net_income", "income_wage", "income_business", "income_property", "income_transfer",
                             "income_per_capita")),
    "members": ("保险情况", ("insured_ncms", "insured_critical")),
}
TITLES = {
    "households": "建档立卡贫困户花名册", "members": "建档立卡贫困人口家庭成员信息表", "villages": "行政村基本情况表",
    "surveys": "群众满意度调查登记表", "projects": "双七项目推进情况表", "cover": "脱贫攻坚周报表填报说明",
}
# Header variants clerks write; every one maps to its column through the template's aliases (after folding
# full-width brackets and removing spaces and line breaks).
HEADER_VARIANTS = {
    "variants1": {
        "households": {"township_name": "乡（镇）", "village_name": "行政村 ", "village_code": "村编码", "head_name": "户主",
                       "head_id_number": "身份证号码 ", "household_size": "家庭人口", "exit_status": "脱贫状态",
                       "net_income": "家庭年纯收入（元）", "income_per_capita": "人均纯收入\n（元）",
                       "housing_safety": "住房安全状况", "safe_water": "饮水是否安全", "helper_phone": "帮扶责任人联系电话"},
        "members": {"id_number": "身份证号", "insured_ncms": "是否参加新农合", "insured_critical": "是否参加大病保险",
                    "work_months": "务工时间（月）"},
        "villages": {"village_code": "村编码", "rural_population": "农村人口", "safe_water_coverage": "安全饮水覆盖率（%）",
                     "has_paved_road": "通村硬化路", "telecom_carriers": "通讯网络覆盖"},
        "surveys": {"satisfaction": "满意度", "surveyed_on": "调查日期 "},
        "projects": {"investment_10k_yuan": "投资（万元）", "progress_pct": "完成进度（%）"},
    },
    "variants2": {
        "households": {"head_id_number": "证件号码", "head_name": "户主姓名 ", "poverty_cause": "主要致贫原因",
                       "income_per_capita": "人均纯收入", "net_income": "家庭年纯收入", "village_name": "村名"},
        "members": {"id_number": "身份证号码", "schooling": "在校生状况 ", "insured_ncms": "新农合", "insured_critical": "大病保险"},
        "villages": {"village_name": "村名称", "is_key_village": "重点村", "power_full_coverage": "用电全覆盖"},
        "projects": {"investment_10k_yuan": "投资"},
    },
}
_FULL_WIDTH = str.maketrans("0123456789.,X", "０１２３４５６７８９．，Ｘ")
_LOOSE_BRACKETS = str.maketrans("()", "（）")


@dataclass
class SheetPatch:
    """What a problem changes in one sheet: raw cells written instead of the formatted value, rows appended
    after the data (a duplicated row), an extra column nobody maps, template columns left out."""

    cells: dict[tuple[int, str], object] = field(default_factory=dict)  # (data position, column) → raw cell
    extra_rows: list[tuple] = field(default_factory=list)
    extra_column: tuple[str, dict[int, str]] | None = None  # (header, data position → text)
    drop_columns: tuple[str, ...] = ()


def header_text(style: Style, key: str, column: Column) -> str:
    return HEADER_VARIANTS.get(style.headers, {}).get(key, {}).get(column.name, column.header)


def sheet_name(style: Style, key: str) -> str:
    return dict(style.sheet_names).get(key, sheets()[key].name)


def _cycle(forms: tuple, position: int):
    return forms[position % len(forms)]


def _number_text(value: float) -> str:
    """3100 → 3,100; 3156.25 → 3,156.25 (the shortest decimals that read back to the same float)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    whole, frac = repr(float(value)).split(".")
    return f"{int(whole):,}.{frac}"


def format_cell(column: Column, value: object, style: Style, position: int) -> object:
    """The cell a clerk types for a canonical value, in the style's forms (None: an empty cell)."""
    if value is None:
        return None
    kind = column.kind
    if kind == "bool":
        yes, no = _cycle(style.bools, position)
        return yes if value else no
    if kind == "date":
        form = _cycle(style.dates, position + len(column.name))
        day = value if isinstance(value, dt.date) else value.date()
        if form == "date":
            return day
        if form == "serial":
            return (day - EXCEL_EPOCH).days
        if form == "iso":
            return day.isoformat()
        if form == "dots":
            return f"{day.year}.{day.month}.{day.day}"
        if form == "slash":
            return f"{day.year}/{day.month}/{day.day}"
        if form == "chinese":
            return f"{day.year}年{day.month}月{day.day}日"
        raise ValueError(form)
    if kind in ("int", "number", "percent"):
        number = float(value)
        if style.numbers == "text" and column.name in MONEY:
            return _number_text(number) + "元"
        if style.numbers == "text" and kind == "percent":
            return _number_text(number).replace(",", "") + "%"
        if style.numbers == "text" and column.name == "household_size":
            return f"{int(number)}人"
        if style.numbers == "fullwidth" and position % 3 == 0:
            return _number_text(number).replace(",", "").translate(_FULL_WIDTH)
        return int(number) if number.is_integer() else number
    if kind == "id_number":
        text = str(value)
        if style.ids in ("lower_x", "mixed"):
            text = text.replace("X", "x")
        if style.ids == "mixed" and position % 5 == 2:
            text = text.translate(_FULL_WIDTH)
        return text
    if kind == "code":
        if column.name == "village_code" and style.village_codes == "number":
            return int(value)
        return str(value)
    if kind.startswith("enum:"):
        text = str(value)
        if style.loose:
            text = text.translate(_LOOSE_BRACKETS) + (" " if position % 4 == 1 else "")
        return text
    if kind == "carriers":
        text = str(value)
        if style.loose and text != "无" and position % 2:
            return ",".join(f"中国{c}" for c in text.split("、"))
        return text
    text = str(value)
    if style.loose and position % 6 == 5:
        text += " "
    return text


def build_sheet(key: str, rows: list[tuple], style: Style, patch: SheetPatch | None, township_name: str,
                as_of: dt.date) -> SheetGrid:
    """One data sheet laid out in a style; `rows` are tuples in template column order."""
    patch = patch or SheetPatch()
    spec = sheets()[key]
    columns = [c for c in spec.columns if c.name not in patch.drop_columns]
    index = {c.name: i for i, c in enumerate(spec.columns)}
    grid = SheetGrid(key=key, name=sheet_name(style, key))
    lead = 1 if style.seq_column else 0
    width = lead + len(columns) + (1 if patch.extra_column else 0)

    for t in range(style.title_rows):
        text = (f"旬阳县{township_name}{TITLES[key]}" if t == 0 else
                f"填报单位：{township_name}人民政府（盖章）    统计截止日期：{as_of.year}年{as_of.month}月{as_of.day}日")
        grid.rows.append([text] + [None] * (width - 1))
        if width > 1:
            grid.merges.append((t, 0, t, width - 1))

    group_title, group_cols = GROUPS.get(key, ("", ()))
    in_group = [i for i, c in enumerate(columns) if c.name in group_cols] if style.two_level else []
    top = len(grid.rows)
    texts = [header_text(style, key, c) for c in columns]
    grid.written = {c.name: t.strip() for c, t in zip(columns, texts)}
    if in_group:
        upper: list = [None] * width
        lower: list = [None] * width
        if lead:
            upper[0] = "序号"
            grid.merges.append((top, 0, top + 1, 0))
        for i, text in enumerate(texts):
            c = lead + i
            if i in in_group:
                lower[c] = text
            else:
                upper[c] = text
                grid.merges.append((top, c, top + 1, c))
        first, last = lead + in_group[0], lead + in_group[-1]
        upper[first] = group_title
        if last > first:
            grid.merges.append((top, first, top, last))
        if patch.extra_column:
            upper[-1] = patch.extra_column[0]
            grid.merges.append((top, width - 1, top + 1, width - 1))
        grid.rows += [upper, lower]
        grid.header_rows = frozenset({top, top + 1})
    else:
        header = (["序号"] if lead else []) + texts + ([patch.extra_column[0]] if patch.extra_column else [])
        grid.rows.append(header)
        grid.header_rows = frozenset({top})

    data = list(rows) + list(patch.extra_rows)
    for position, row in enumerate(data):
        if style.blank_every and position and position % style.blank_every == 0:
            grid.rows.append([None] * width)
        cells: list = [position + 1] if lead else []
        for col in columns:
            if (position, col.name) in patch.cells:
                cells.append(patch.cells[(position, col.name)])
            else:
                cells.append(format_cell(col, row[index[col.name]], style, position))
        if patch.extra_column:
            cells.append(patch.extra_column[1].get(position))
        grid.rows.append(cells)
        grid.row_of.append(len(grid.rows))
    if style.total_row and key in ("households", "villages") and data:
        total: list = [None] * width
        total[0] = "合计"
        for i, col in enumerate(columns):
            if col.kind in ("int", "number") and col.name not in ("identified_year", "planned_exit_year", "household_id") \
                    and (lead or i):
                values = [r[index[col.name]] for r in rows if r[index[col.name]] is not None]
                total[lead + i] = round(sum(values), 2)
        grid.rows.append(total)
    grid.widths = ([6] if lead else []) + [max(10, min(24, len(t) * 2 + 2)) for t in texts] + \
        ([12] if patch.extra_column else [])
    return grid


def build_cover(row: tuple, style: Style, township_name: str) -> SheetGrid:
    """填报说明: a header row and one row, or label/value pairs down the sheet."""
    spec = sheets()["cover"]
    grid = SheetGrid(key="cover", name=sheet_name(style, "cover"))
    values = [format_cell(c, v, style, 0) for c, v in zip(spec.columns, row)]
    values[0] = f"旬阳县{township_name}" if style.cover == "pairs" else values[0]
    if style.cover == "pairs":
        grid.rows.append([f"旬阳县{township_name}{TITLES['cover']}", None])
        grid.merges.append((0, 0, 0, 1))
        for col, value in zip(spec.columns, values):
            grid.rows.append([col.header, value])
        grid.rows.append(["说明", "身份证号码、户编号请设为文本格式，请勿修改表头。"])
        grid.widths = [14, 40]
    else:
        grid.rows.append([c.header for c in spec.columns])
        grid.rows.append(values)
        grid.header_rows = frozenset({0})
        grid.widths = [14] * len(spec.columns)
    grid.written = {c.name: c.header for c in spec.columns}
    grid.row_of = [2]
    return grid
