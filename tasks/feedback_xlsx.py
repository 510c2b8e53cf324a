"""A township's own .xlsx workbook patched in place: marked cells (a fill and a comment), cells written, and a
first sheet listing the problems with a link to each cell.

The package is edited part by part, never loaded into an object model and written again: a 3,000-row sheet
costs a few hundred milliseconds instead of the ≈ 12 s openpyxl takes to load and save it, and everything this
module does not touch (drop-down lists including Excel 2010's cross-sheet ones, formats, merged cells, column
widths, pictures) stays byte for byte as the clerk had it. Only the parts that change are rewritten:
the sheets with marks (their marked rows only), styles.xml (one fill, clones of the styles the marked cells
use, the list sheet's styles), workbook.xml and its relationships (the list sheet first), the content types,
a comments part and its VML drawing per marked sheet, and the document properties (fixed, so the same inputs
give the same bytes; every zip entry carries the same fixed timestamp).

A workbook this module cannot patch safely (rows or cells without their reference, a sheet that already has
comments or a legacy drawing, a prefix-free part it does not find) raises Unpatchable; the caller then builds
the workbook from the blank template instead."""
from __future__ import annotations

import datetime as dt
import io
import math
import posixpath
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKSHEET_TYPE = DOC_REL + "/worksheet"
COMMENTS_TYPE = DOC_REL + "/comments"
VML_TYPE = DOC_REL + "/vmlDrawing"
OFFICE_DOCUMENT = DOC_REL + "/officeDocument"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MARK_FILL = "FFFFC000"  # amber: clear on screen, still readable printed in grey
COMMENT_AUTHOR = "县脱贫攻坚指挥部"
KEEP = object()  # a cell's content left as the clerk wrote it

# Worksheet children that must come after <legacyDrawing> (ECMA-376 CT_Worksheet order).
AFTER_LEGACY_DRAWING = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                        "tableParts", "extLst")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


class Unpatchable(Exception):
    """The workbook has a shape this module does not edit safely."""


@dataclass
class Cell:
    """What becomes of one cell: its value (KEEP: unchanged) and, when marked, the comment it carries."""

    value: object = KEEP
    comment: str | None = None


@dataclass
class ListSheet:
    """The first sheet: a few lines of text on top, then a table; `links[i]` is the cell table row i points at."""

    name: str
    lines: Sequence[str]
    columns: Sequence[tuple[str, float]]  # header, width
    rows: Sequence[Sequence[object]]
    links: Mapping[int, tuple[str, str]] = field(default_factory=dict)  # row index → (sheet, "C3127")
    link_text: str = "转到该单元格"


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index


def cell_ref(row: int, column: int) -> str:
    return f"{column_letter(column)}{row}"


def _split_ref(ref: str) -> tuple[int, int]:
    match = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+)", ref)
    if not match:
        raise Unpatchable(f"cell reference {ref!r}")
    return int(match.group(2)), _column_index(match.group(1))


def xml_text(value: object) -> str:
    text = str(value)
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("", text)
    if "&" in text or "<" in text or ">" in text or '"' in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return text


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTR.finditer(text)}


def _attr_text(attrs: Mapping[str, str]) -> str:
    return "".join(f' {k}="{v}"' for k, v in attrs.items())


def _prefix(xml: str, element: str) -> str:
    """The namespace prefix (with its colon) the root `element` is written with, '' when none."""
    match = re.search(rf"<((?:[\w.-]+:)?){element}[\s>/]", xml)
    if not match:
        raise Unpatchable(f"no <{element}>")
    return match.group(1)


