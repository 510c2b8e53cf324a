"""Limits checked before a submission is read into memory: zip bombs, sheets declaring millions of cells.

A .zip of CSVs and an .xlsx (itself a zip) are checked member by member from the central directory (declared
uncompressed size, compression ratio, total) before anything is extracted, then again while streaming, since
declared sizes can lie: no member is ever decompressed past its declared size or the caps. A worksheet's
declared `<dimension ref="A1:Z3500000"/>` and the last row and widest column its XML actually uses are
checked against a cell cap before the native reader (calamine) builds its dense grid. Every refusal is a
`Rejected("DQ-FILE-TOO-LARGE", detail)` whose detail says, in Chinese, what is too large and where.

The numbers derive from the compressed-size limit (EVALPREP_MAX_FILE_MB, 50 MB by default); see
docs/decisions.md "Input limits and the parsed cache (issue 12)" for the measurements behind them."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path


class Rejected(Exception):
    """The whole submission cannot be read; rule is a data-rule code of the catalogue."""

    def __init__(self, rule: str, detail: str = ""):
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail


MB = 1024 * 1024
CHUNK = 1 << 20
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Za-z$]+)?\$?(\d+)?(?::\$?([A-Za-z]+)\$?(\d+))?\"")
# A cell in column AA or beyond, or a row or cell at row 100,000 or beyond (one literal-led pass).
FAR_CELL = re.compile(rb'r="([A-Z]{2,}\d+|[A-Z]?\d{6,})"')
ROW_ATTRIBUTE = re.compile(rb'\sr="(\d+)"')
SHEET_MEMBER = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """What one submission may hold once decompressed. Defaults scale with the compressed-size limit."""

    max_bytes: int                # compressed (on-disk) size, EVALPREP_MAX_FILE_MB
    max_member_bytes: int         # one .xlsx member (sheet XML), uncompressed
    max_total_bytes: int          # all members of one .xlsx, uncompressed
    max_csv_bytes: int            # one CSV in a .zip, uncompressed: no more than a plain .csv may be
    max_csv_total_bytes: int      # all CSVs of one .zip
    max_ratio: float = 100.0      # uncompressed / compressed, for members above ratio_floor_bytes
    ratio_floor_bytes: int = 8 * MB
    max_cells: int = 5_000_000    # rows × columns of one worksheet (declared or used)

    @classmethod
    def for_max_bytes(cls, max_bytes: int) -> "Limits":
        return cls(max_bytes=max_bytes, max_member_bytes=2 * max_bytes, max_total_bytes=3 * max_bytes,
                   max_csv_bytes=max_bytes, max_csv_total_bytes=2 * max_bytes)


def _mb(n: int) -> str:
    return f"{n / MB:,.0f} MB"


def column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def check_members(members: list[zipfile.ZipInfo], limits: Limits, member_cap: int, total_cap: int) -> None:
    """Declared sizes from the central directory, before anything is decompressed."""
    total = 0
    for info in members:
        name = display_name(info.filename)
        if info.file_size > member_cap:
            raise Rejected("DQ-FILE-TOO-LARGE", f"压缩包内「{name}」解压后 {_mb(info.file_size)}，上限 {_mb(member_cap)}")
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise Rejected("DQ-FILE-TOO-LARGE", f"压缩包内「{name}」解压后 {_mb(info.file_size)}，"
                                                f"是压缩后的 {info.file_size / max(info.compress_size, 1):,.0f} 倍，不是正常的表格")
        total += info.file_size
    if total > total_cap:
        raise Rejected("DQ-FILE-TOO-LARGE", f"解压后共 {_mb(total)}，上限 {_mb(total_cap)}")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """A member's bytes, decompressed in chunks; never more than its declared size (zipfile stops there and
    checks the CRC, so a member hiding more than it declares fails as corrupt)."""
    return b"".join(stream_member(archive, info, cap))


def stream_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int):
    """Yield a member's decompressed chunks, enforcing the cap while streaming."""
    seen = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(CHUNK):
                seen += len(chunk)
                if seen > min(info.file_size, cap):
                    raise Rejected("DQ-FILE-TOO-LARGE", f"压缩包内「{display_name(info.filename)}」解压后超过 {_mb(min(info.file_size, cap))}")
                yield chunk
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        # Bad CRC (the member held more or other bytes than declared), truncated or unknown compression.
        raise Rejected("DQ-FILE-CORRUPT", str(exc)[:200]) from None


