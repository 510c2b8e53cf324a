"""Open a submission (xlsx/xls workbook, folder or .zip of CSVs) as raw rows per sheet; anything else that
arrived is refused as DQ-FILE-TYPE with a detail naming what it is (OpenDocument, PDF, Word, an unknown
suffix), so the clerk learns what to send instead."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from evalprep.inbox import SUBMISSION_SUFFIXES
from tasks.ingest.limits import Limits, Rejected, check_members, check_xlsx, display_name, read_member

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: legacy .xls, or an encrypted .xlsx
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
PDF_MAGIC = b"%PDF-"
ODF_MIMETYPE = b"application/vnd.oasis.opendocument"
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et")
NOT_EXCEL = "文件不是Excel表格（可能是改了扩展名的其他文件）"


# The directory entry name of the stream an encrypted OOXML package (Office 2007+ password) keeps its keys in.
ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
DEFAULT_LIMITS = Limits.for_max_bytes(50 * 1024 * 1024)


Rows = list[list]


def _sheet_rows(book: CalamineWorkbook, name: str) -> Rows:
    return [list(r) for r in book.get_sheet_by_name(name).to_python(skip_empty_area=False)]


def read_excel(path: Path, limits: Limits = DEFAULT_LIMITS) -> dict[str, Rows]:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise Rejected("DQ-FILE-EMPTY")
    if not (head.startswith(ZIP_MAGIC) or head.startswith(CFB_MAGIC)):
        raise Rejected("DQ-FILE-TYPE", NOT_EXCEL)
    if head.startswith(ZIP_MAGIC):
        check_xlsx(path, limits)  # zip bombs and sheets declaring millions of cells, before calamine sees them
    try:
        book = CalamineWorkbook.from_path(str(path))
        return {name: _sheet_rows(book, name) for name in book.sheet_names}
    except PasswordError:
        raise Rejected("DQ-FILE-ENCRYPTED") from None
    except (CalamineError, OSError, ValueError) as exc:
        if head.startswith(CFB_MAGIC) and is_encrypted_package(path):
            # An OLE2 file holding an EncryptionInfo stream is a password-protected .xlsx; any other
            # unreadable OLE2 file is a damaged .xls (or random bytes behind the signature).
            raise Rejected("DQ-FILE-ENCRYPTED") from None
        raise Rejected("DQ-FILE-CORRUPT", str(exc)[:200]) from None


def is_encrypted_package(path: Path) -> bool:
    """An OLE2 compound file naming an `EncryptionInfo` stream in its directory (names are UTF-16LE there):
    what Excel and WPS write for a workbook with an opening password."""
    return ENCRYPTION_INFO in path.read_bytes()


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GBK/GB18030, as Excel on Chinese Windows saves."""
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Rejected("DQ-FILE-ENCODING")


def csv_rows(data: bytes) -> Rows:
    try:
        return [list(row) for row in csv.reader(io.StringIO(decode_csv(data), newline=""))]
    except csv.Error as exc:  # NUL bytes, broken quoting
        raise Rejected("DQ-FILE-CORRUPT", str(exc)[:200]) from None


def read_csv_folder(path: Path) -> dict[str, Rows]:
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
    if not files:
        others = [p for p in path.rglob("*") if p.is_file()]
        if others:
            raise Rejected("DQ-FILE-TYPE", f"文件夹「{path.name}」中没有 .csv 文件（有 {len(others)} 个其他文件）")
        raise Rejected("DQ-FILE-EMPTY")
    return {p.stem: csv_rows(p.read_bytes()) for p in files}


def read_csv_zip(path: Path, limits: Limits = DEFAULT_LIMITS) -> dict[str, Rows]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted((i for i in archive.infolist()
                              if i.filename.lower().endswith(".csv") and not i.filename.startswith("__MACOSX")),
                             key=lambda i: i.filename)
            if not members:
                raise Rejected("DQ-FILE-EMPTY")
            check_members(members, limits, limits.max_csv_bytes, limits.max_csv_total_bytes)
            return {_zip_stem(i.filename): csv_rows(read_member(archive, i, limits.max_csv_bytes)) for i in members}
    except zipfile.BadZipFile:
        raise Rejected("DQ-FILE-CORRUPT") from None
    except RuntimeError as exc:  # encrypted member
        raise Rejected("DQ-FILE-ENCRYPTED", str(exc)[:200]) from None


def _zip_stem(name: str) -> str:
    return Path(display_name(name)).stem


def opendocument_type(head: bytes) -> str:
    """The OpenDocument media type of a file starting with `head` ('' when it is not one): a zip whose first
    member is `mimetype`, stored, holding application/vnd.oasis.opendocument.* (ODF 1.2 part 3, 3.3)."""
    if not head.startswith(ZIP_MAGIC) or len(head) < 30:
        return ""
    name_length = int.from_bytes(head[26:28], "little")
    extra_length = int.from_bytes(head[28:30], "little")
    if head[30:30 + name_length] != b"mimetype":
        return ""
    start = 30 + name_length + extra_length
    size = int.from_bytes(head[18:22], "little")  # stored: compressed size = size; 0 when in a data descriptor
    content = head[start:start + size] if size else head[start:start + 100].split(b"PK\x03\x04")[0]
    return content.decode("ascii", "replace") if content.startswith(ODF_MIMETYPE) else ""


def unreadable_kind(path: Path) -> str:
    """What a file is when ingestion cannot read it whatever its suffix says, in the clerk's words ('' when it
    may be readable): OpenDocument (LibreOffice's .ods, also .ods renamed .xlsx), PDF, Word, or a suffix that
    is not a spreadsheet's."""
    with open(path, "rb") as fh:
        head = fh.read(256)
    if not head:
        return ""  # DQ-FILE-EMPTY, said by the reader
    suffix = path.suffix.lower()
    if media := opendocument_type(head):
        kind = "表格（.ods）" if media.endswith(".spreadsheet") else "文档"
        return f"文件是 OpenDocument {kind}格式（LibreOffice 等软件保存的格式），不是 Excel 格式"
    if head.startswith(PDF_MAGIC):
        return "文件是 PDF 文档，不是表格"
    if head.startswith(ZIP_MAGIC) and suffix in (".docx", ".pptx"):
        return f"文件是 Word 或 PowerPoint 文档（{suffix}），不是表格"
    if suffix not in SUBMISSION_SUFFIXES:
        return f"文件格式（{suffix or '无扩展名'}）不是表格"
    return ""


def read_submission_rows(path: Path, limits: Limits = DEFAULT_LIMITS) -> dict[str, Rows]:
    """Raw rows per sheet name, whatever form the submission came in, within `limits`."""
    if path.is_dir():
        return read_csv_folder(path)
    if kind := unreadable_kind(path):
        raise Rejected("DQ-FILE-TYPE", kind)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return read_csv_zip(path, limits)
    if suffix == ".csv":
        return {path.stem: csv_rows(path.read_bytes())}
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path, limits)
    raise Rejected("DQ-FILE-TYPE", NOT_EXCEL)