def sheet_name_in_formula(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


# ---- styles ------------------------------------------------------------------------------------------------

class Styles:
    """styles.xml with a mark fill, a marked clone of each style a marked cell had, and the list sheet's styles."""

    def __init__(self, xml: str) -> None:
        self.xml, self.p = xml, _prefix(xml, "styleSheet")
        self.fills = self._count("fills", "fill")
        self.fonts = self._count("fonts", "font")
        body = self._body("cellXfs")
        self.xfs = re.findall(rf"<{self.p}xf\b[^>]*?(?:/>|>.*?</{self.p}xf>)", body, re.S)
        if not self.xfs:
            raise Unpatchable("styles.xml without cellXfs")
        self.new_fills: list[str] = []
        self.new_fonts: list[str] = []
        self.new_xfs: list[str] = []
        self._marked: dict[int, int] = {}
        p = self.p
        self.mark_fill = self._fill(MARK_FILL)
        grey = self._fill("FFD9D9D9")
        bold = self._font(f"<{p}b/><{p}sz val=\"11\"/><{p}name val=\"宋体\"/><{p}family val=\"3\"/><{p}charset val=\"134\"/>")
        plain = self._font(f"<{p}sz val=\"11\"/><{p}name val=\"宋体\"/><{p}family val=\"3\"/><{p}charset val=\"134\"/>")
        link = self._font(f"<{p}u/><{p}sz val=\"11\"/><{p}color rgb=\"FF0563C1\"/><{p}name val=\"宋体\"/>"
                          f"<{p}family val=\"3\"/><{p}charset val=\"134\"/>")
        title = self._font(f"<{p}b/><{p}sz val=\"14\"/><{p}name val=\"宋体\"/><{p}family val=\"3\"/><{p}charset val=\"134\"/>")
        wrap = f"<{p}alignment vertical=\"top\" wrapText=\"1\"/>"
        self.header = self._xf(bold, grey, wrap)
        self.text = self._xf(plain, 0, wrap)
        self.link = self._xf(link, 0, wrap)
        self.title = self._xf(title, 0, "")
        self.note = self._xf(plain, 0, "")

    def _body(self, outer: str) -> str:
        match = re.search(rf"<{self.p}{outer}\b[^>]*>(.*?)</{self.p}{outer}>", self.xml, re.S)
        if not match:
            raise Unpatchable(f"styles.xml without <{outer}>")
        return match.group(1)

    def _count(self, outer: str, inner: str) -> int:
        return len(re.findall(rf"<{self.p}{inner}\b", self._body(outer)))

    def _fill(self, rgb: str) -> int:
        p = self.p
        self.new_fills.append(f"<{p}fill><{p}patternFill patternType=\"solid\"><{p}fgColor rgb=\"{rgb}\"/>"
                              f"<{p}bgColor indexed=\"64\"/></{p}patternFill></{p}fill>")
        return self.fills + len(self.new_fills) - 1

    def _font(self, inner: str) -> int:
        self.new_fonts.append(f"<{self.p}font>{inner}</{self.p}font>")
        return self.fonts + len(self.new_fonts) - 1

    def _xf(self, font: int, fill: int, alignment: str) -> int:
        p = self.p
        attrs = f' numFmtId="0" fontId="{font}" fillId="{fill}" borderId="0" xfId="0" applyFont="1"'
        attrs += ' applyFill="1"' if fill else ""
        attrs += ' applyAlignment="1"' if alignment else ""
        self.new_xfs.append(f"<{p}xf{attrs}>{alignment}</{p}xf>" if alignment else f"<{p}xf{attrs}/>")
        return len(self.xfs) + len(self.new_xfs) - 1

    def marked(self, style: int | None) -> int:
        """The style a marked cell gets: its own (number format, font, border, alignment) with the mark fill."""
        style = style or 0
        if style not in self._marked:
            if style >= len(self.xfs):
                style = 0
            original = self.xfs[style]
            head = re.match(rf"<{self.p}xf\b([^>]*?)(/?)>", original)
            attrs = _attrs(head.group(1))
            attrs["fillId"] = str(self.mark_fill)
            attrs["applyFill"] = "1"
            self.new_xfs.append(f"<{self.p}xf{_attr_text(attrs)}{head.group(2)}>" + original[head.end():])
            self._marked[style] = len(self.xfs) + len(self.new_xfs) - 1
        return self._marked[style]

    def to_xml(self) -> str:
        xml = self.xml
        for outer, inner, added, total in (("fills", "fill", self.new_fills, self.fills),
                                           ("fonts", "font", self.new_fonts, self.fonts),
                                           ("cellXfs", "xf", self.new_xfs, len(self.xfs))):
            match = re.search(rf"<{self.p}{outer}\b([^>]*)>(.*?)</{self.p}{outer}>", xml, re.S)
            attrs = _attrs(match.group(1))
            attrs["count"] = str(total + len(added))
            replacement = f"<{self.p}{outer}{_attr_text(attrs)}>{match.group(2)}{''.join(added)}</{self.p}{outer}>"
            xml = xml[:match.start()] + replacement + xml[match.end():]
        return xml


# ---- worksheets --------------------------------------------------------------------------------------------

def _cell_xml(p: str, ref: str, style: int | None, value: object, extra: Mapping[str, str] | None = None) -> str:
    if extra is None and isinstance(value, str) and value:  # the common case, kept cheap (template fills)
        s = f' s="{style}"' if style is not None else ""
        return (f'<{p}c r="{ref}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">{xml_text(value)}'
                f"</{p}t></{p}is></{p}c>")
    attrs = {"r": ref, **(extra or {})}
    if style is not None:
        attrs["s"] = str(style)
    if value is None or value == "" or value is KEEP:
        return f"<{p}c{_attr_text(attrs)}/>"
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, int) or isinstance(value, float) and math.isfinite(value):
        number = repr(float(value)) if isinstance(value, float) and not value.is_integer() else str(int(value))
        return f"<{p}c{_attr_text(attrs)}><{p}v>{number}</{p}v></{p}c>"
    if isinstance(value, dt.datetime):
        value = value.strftime("%Y-%m-%d") if value.time() == dt.time() else value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, dt.date):
        value = value.isoformat()
    attrs["t"] = "inlineStr"
    return f"<{p}c{_attr_text(attrs)}><{p}is><{p}t xml:space=\"preserve\">{xml_text(value)}</{p}t></{p}is></{p}c>"


