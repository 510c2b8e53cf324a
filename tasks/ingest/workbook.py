"""Open a submission (xlsx/xls workbook, folder or .zip of CSVs) as raw rows per sheet."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from python_calamine import CalamineError, CalamineWorkbook, PasswordError

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: legacy .xls, or an encrypted .xlsx
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class Rejected(Exception):
    """The whole submission cannot be read; rule is a data-rule code of the catalogue."""

    def __init__(self, rule: str, detail: str = ""):
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail


Rows = list[list]


def _sheet_rows(book: CalamineWorkbook, name: str) -> Rows:
    return [list(r) for r in book.get_sheet_by_name(name).to_python(skip_empty_area=False)]


def read_excel(path: Path) -> dict[str, Rows]:
    head = path.read_bytes()[:8]
    if not head:
        raise Rejected("DQ-FILE-EMPTY")
    if not (head.startswith(ZIP_MAGIC) or head.startswith(CFB_MAGIC)):
        raise Rejected("DQ-FILE-TYPE")
    try:
        book = CalamineWorkbook.from_path(str(path))
        return {name: _sheet_rows(book, name) for name in book.sheet_names}
    except PasswordError:
        raise Rejected("DQ-FILE-ENCRYPTED") from None
    except (CalamineError, OSError, ValueError) as exc:
        if head.startswith(CFB_MAGIC):
            # An OLE2 file that is not a readable .xls is, in practice, a password-protected .xlsx.
            raise Rejected("DQ-FILE-ENCRYPTED") from None
        raise Rejected("DQ-FILE-CORRUPT", str(exc)[:200]) from None


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
        raise Rejected("DQ-FILE-EMPTY")
    return {p.stem: csv_rows(p.read_bytes()) for p in files}


def read_csv_zip(path: Path) -> dict[str, Rows]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if n.lower().endswith(".csv") and not n.startswith("__MACOSX"))
            if not names:
                raise Rejected("DQ-FILE-EMPTY")
            return {_zip_stem(n): csv_rows(archive.read(n)) for n in names}
    except zipfile.BadZipFile:
        raise Rejected("DQ-FILE-CORRUPT") from None
    except RuntimeError as exc:  # encrypted member
        raise Rejected("DQ-FILE-ENCRYPTED", str(exc)[:200]) from None


def _zip_stem(name: str) -> str:
    # Zips made on Chinese Windows store GBK names without the UTF-8 flag; zipfile decodes them as cp437.
    try:
        name = name.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return Path(name).stem


def read_submission_rows(path: Path) -> dict[str, Rows]:
    """Raw rows per sheet name, whatever form the submission came in."""
    if path.is_dir():
        return read_csv_folder(path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return read_csv_zip(path)
    if suffix == ".csv":
        return {path.stem: csv_rows(path.read_bytes())}
    if suffix in (".xlsx", ".xlsm", ".xls", ".et"):
        return read_excel(path)
    raise Rejected("DQ-FILE-TYPE")
