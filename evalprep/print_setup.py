"""Print settings for every spreadsheet evalprep writes (xlsxwriter worksheets): A4, one page wide, landscape
when the columns are wide, the header row(s) repeated on every page, a print area that ends at the data, and
the sheet name and page numbers in the header and footer. Light (xlsxwriter only)."""
from __future__ import annotations

from collections.abc import Sequence

A4 = 9  # the paper size code of Excel's PageSetup (and of xlsxwriter's set_paper)
# Column widths (Excel character units, about 2 mm each at the default font) that fit across A4 portrait
# within the margins below; wider sheets are printed landscape (about 130 units), every sheet fit to one page
# wide, so landscape only keeps the scaling gentle.
PORTRAIT_WIDTH = 88
MARGIN_SIDES = 0.5  # inches (xlsxwriter's unit): 1.27 cm
MARGIN_TOP_BOTTOM = 0.75  # 1.9 cm, room for the header and footer
HEADER = "&C&A"  # the sheet name
FOOTER = "&C第 &P 页，共 &N 页"


def print_ready(worksheet, widths: Sequence[float], last_row: int, header_rows: int = 1,
                title: str = "") -> None:
    """Make `worksheet` print well: A4, landscape when sum(widths) > PORTRAIT_WIDTH, fit to one page wide and
    as many tall as needed, rows 1..`header_rows` repeated on every page, print area A1 to the last column
    and `last_row` (0-based, inclusive), `title` (already redacted; '' for none) at the header's left, the
    sheet name in its centre, "第 n 页，共 m 页" in the footer. Call once per sheet, after writing it."""
    columns = max(1, len(widths))
    worksheet.set_paper(A4)
    if sum(widths) > PORTRAIT_WIDTH:
        worksheet.set_landscape()
    else:
        worksheet.set_portrait()
    worksheet.fit_to_pages(1, 0)
    worksheet.set_margins(left=MARGIN_SIDES, right=MARGIN_SIDES, top=MARGIN_TOP_BOTTOM, bottom=MARGIN_TOP_BOTTOM)
    worksheet.center_horizontally()
    if header_rows:
        worksheet.repeat_rows(0, header_rows - 1)
    worksheet.print_area(0, 0, max(last_row, header_rows - 1, 0), columns - 1)
    header = HEADER if not title else f"&L{_escape(title)}{HEADER}"
    worksheet.set_header(header, {"margin": 0.3})
    worksheet.set_footer(FOOTER, {"margin": 0.3})


def _escape(text: str) -> str:
    """A literal text in a header or footer: '&' doubled (it starts a control code), at most 60 characters
    (Excel refuses a header longer than 255 in all)."""
    return text.replace("&", "&&")[:60]