def _column_styles(xml: str, p: str) -> dict[int, int]:
    """Column index → the default style its <col> gives (what a new cell in that column should look like)."""
    styles = {}
    for match in re.finditer(rf"<{p}col\b([^>]*?)/?>", xml):
        attrs = _attrs(match.group(1))
        if "style" in attrs and "min" in attrs and "max" in attrs:
            for index in range(int(attrs["min"]), min(int(attrs["max"]), 16384) + 1):
                styles[index] = int(attrs["style"])
    return styles


class _SheetPatch:
    def __init__(self, xml: str, cells: Mapping[tuple[int, int], Cell], styles: Styles) -> None:
        self.xml, self.cells, self.styles = xml, cells, styles
        self.p = _prefix(xml, "worksheet")
        self.columns = _column_styles(xml[:xml.find("sheetData")], self.p)

    def _style(self, old: int | None, column: int, cell: Cell) -> int | None:
        base = old if old is not None else self.columns.get(column)
        return self.styles.marked(base) if cell.comment is not None else base

    def _patch_cell(self, attrs_text: str, body: str | None, column: int, cell: Cell) -> str:
        attrs = _attrs(attrs_text)
        old = int(attrs["s"]) if "s" in attrs else None
        style = self._style(old, column, cell)
        if cell.value is KEEP:
            if style is not None:
                attrs["s"] = str(style)
            tag = f"<{self.p}c{_attr_text(attrs)}"
            return f"{tag}/>" if body is None else f"{tag}>{body}</{self.p}c>"
        keep = {k: v for k, v in attrs.items() if k not in ("r", "s", "t", "cm", "vm")}
        return _cell_xml(self.p, attrs["r"], style, cell.value, keep)

    def _new_cell(self, row: int, column: int, cell: Cell) -> str:
        return _cell_xml(self.p, cell_ref(row, column), self._style(None, column, cell), cell.value)

    def _patch_row(self, number: int, attrs_text: str, body: str | None, edits: dict[int, Cell]) -> str:
        p = self.p
        attrs = _attrs(attrs_text)
        attrs.pop("spans", None)  # an optimisation hint that new cells may not fit
        pieces, pending = [], sorted(edits)
        for match in re.finditer(rf"<{p}c\b([^>]*?)(?:/>|>(.*?)</{p}c>)", body or "", re.S):
            ref = _attrs(match.group(1)).get("r")
            if ref is None:
                raise Unpatchable("a cell without its reference")
            row, column = _split_ref(ref)
            if row != number:
                raise Unpatchable(f"cell {ref} in row {number}")
            while pending and pending[0] < column:
                pieces.append(self._new_cell(number, pending[0], edits[pending.pop(0)]))
            if pending and pending[0] == column:
                pieces.append(self._patch_cell(match.group(1), match.group(2), column, edits[pending.pop(0)]))
            else:
                pieces.append(match.group(0))
        pieces += [self._new_cell(number, c, edits[c]) for c in pending]
        return f"<{p}row{_attr_text(attrs)}>{''.join(pieces)}</{p}row>"

    def patched(self) -> str:
        p, xml = self.p, self.xml
        by_row: dict[int, dict[int, Cell]] = {}
        for (row, column), cell in self.cells.items():
            by_row.setdefault(row, {})[column] = cell
        empty = re.search(rf"<{p}sheetData\s*/>", xml)
        if empty:
            start = end = empty.start()
            xml = xml[:start] + f"<{p}sheetData></{p}sheetData>" + xml[empty.end():]
            start = end = start + len(f"<{p}sheetData>")
        else:
            opening = re.search(rf"<{p}sheetData\b[^>]*>", xml)
            if not opening:
                raise Unpatchable("a worksheet without sheetData")
            start = opening.end()
            end = xml.index(f"</{p}sheetData>", start)
        body = xml[start:end]
        pieces: list[str] = []
        pending = sorted(by_row)
        last = 0
        for match in re.finditer(rf"<{p}row\b([^>]*?)(?:/>|>(.*?)</{p}row>)", body, re.S):
            number = _attrs(match.group(1)).get("r")
            if number is None:
                raise Unpatchable("a row without its number")
            number = int(number)
            if not pending or pending[0] > number:
                continue  # untouched: copied with the text between matches
            pieces.append(body[last:match.start()])
            while pending and pending[0] < number:
                pieces.append(self._patch_row(pending[0], f' r="{pending[0]}"', None, by_row[pending.pop(0)]))
            if pending and pending[0] == number:
                pending.pop(0)
                pieces.append(self._patch_row(number, match.group(1), match.group(2), by_row[number]))
            else:
                pieces.append(match.group(0))
            last = match.end()
        pieces.append(body[last:])
        pieces += [self._patch_row(r, f' r="{r}"', None, by_row[r]) for r in pending]
        xml = xml[:start] + "".join(pieces) + xml[end:]
        return self._dimension(xml, by_row)

    def _dimension(self, xml: str, by_row: Mapping[int, Mapping[int, Cell]]) -> str:
        if not by_row:
            return xml
        match = re.search(rf'<{self.p}dimension ref="([^"]*)"\s*/>', xml)
        if not match:
            return xml
        rows, columns = [max(by_row)], [max(max(c) for c in by_row.values())]
        for ref in match.group(1).split(":"):
            try:
                r, c = _split_ref(ref)
            except Unpatchable:
                continue
            rows.append(r)
            columns.append(c)
        ref = f"A1:{cell_ref(max(rows), max(columns))}"
        return xml[:match.start()] + f'<{self.p}dimension ref="{ref}"/>' + xml[match.end():]