def display_name(name: str) -> str:
    # Zips made on Chinese Windows store GBK names without the UTF-8 flag; zipfile decodes them as cp437.
    try:
        return name.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def check_xlsx(path: Path, limits: Limits) -> None:
    """Every member of an .xlsx within the zip limits, every worksheet within the cell cap (its declared
    dimension first, then the rows and columns its XML uses), all before calamine opens it."""
    try:
        with zipfile.ZipFile(path) as archive:
            check_members(archive.infolist(), limits, limits.max_member_bytes, limits.max_total_bytes)
            names = sheet_names(archive)
            for info in archive.infolist():
                if SHEET_MEMBER.match(info.filename):
                    _check_sheet(archive, info, limits, names.get(info.filename.lower(), Path(info.filename).stem))
                else:
                    for _ in stream_member(archive, info, limits.max_member_bytes):
                        pass
    except zipfile.BadZipFile as exc:
        raise Rejected("DQ-FILE-CORRUPT", str(exc)[:200]) from None


def _too_many_cells(sheet: str, rows: int, columns: int, limits: Limits, declared: bool) -> Rejected:
    what = "声明的范围为" if declared else "实际用到"
    return Rejected("DQ-FILE-TOO-LARGE", f"工作表「{sheet}」{what} {rows:,} 行 × {columns:,} 列，"
                                         f"超过 {limits.max_cells:,} 个单元格的上限")


def _check_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, sheet: str) -> None:
    """Declared dimension, then the extent the XML uses. Cheap scans only (a literal-led regex over the
    stream): columns beyond Z, rows ≥ 100,000 anywhere, and the last row of each chunk (rows come in order;
    an out-of-order row below 100,000 can only be missed with the columns still counted exactly)."""
    max_row = max_col = 0
    first = True
    tail = b""
    for chunk in stream_member(archive, info, limits.max_member_bytes):
        if first:
            first = False
            match = DIMENSION.search(chunk[:65536])
            if match and match.group(4):
                rows = int(match.group(4)) - int(match.group(2) or 1) + 1
                columns = column_number(match.group(3).decode()) - column_number((match.group(1) or b"A").decode()) + 1
                if rows * columns > limits.max_cells:
                    raise _too_many_cells(sheet, rows, columns, limits, declared=True)
        data = tail + chunk  # a tag cut between two chunks is seen whole here
        for ref in set(FAR_CELL.findall(data)):
            letters = ref.rstrip(b"0123456789")
            max_row = max(max_row, int(ref[len(letters):]))
            if letters:
                max_col = max(max_col, column_number(letters.decode()))
        last = data.rfind(b"<row ")
        if last < 0:
            last = data.rfind(b":row ")
        if last >= 0 and (found := ROW_ATTRIBUTE.search(data, last, last + 512)):
            max_row = max(max_row, int(found.group(1)))
        tail = data[-512:]
        if max_row * max(max_col, 26 if max_row else 0) > limits.max_cells:
            raise _too_many_cells(sheet, max_row, max(max_col, 26), limits, declared=False)


def sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """xl/worksheets/sheetN.xml → the sheet's name as the clerk sees it (best effort; the file name else)."""
    try:
        workbook = archive.read("xl/workbook.xml") if archive.getinfo("xl/workbook.xml").file_size < MB else b""
        rels = archive.read("xl/_rels/workbook.xml.rels") if archive.getinfo("xl/_rels/workbook.xml.rels").file_size < MB else b""
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return {}
    targets = {m.group(1): m.group(2) for m in re.finditer(rb"<Relationship\b[^>]*?Id=\"([^\"]+)\"[^>]*?Target=\"([^\"]+)\"", rels)}
    targets.update({m.group(2): m.group(1) for m in re.finditer(rb"<Relationship\b[^>]*?Target=\"([^\"]+)\"[^>]*?Id=\"([^\"]+)\"", rels)})
    out = {}
    for m in re.finditer(rb"<(?:\w+:)?sheet\b[^>]*?name=\"([^\"]*)\"[^>]*?r:id=\"([^\"]+)\"", workbook):
        target = targets.get(m.group(2), b"").decode("utf-8", "replace").lstrip("/")
        member = target if target.startswith("xl/") else f"xl/{target}"
        out[member.lower()] = m.group(1).decode("utf-8", "replace")
    return out
