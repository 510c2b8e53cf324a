"""Where each document of a run goes, relative to the run folder (interface.md "Output layout")."""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from evalprep.redaction import redact_text

COUNTY_SUMMARY = "summaries/county.pdf"
INDEX_PAGE = "index.html"
# Longest file or folder name the tool makes, in UTF-8 bytes, suffix included. File systems allow 255; the
# margin leaves room for the atomic writer's temporary name (".<name>.<random>.part", ≈ 15 bytes more) and for
# copying the output folder to a system that counts differently (a Chinese character is 3 bytes).
MAX_NAME_BYTES = 180
LONGEST_SUFFIX = ".xlsx"


def _cut(text: str, limit: int) -> str:
    """`text` cut on a character boundary to at most `limit` UTF-8 bytes."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:max(limit, 0)].decode("utf-8", errors="ignore")


def safe_name(text: object, limit: int = MAX_NAME_BYTES) -> str:
    """A file-name part from a Chinese name: no path separators or characters Windows refuses, no ID or phone
    number typed into the name (the redaction gate: file names are read by people too), at most `limit` UTF-8
    bytes (cut on a character boundary)."""
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", redact_text(str(text))).strip("._") or "未命名"
    return _cut(name, limit).rstrip("._") or "未命名"


def _named(code: object, name: object, suffix: str = "") -> str:
    """<code>_<name><suffix>, the name cut so that the whole stays within MAX_NAME_BYTES; the code is kept
    whole, so names stay unique however long the name is."""
    head = f"{code}_"
    room = MAX_NAME_BYTES - len(head.encode("utf-8")) - len(LONGEST_SUFFIX)  # the spreadsheet beside a PDF
    return f"{head}{safe_name(name if name is not None else '', room)}{suffix}"


def township_folder(township_code: object, township_name: object) -> str:
    return _named(township_code, township_name)


def dossier_path(village: Mapping[str, Any]) -> str:
    """dossiers/<township_code>_<township_name>/<village_code>_<village_name>.pdf"""
    town = township_folder(village["township_code"], village.get("township_name", ""))
    return f"dossiers/{town}/{_named(village['village_code'], village.get('village_name', ''), '.pdf')}"


def township_summary_path(township_code: object, township_name: object) -> str:
    """summaries/<township_code>_<township_name>.pdf"""
    return f"summaries/{_named(township_code, township_name, '.pdf')}"


def department_list_path(department: str) -> str:
    """departments/<department>.pdf"""
    return f"departments/{safe_name(department, MAX_NAME_BYTES - len(LONGEST_SUFFIX))}.pdf"


def attachment_path(pdf_path: str) -> str:
    """The spreadsheet beside a PDF: same folder, same base name, .xlsx."""
    return str(PurePosixPath(pdf_path).with_suffix(".xlsx"))


def attachment_name(pdf_path: str) -> str:
    return PurePosixPath(attachment_path(pdf_path)).name