def _add_legacy_drawing(xml: str, p: str, rel_id: str) -> str:
    element = f'<{p}legacyDrawing xmlns:fbr="{DOC_REL}" fbr:id="{rel_id}"/>'
    positions = [m.start() for name in AFTER_LEGACY_DRAWING for m in [re.search(rf"<{p}{name}\b", xml)] if m]
    at = min(positions) if positions else xml.rindex(f"</{p}worksheet>")
    return xml[:at] + element + xml[at:]


def _unselect(xml: str, p: str) -> str:
    """The sheet no longer selected (the list sheet is): two selected tabs would open grouped."""
    cut = xml.find("sheetData")
    head = re.sub(r'\stabSelected="(?:1|true)"', "", xml[:cut])
    return head + xml[cut:]


def _comments_xml(comments: Mapping[tuple[int, int], str]) -> str:
    items = "".join(
        f'<comment ref="{cell_ref(r, c)}" authorId="0"><text><r><rPr><b/><sz val="9"/><rFont val="宋体"/>'
        f'<charset val="134"/></rPr><t xml:space="preserve">{xml_text(COMMENT_AUTHOR)}：</t></r>'
        f'<r><rPr><sz val="9"/><rFont val="宋体"/><charset val="134"/></rPr>'
        f'<t xml:space="preserve">{xml_text(text)}</t></r></text></comment>'
        for (r, c), text in sorted(comments.items()))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{MAIN}"><authors>'
            f"<author>{xml_text(COMMENT_AUTHOR)}</author></authors><commentList>{items}</commentList></comments>")


