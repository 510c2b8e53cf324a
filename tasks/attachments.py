"""Spreadsheets beside the PDFs (same base name, .xlsx): the complete lists a short document only summarises.

Built from the same view models as the PDFs; every cell and property goes through the redaction gate on
the way out (evalprep/redaction.py), so an ID or phone number typed anywhere is masked; written with
xlsxwriter with a fixed creation date (the run's cut-off date), so the same inputs give the same bytes.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import xlsxwriter

from evalprep.print_setup import print_ready
from evalprep.redaction import redact_text, redact_value
from tasks.render.formatting import as_date


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name, (key, header, width) per column and the rows as dicts; `fill`: the keys of the
    columns a reader is asked to fill in (header in colour)."""

    name: str
    columns: tuple[tuple[str, str, int], ...]
    rows: Sequence[Mapping[str, Any]]
    fill: frozenset[str] = frozenset()


def xlsx_bytes(sheets: Sequence[Sheet], document: Mapping[str, str], as_of: Any) -> bytes:
    """An .xlsx workbook: a header row per sheet, frozen, filterable; text cells stay text (IDs, codes); each
    sheet print-ready (evalprep/print_setup.py: A4, one page wide, header row on every page)."""
    buffer = io.BytesIO()
    created = dt.datetime.combine(as_date(as_of), dt.time())
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False, "strings_to_urls": False})
    workbook.set_properties({"title": redact_text(document["title"]), "author": redact_text(document["author"]),
                             "created": created, "comments": redact_text(document["footer"])})
    header = workbook.add_format({"bold": True, "bg_color": "#EFEFEF", "border": 1, "text_wrap": True,
                                  "valign": "top", "font_name": "宋体"})
    to_fill = workbook.add_format({"bold": True, "bg_color": "#FFE699", "border": 1, "text_wrap": True,
                                   "valign": "top", "font_name": "宋体"})  # Sheet.fill: columns to fill in
    cell = workbook.add_format({"valign": "top", "text_wrap": True, "font_name": "宋体"})
    for sheet in sheets:
        worksheet = workbook.add_worksheet(redact_text(sheet.name))
        for index, (key, title, width) in enumerate(sheet.columns):
            worksheet.set_column(index, index, width, cell)
            worksheet.write_string(0, index, redact_text(title), to_fill if key in sheet.fill else header)
        for r, row in enumerate(sheet.rows, start=1):
            for c, (key, _, _) in enumerate(sheet.columns):
                value = redact_value(row.get(key))  # a phone typed into a number cell becomes its masked text
                if isinstance(value, bool):
                    worksheet.write_string(r, c, "是" if value else "否")
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    worksheet.write_number(r, c, value)
                elif value is None or value == "":
                    worksheet.write_blank(r, c, None)
                else:
                    worksheet.write_string(r, c, redact_text(str(value)))
        worksheet.freeze_panes(1, 0)
        if sheet.rows:
            worksheet.autofilter(0, 0, len(sheet.rows), len(sheet.columns) - 1)
        print_ready(worksheet, [width for _, _, width in sheet.columns], len(sheet.rows),
                    title=redact_text(document["title"]))
    workbook.close()
    return buffer.getvalue()


def _about(document: Mapping[str, str], lines: Sequence[tuple[str, Any]]) -> Sheet:
    rows = [{"item": "文件", "value": document["title"]}, {"item": "说明", "value": document["footer"]}]
    rows += [{"item": item, "value": value} for item, value in lines]
    return Sheet("说明", (("item", "项目", 14), ("value", "内容", 90)), rows)


