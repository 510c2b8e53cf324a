"""The forms a messy submission is written in: a laid-out workbook (grid), a folder or .zip of CSVs, and the
files that cannot be read at all (empty, truncated, not Excel, password-protected). Every writer is
deterministic: the same grid and bytes give the same file.
"""
from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

DATE_FORMAT = "yyyy-mm-dd"


@dataclass
class SheetGrid:
    """One sheet as the clerk laid it out: cells row by row (0-based), merged ranges, and where each data row
    landed. Cells are None (empty), str, int/float (a number cell) or datetime.date (a date cell)."""

    key: str
    name: str
    rows: list[list] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # first row, first col, last row, last col
    widths: list[int] = field(default_factory=list)
    header_rows: frozenset[int] = frozenset()
    written: dict[str, str] = field(default_factory=dict)  # canonical column → header as ingestion reports it
    row_of: list[int] = field(default_factory=list)  # data position → Excel row (1-based)


def write_grid_workbook(path: Path, grids: list[SheetGrid], created: dt.datetime) -> None:
    """An .xlsx with one worksheet per grid, in the given order (xlsxwriter, in memory: merges need it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"created": created, "author": "乡镇扶贫工作站", "title": path.stem})
    header_fmt = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1})
    title_fmt = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
    date_fmt = wb.add_format({"num_format": DATE_FORMAT})
    for grid in grids:
        ws = wb.add_worksheet(grid.name)
        for c, width in enumerate(grid.widths):
            ws.set_column(c, c, width)
        merged: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        covered: set[tuple[int, int]] = set()
        for r1, c1, r2, c2 in grid.merges:
            merged[(r1, c1)] = (r1, c1, r2, c2)
            covered |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        for r, row in enumerate(grid.rows):
            fmt = header_fmt if r in grid.header_rows else None
            for c, value in enumerate(row):
                if (r, c) in merged:
                    r1, c1, r2, c2 = merged[(r, c)]
                    ws.merge_range(r1, c1, r2, c2, "" if value is None else value,
                                   header_fmt if r in grid.header_rows else title_fmt)
                    continue
                if (r, c) in covered or value is None:
                    continue
                if isinstance(value, str):
                    ws.write_string(r, c, value, fmt)
                elif isinstance(value, bool):
                    raise TypeError("booleans are written as words or numbers")
                elif isinstance(value, (int, float)):
                    ws.write_number(r, c, value, fmt)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_fmt)
                else:
                    raise TypeError(type(value))
    wb.close()


def csv_bytes(grid: SheetGrid, encoding: str) -> bytes:
    """A sheet saved as CSV by Excel: every cell as text, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in grid.rows:
        writer.writerow(["" if v is None else v if isinstance(v, str) else _csv_text(v) for v in row])
    return buffer.getvalue().encode(encoding)