def _vml_xml(comments: Mapping[tuple[int, int], str], block: int) -> str:
    shapes = []
    for n, ((r, c), _) in enumerate(sorted(comments.items()), start=1):
        shapes.append(
            f'<v:shape id="_x0000_s{block * 1024 + n}" type="#_x0000_t202" style="position:absolute;'
            f'margin-left:80pt;margin-top:2pt;width:220pt;height:80pt;z-index:{n};visibility:hidden" '
            f'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            f'<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            f'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/></v:textbox>'
            f'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f'<x:Anchor>{c}, 15, {max(r - 2, 0)}, 2, {c + 4}, 15, {max(r - 2, 0) + 6}, 4</x:Anchor>'
            f'<x:AutoFill>False</x:AutoFill><x:Row>{r - 1}</x:Row><x:Column>{c - 1}</x:Column></x:ClientData>'
            f"</v:shape>")
    return ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel">'
            f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>'
            '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
            '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
            + "".join(shapes) + "</xml>")


def _list_sheet_xml(sheet: ListSheet, styles: Styles) -> str:
    rows, links = [], []
    top = len(sheet.lines)
    for r, line in enumerate(sheet.lines, start=1):
        style = styles.title if r == 1 else styles.note
        rows.append(f'<row r="{r}">{_cell_xml("", cell_ref(r, 1), style, line)}</row>')
    header_row = top + 2
    rows.append(f'<row r="{header_row}">' + "".join(
        _cell_xml("", cell_ref(header_row, c), styles.header, title) for c, (title, _) in enumerate(sheet.columns, 1))
        + "</row>")
    link_column = len(sheet.columns) + 1
    rows[-1] = rows[-1][:-len("</row>")] + _cell_xml("", cell_ref(header_row, link_column), styles.header, "位置") + "</row>"
    for i, values in enumerate(sheet.rows):
        r = header_row + 1 + i
        cells = [_cell_xml("", cell_ref(r, c), styles.text, v) for c, v in enumerate(values, start=1)]
        if i in sheet.links:
            target_sheet, ref = sheet.links[i]
            cells.append(_cell_xml("", cell_ref(r, link_column), styles.link, sheet.link_text))
            location = xml_text(f"{sheet_name_in_formula(target_sheet)}!{ref}")
            links.append(f'<hyperlink ref="{cell_ref(r, link_column)}" location="{location}" '
                         f'display="{xml_text(sheet.link_text)}"/>')
        rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    widths = [w for _, w in sheet.columns] + [14]
    cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>' for c, w in enumerate(widths, start=1))
    last = cell_ref(header_row + len(sheet.rows), link_column)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}" '
            f'xmlns:r="{DOC_REL}"><sheetPr><tabColor rgb="FFC00000"/><pageSetUpPr fitToPage="1"/></sheetPr><dimension ref="A1:{last}"/>'
            f'<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="{header_row}" '
            f'topLeftCell="A{header_row + 1}" activePane="bottomLeft" state="frozen"/>'
            f'<selection pane="bottomLeft" activeCell="A{header_row + 1}" sqref="A{header_row + 1}"/></sheetView>'
            f'</sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
            f'<sheetData>{"".join(rows)}</sheetData>'
            + (f'<hyperlinks>{"".join(links)}</hyperlinks>' if links else "")
            + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>')  # A4, one page wide


# ---- the package -------------------------------------------------------------------------------------------