HOUSEHOLD_GAP_COLUMNS = (
    ("household_id", "户编号", 19), ("head_name", "户主", 10), ("head_id", "户主身份证号（已隐藏）", 22),
    ("exit_status", "脱贫属性", 10), ("in_cohort", "脱贫户", 8), ("failing", "未达标指标", 36),
    ("helper", "帮扶责任人", 10), ("helper_phone", "帮扶责任人电话（已隐藏）", 16),
)
HOUSING_COLUMNS = (
    ("household_id", "户编号", 19), ("head_name", "户主", 10), ("head_id", "户主身份证号（已隐藏）", 22),
    ("exit_status", "脱贫属性", 10), ("housing_safety", "住房安全", 10), ("solution", "住房解决方式", 22),
    ("progress", "住房工程进度", 12), ("site", "安置点", 22), ("helper", "帮扶责任人", 10),
    ("helper_phone", "帮扶责任人电话（已隐藏）", 16),
)
PROJECT_COLUMNS = (
    ("project_id", "项目编号", 18), ("name", "项目名称", 30), ("criterion", "对应标准", 14),
    ("department", "主责部门", 16), ("lead", "工作主抓人", 10), ("responsible", "工作责任人", 10),
    ("approval", "审批状态", 9), ("build", "建设状态", 9), ("progress", "完成进度", 9), ("due", "计划完工日期", 15),
    ("problem_text", "问题", 30),
)
ISSUE_COLUMNS = (
    ("severity_text", "处理", 12), ("file", "文件", 30), ("sheet", "工作表", 12), ("row", "行", 7),
    ("column", "列", 14), ("message", "问题", 70),
)
# The department's answer columns (tasks/answers.py): headers filled in colour, the one part a department
# writes in before sending the file back to INBOX/<week>/departments/ (tasks/ingest/department_answers.py);
# they carry the answers in force, so a department only changes what changed. Nothing is protected.
DEPARTMENT_ANSWER_COLUMNS = (
    ("mechanism", "工作机制", 24), ("solution", "解决办法", 30), ("answer_lead", "工作主抓人", 12),
    ("answer_responsible", "工作责任人", 12), ("assessment", "具体考核机制", 24), ("due_date", "计划完成日期", 14),
)
ANSWER_HOWTO = ("在“问题清单”工作表的黄色表头列（工作机制、解决办法、工作主抓人、工作责任人、具体考核机制、计划完成日期）"
                "逐项填写，不要改动“问题编号”列和本“说明”工作表；保存为 .xlsx 后交县脱贫攻坚指挥部办公室，"
                "放入收件箱本周文件夹下的 departments 文件夹。已填写的回复会一直保留，内容有变化时改写即可。")
DEPARTMENT_ITEM_COLUMNS = (
    ("number", "序号", 6), ("item_id", "问题编号", 26), ("township", "乡镇", 10), ("village", "村", 10),
    ("village_code", "村代码", 14), ("key_village", "重点村", 8), ("grade", "评定", 8), ("problem", "问题", 44),
    ("impact", "影响", 26), ("lead", "项目所填主抓人", 12), ("responsible", "项目所填责任人", 12),
    *DEPARTMENT_ANSWER_COLUMNS,
)
DEPARTMENT_HOUSEHOLD_COLUMNS = (
    ("village_code", "村代码", 14), ("household_id", "户编号", 19), ("head_name", "户主", 10),
    ("head_id", "户主身份证号（已隐藏）", 22), ("exit_status", "脱贫属性", 10), ("failing", "未达标指标", 30),
    ("helper", "帮扶责任人", 10), ("helper_phone", "帮扶责任人电话（已隐藏）", 16),
)


def village_attachment(context: Mapping[str, Any]) -> list[Sheet]:
    """The dossier's complete lists: failing households, housing, 双七 projects, data problems."""
    cover = context["cover"]
    return [
        _about(context["document"], [("村", f"{cover['township']} {cover['village']}（{cover['village_code']}）"),
                                     ("评定", cover["grade"]), ("数据截止", cover["as_of"]),
                                     ("文档编号", cover["document_id"])]),
        Sheet("不达标建档立卡户", HOUSEHOLD_GAP_COLUMNS, context["household_gaps"]["complete"]),
        Sheet("住房", HOUSING_COLUMNS, context["housing"]["complete"]),
        Sheet("双七项目", PROJECT_COLUMNS, context["projects"]["complete"]),
        Sheet("数据问题", ISSUE_COLUMNS, context["data_quality"]["complete"]),
    ]


def department_attachment(context: Mapping[str, Any]) -> list[Sheet]:
    """A department's complete problem list and the households behind its household criteria."""
    overview = context["overview"]
    return [
        _about(context["document"], [("部门", overview["department"]), ("负责指标", overview["owned"]),
                                     ("问题项", overview["item_count"]), ("数据截止", overview["as_of"]),
                                     ("如何回复", ANSWER_HOWTO)]),
        Sheet("问题清单", DEPARTMENT_ITEM_COLUMNS, context["complete"],
              fill=frozenset(key for key, _, _ in DEPARTMENT_ANSWER_COLUMNS)),
        Sheet("涉及脱贫户", DEPARTMENT_HOUSEHOLD_COLUMNS, context["households"]),
    ]