def _csv_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv_folder(folder: Path, grids: list[SheetGrid], encoding: str) -> list[Path]:
    """One CSV per sheet, named after the sheet (贫困户.csv …); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for grid in grids:
        target = folder / f"{grid.name}.csv"
        target.write_bytes(csv_bytes(grid, encoding))
        written.append(target)
    return written


def write_csv_zip(path: Path, grids: list[SheetGrid], encoding: str, at: dt.datetime) -> None:
    """A .zip of one CSV per sheet; member times are the submission time (no clock is read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = (at.year, at.month, at.day, at.hour, at.minute, at.second)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for grid in grids:
            info = zipfile.ZipInfo(f"{grid.name}.csv", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, csv_bytes(grid, encoding))


def not_excel_bytes(township_name: str, title: str) -> bytes:
    """A web page saved by WPS ('另存为网页') and renamed .xlsx: text, not a workbook."""
    page = (f"<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>"
            f"<h1>旬阳县{township_name}{title}</h1><table><tr><td>户编号</td><td>户主姓名</td></tr></table>"
            "</body></html>\n")
    return page.encode("utf-8")


# ---- a password-protected workbook: an OLE2 compound file with EncryptionInfo + EncryptedPackage ----------

_SECTOR = 512
_MINI = 64
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def noise(label: str, n: int) -> bytes:
    """`n` bytes that look random and follow from `label` alone."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}|{i}".encode()).digest()
        i += 1
    return bytes(out[:n])


def encrypted_workbook(label: str) -> bytes:
    """A password-protected workbook whose size and bytes follow from `label` (same label, same bytes): the
    demo's and the ingest fixtures' (tests/ingest/fixtures/make_fixtures.py) one way of making it."""
    size = 8_000 + int(hashlib.sha256(label.encode()).hexdigest()[:3], 16)
    return encrypted_workbook_bytes(noise(label, 272 + size + 16), size)


def encrypted_workbook_bytes(noise: bytes, package_size: int) -> bytes:
    """What Excel or WPS saves for an .xlsx with an opening password (ECMA-376 agile encryption): an OLE2
    compound file holding EncryptionInfo and EncryptedPackage. `noise` (deterministic, ≥ 96 bytes + the
    package) stands in for the salts, the wrapped keys and the ciphertext; no key opens it."""
    def b64(chunk: bytes) -> str:
        return base64.b64encode(chunk).decode("ascii")

    salt, key_salt, verifier, verifier_hash, key_value, hmac_key, hmac_value = (
        noise[0:16], noise[16:32], noise[32:48], noise[48:112], noise[112:144], noise[144:208], noise[208:272])
    descriptor = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption" '
        'xmlns:p="http://schemas.microsoft.com/office/2006/keyEncryptor/password" '
        'xmlns:c="http://schemas.microsoft.com/office/2006/keyEncryptor/certificate">'
        f'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
        f'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="{b64(salt)}"/>'
        f'<dataIntegrity encryptedHmacKey="{b64(hmac_key)}" encryptedHmacValue="{b64(hmac_value)}"/>'
        '<keyEncryptors><keyEncryptor uri="http://schemas.microsoft.com/office/2006/keyEncryptor/password">'
        f'<p:encryptedKey spinCount="100000" saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
        f'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="{b64(key_salt)}" '
        f'encryptedVerifierHashInput="{b64(verifier)}" encryptedVerifierHashValue="{b64(verifier_hash)}" '
        f'encryptedKeyValue="{b64(key_value)}"/></keyEncryptor></keyEncryptors></encryption>'
    ).encode("utf-8")
    info = struct.pack("<HHI", 4, 4, 0x40) + descriptor
    body = noise[272:]
    cipher_len = -(-package_size // 16) * 16
    if len(body) < cipher_len:
        raise ValueError("not enough noise for the package")
    package = struct.pack("<Q", package_size) + body[:cipher_len]
    return compound_file({"EncryptionInfo": info, "EncryptedPackage": package})


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (version 3, 512-byte sectors) with the given streams under the root.
    Streams under 4096 bytes go into the mini stream, as the format requires."""
    names = sorted(streams, key=lambda n: (len(n), n.upper()))  # the directory's sibling order
    small = [n for n in names if len(streams[n]) < 4096]
    large = [n for n in names if len(streams[n]) >= 4096]
    mini_start: dict[str, int] = {}
    mini_fat: list[int] = []
    mini_stream = b""
    for n in small:
        data = streams[n]
        count = max(1, -(-len(data) // _MINI))
        mini_start[n] = len(mini_fat)
        mini_fat += [len(mini_fat) + i + 1 for i in range(count - 1)] + [_END]
        mini_stream += data.ljust(count * _MINI, b"\0")
    if len(mini_fat) > _SECTOR // 4:
        raise ValueError("mini stream too large for one mini FAT sector")

    # sectors: 0 FAT, 1 directory, 2 mini FAT, then the mini stream, then each large stream
    fat: list[int] = [_FATSECT, _END, _END]
    sectors: list[bytes] = [b"", b"", b""]

    def chain(data: bytes) -> int:
        count = max(1, -(-len(data) // _SECTOR))
        start = len(fat)
        fat.extend([start + i + 1 for i in range(count - 1)] + [_END])
        for i in range(count):
            sectors.append(data[i * _SECTOR:(i + 1) * _SECTOR].ljust(_SECTOR, b"\0"))
        return start

    root_start = chain(mini_stream) if mini_stream else _END
    big_start = {n: chain(streams[n]) for n in large}
    if len(fat) > _SECTOR // 4:
        raise ValueError("compound file too large for one FAT sector")

    def entry(name: str, kind: int, color: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = name.encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded) + 2 if name else 0, kind, color)
                + struct.pack("<III", left, right, child) + b"\0" * 16 + struct.pack("<I", 0) + b"\0" * 16
                + struct.pack("<IQ", start, size))

    # a right-leaning chain of siblings is a valid (if unbalanced) red-black tree: the first black, the rest red
    dir_ids = {n: i + 1 for i, n in enumerate(names)}
    entries = [entry("Root Entry", 5, 1, _NOSTREAM, _NOSTREAM, 1 if names else _NOSTREAM, root_start, len(mini_stream))]
    for i, n in enumerate(names):
        right = dir_ids[names[i + 1]] if i + 1 < len(names) else _NOSTREAM
        start = mini_start[n] if n in mini_start else big_start[n]
        entries.append(entry(n, 2, 1 if i == 0 else 0, _NOSTREAM, right, _NOSTREAM, start, len(streams[n])))
    if len(entries) > _SECTOR // 128:
        raise ValueError("too many streams for one directory sector")
    while len(entries) < _SECTOR // 128:
        entries.append(entry("", 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM, 0, 0))
    sectors[1] = b"".join(entries)
    sectors[2] = b"".join(struct.pack("<I", v) for v in mini_fat).ljust(_SECTOR, b"\xff")
    sectors[0] = b"".join(struct.pack("<I", v) for v in fat).ljust(_SECTOR, b"\xff")

    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, 2 if mini_fat else _END, 1 if mini_fat else 0, _END, 0)
              + struct.pack("<I", 0) + b"\xff" * (108 * 4))
    assert len(header) == _SECTOR
    return header + b"".join(sectors)