def _rels(xml: str) -> list[dict[str, str]]:
    root = ElementTree.fromstring(xml)
    return [dict(el.attrib) for el in root if el.tag == f"{{{PKG_REL}}}Relationship"]


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _add_relationships(xml: str | None, new: Sequence[tuple[str, str, str]]) -> str:
    items = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{xml_text(g)}"/>' for i, t, g in new)
    if xml is None:
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL}">'
                f"{items}</Relationships>")
    at = xml.rindex("</")
    return xml[:at] + items + xml[at:]


def _free_id(existing: set[str], stem: str) -> str:
    n = 1
    while f"{stem}{n}" in existing:
        n += 1
    existing.add(f"{stem}{n}")
    return f"{stem}{n}"


def _free_part(names: set[str], pattern: str) -> str:
    n = 1
    while pattern.format(n) in names:
        n += 1
    names.add(pattern.format(n))
    return pattern.format(n)


def core_properties(title: str, created: dt.datetime) -> str:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{xml_text(title)}</dc:title><dc:creator>{xml_text(COMMENT_AUTHOR)}</dc:creator>"
            f'<cp:lastModifiedBy>{xml_text(COMMENT_AUTHOR)}</cp:lastModifiedBy>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>')


APP_PROPERTIES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
                  'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
                  "<Application>Microsoft Excel</Application></Properties>")


def fixed_zip(parts: Sequence[tuple[str, bytes]]) -> bytes:
    """A zip of `parts` in the given order, every entry with the same timestamp and permissions."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def normalised(data: bytes, title: str, created: dt.datetime) -> bytes:
    """An xlsx written by a library, with fixed document properties and zip entry times."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = [(i.filename, archive.read(i)) for i in archive.infolist()]
    out = []
    for name, body in parts:
        if name == "docProps/core.xml":
            body = core_properties(title, created).encode("utf-8")
        out.append((name, body))
    return fixed_zip(out)


