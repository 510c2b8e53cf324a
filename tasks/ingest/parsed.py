"""Parsed submissions kept beside the archive, by the file's content hash: a file that did not change since
the last run (most of them, in a rerun or a one-township resubmission) is not parsed again.

The key also holds the file's name (it appears in the issues), the register and size limit it was checked
against, and a fingerprint of the parsing code, template and catalogue, so a change to any of them parses
every file again. Entries are pickles written by this program into its own archive folder."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
from functools import cache
from pathlib import Path

from evalprep.files import write_atomic
from evalprep.fingerprint import sources_fingerprint
from evalprep.settings import PROJECT_ROOT
from tasks.ingest.references import Register
from tasks.ingest.submission import SubmissionResult, read_submission

PARSED_FOLDER = ".parsed"
PARSER_SOURCES = (PROJECT_ROOT / "tasks" / "ingest", PROJECT_ROOT / "evalprep" / "template.py",
                  PROJECT_ROOT / "evalprep" / "submission_template.yaml", PROJECT_ROOT / "evalprep" / "idcard.py",
                  PROJECT_ROOT / "expectations" / "catalogue.yaml", PROJECT_ROOT / "expectations" / "catalogue.py")


@cache
def parser_fingerprint() -> str:
    from importlib.metadata import version

    return sources_fingerprint(PARSER_SOURCES, *(f"{p} {version(p)}" for p in ("pandas", "python-calamine", "openpyxl")))


def parse_context(register: Register, max_bytes: int) -> str:
    """What every file of a run is parsed against, as one digest."""
    facts = [parser_fingerprint(), dataclasses.asdict(register), max_bytes]
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def read_submission_kept(path: Path, sha256: str, register: Register, max_bytes: int, archive_dir: Path,
                         context: str) -> SubmissionResult:
    """read_submission, or its kept result for the same bytes, name and context."""
    key = hashlib.sha256(f"{sha256}|{path.name}|{context}".encode("utf-8")).hexdigest()
    kept = archive_dir / PARSED_FOLDER / key[:2] / f"{key}.pickle"
    if kept.is_file():
        try:
            return pickle.loads(kept.read_bytes())
        except Exception:  # unreadable (cut short, another Python): parse again
            pass
    result = read_submission(path, sha256, register, max_bytes)
    write_atomic(kept, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return result
