"""Where each document of a run goes, relative to the run folder (interface.md "Output layout")."""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from evalprep.redaction import redact_text

COUNTY_SUMMARY = "summaries/county.pdf"
INDEX_PAGE = "index.html"


def safe_name(text: object) -> str:
    """A file-name part from a Chinese name: no path separators or characters Windows refuses, and no ID or
    phone number typed into the name (the redaction gate: file names are read by people too)."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", redact_text(str(text))).strip("._") or "未命名"


def township_folder(township_code: object, township_name: object) -> str:
    return f"{township_code}_{safe_name(township_name if township_name is not None else '')}"


def dossier_path(village: Mapping[str, Any]) -> str:
    """dossiers/<township_code>_<township_name>/<village_code>_<village_name>.pdf"""
    town = township_folder(village["township_code"], village.get("township_name", ""))
    return f"dossiers/{town}/{village['village_code']}_{safe_name(village.get('village_name', ''))}.pdf"


def township_summary_path(township_code: object, township_name: object) -> str:
    """summaries/<township_code>_<township_name>.pdf"""
    return f"summaries/{township_folder(township_code, township_name)}.pdf"


def department_list_path(department: str) -> str:
    """departments/<department>.pdf"""
    return f"departments/{safe_name(department)}.pdf"


def attachment_path(pdf_path: str) -> str:
    """The spreadsheet beside a PDF: same folder, same base name, .xlsx."""
    return str(PurePosixPath(pdf_path).with_suffix(".xlsx"))


def attachment_name(pdf_path: str) -> str:
    return PurePosixPath(attachment_path(pdf_path)).name