def patch_workbook(data: bytes, cells: Mapping[str, Mapping[tuple[int, int], Cell]], first: ListSheet,
                   title: str, created: dt.datetime) -> bytes:
    """`data` (an .xlsx) with `cells` (sheet name → (row, column) → Cell) edited, marked cells filled and
    commented, and `first` inserted as the first, selected sheet."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise Unpatchable(str(exc)) from None
    with archive:
        names = [i.filename for i in archive.infolist()]
        parts = {name: archive.read(name) for name in names}
    text = {}

    def read(name: str) -> str:
        if name not in text:
            if name not in parts:
                raise Unpatchable(f"no part {name}")
            text[name] = parts[name].decode("utf-8")
        return text[name]

    try:
        package_rels = _rels(read("_rels/.rels"))
        workbook = next(_resolve("", r["Target"]) for r in package_rels if r.get("Type") == OFFICE_DOCUMENT)
        workbook_rels_path = _rels_path(workbook)
        workbook_rels = _rels(read(workbook_rels_path))
        styles_part = next(_resolve(workbook, r["Target"]) for r in workbook_rels if r.get("Type", "").endswith("/styles"))
        book_root = ElementTree.fromstring(read(workbook))
    except (StopIteration, ElementTree.ParseError, UnicodeDecodeError) as exc:
        raise Unpatchable(f"package: {exc}") from None
    sheets = [(el.get("name"), el.get(f"{{{DOC_REL}}}id"), int(el.get("sheetId", "0")))
              for el in book_root.iter(f"{{{MAIN}}}sheet")]
    targets = {r["Id"]: _resolve(workbook, r["Target"]) for r in workbook_rels if r.get("Type") == WORKSHEET_TYPE}
    sheet_parts = {name: targets[rid] for name, rid, _ in sheets if rid in targets}
    unknown = set(cells) - set(sheet_parts)
    if unknown:
        raise Unpatchable(f"sheets not found: {sorted(unknown)}")
    if first.name in sheet_parts:
        raise Unpatchable(f"the workbook already has a sheet {first.name}")

    styles = Styles(read(styles_part))
    all_names = set(parts)
    content_types = read("[Content_Types].xml")
    overrides: list[tuple[str, str]] = []
    for block, (name, part) in enumerate(sheet_parts.items(), start=1):
        xml = read(part)
        p = _prefix(xml, "worksheet")
        edits = cells.get(name, {})
        if edits:
            xml = _SheetPatch(xml, edits, styles).patched()
        comments = {key: cell.comment for key, cell in edits.items() if cell.comment is not None}
        if comments:
            rels_path = _rels_path(part)
            existing = _rels(read(rels_path)) if rels_path in parts else []
            if re.search(rf"<{p}legacyDrawing\b", xml) or any(r.get("Type") in (COMMENTS_TYPE, VML_TYPE) for r in existing):
                raise Unpatchable(f"sheet {name} already has comments or a legacy drawing")
            comments_part = _free_part(all_names, "xl/comments_feedback{}.xml")
            vml_part = _free_part(all_names, "xl/drawings/vmlDrawing_feedback{}.vml")
            ids = {r["Id"] for r in existing}
            comments_id, vml_id = _free_id(ids, "rIdFeedback"), _free_id(ids, "rIdFeedback")
            folder = posixpath.dirname(part)
            text[rels_path] = _add_relationships(text.get(rels_path) or (read(rels_path) if rels_path in parts else None), [
                (comments_id, COMMENTS_TYPE, posixpath.relpath(comments_part, folder)),
                (vml_id, VML_TYPE, posixpath.relpath(vml_part, folder)),
            ])
            text[comments_part] = _comments_xml(comments)
            text[vml_part] = _vml_xml(comments, block)
            overrides.append((comments_part, COMMENTS_CT))
            xml = _add_legacy_drawing(xml, p, vml_id)
        text[part] = _unselect(xml, p)

    list_part = _free_part(all_names, "xl/worksheets/feedback_list{}.xml")
    text[list_part] = _list_sheet_xml(first, styles)
    overrides.append((list_part, WORKSHEET_CT))
    text[styles_part] = styles.to_xml()
    rel_ids = {r["Id"] for r in workbook_rels}
    list_id = _free_id(rel_ids, "rIdFeedback")
    text[workbook_rels_path] = _add_relationships(read(workbook_rels_path), [
        (list_id, WORKSHEET_TYPE, posixpath.relpath(list_part, posixpath.dirname(workbook)))])
    text[workbook] = _workbook_with_first_sheet(read(workbook), first.name, max(s for _, _, s in sheets) + 1, list_id)

    extra = "".join(f'<Override PartName="/{xml_text(n)}" ContentType="{t}"/>' for n, t in overrides)
    if not re.search(r'Extension="vml"', content_types, re.I) and any(t == COMMENTS_CT for _, t in overrides):
        extra += f'<Default Extension="vml" ContentType="{VML_CT}"/>'
    at = content_types.rindex("</")
    text["[Content_Types].xml"] = content_types[:at] + extra + content_types[at:]
    if "docProps/core.xml" in parts:
        text["docProps/core.xml"] = core_properties(title, created)
    if "docProps/app.xml" in parts:
        text["docProps/app.xml"] = APP_PROPERTIES  # its list of sheet names would be out of date

    order = names + sorted(n for n in text if n not in parts)
    return fixed_zip([(n, text[n].encode("utf-8") if n in text else parts[n]) for n in order])


def _workbook_with_first_sheet(xml: str, name: str, sheet_id: int, rel_id: str) -> str:
    match = re.search(r"<((?:[\w.-]+:)?)sheets\b[^>]*>", xml)
    if not match:
        raise Unpatchable("workbook.xml without <sheets>")
    p = match.group(1)
    element = f'<{p}sheet name="{xml_text(name)}" sheetId="{sheet_id}" xmlns:fbr="{DOC_REL}" fbr:id="{rel_id}"/>'
    xml = xml[:match.end()] + element + xml[match.end():]
    xml = re.sub(r'localSheetId="(\d+)"', lambda m: f'localSheetId="{int(m.group(1)) + 1}"', xml)
    xml = re.sub(r'\s(?:activeTab|firstSheet)="\d+"', "", xml)  # the list sheet, first, is the one shown
    return xml
