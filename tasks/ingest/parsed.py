"""Parsed submissions kept beside the archive, by the file's content hash: a file that did not change since
the last run (most of them, in a rerun or a one-township resubmission) is not parsed again.

The key also holds the file's name (it appears in the issues), the register and size limit it was checked
against, and a fingerprint of the parsing code, template and catalogue, so a change to any of them parses
every file again.

An entry is a folder `.parsed/v2/<key[:2]>/<key>/`: one Parquet file per table and `entry.json` (status,
reason, issues, headers, rows read, the source file's sha256, the key, and the sha256 of every Parquet file),
written last. Neither format can run code when read. An entry is used only when its JSON names this key and
this source sha256, every Parquet file matches its recorded hash, and every row carries this file's name and
township; anything else (missing, cut short, tampered, moved from another key) is parsed again. Pickles of
the old cache (`.parsed/<xx>/<key>.pickle`) are never opened."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from functools import cache
from pathlib import Path

import pandas as pd

from evalprep.files import write_atomic
from evalprep.fingerprint import sources_fingerprint
from evalprep.settings import PROJECT_ROOT
from tasks.ingest.issues import Issue
from tasks.ingest.references import Register
from tasks.ingest.submission import SubmissionResult, read_submission

PARSED_FOLDER = ".parsed"
FORMAT = "v2"
ENTRY = "entry.json"
PARSER_SOURCES = (PROJECT_ROOT / "tasks" / "ingest", PROJECT_ROOT / "evalprep" / "template.py",
                  PROJECT_ROOT / "evalprep" / "submission_template.yaml", PROJECT_ROOT / "evalprep" / "idcard.py",
                  PROJECT_ROOT / "expectations" / "catalogue.yaml", PROJECT_ROOT / "expectations" / "catalogue.py")


@cache
def parser_fingerprint() -> str:
    from importlib.metadata import version

    return sources_fingerprint(PARSER_SOURCES, *(f"{p} {version(p)}" for p in ("pandas", "python-calamine", "openpyxl", "pyarrow")))


def parse_context(register: Register, max_bytes: int) -> str:
    """What every file of a run is parsed against, as one digest."""
    facts = [parser_fingerprint(), dataclasses.asdict(register), max_bytes]
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def entry_key(sha256: str, name: str, context: str) -> str:
    return hashlib.sha256(f"{sha256}|{name}|{context}".encode("utf-8")).hexdigest()


def entry_dir(archive_dir: Path, key: str) -> Path:
    return archive_dir / PARSED_FOLDER / FORMAT / key[:2] / key


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def save_entry(folder: Path, key: str, result: SubmissionResult) -> None:
    """Tables as Parquet, the rest as JSON; entry.json last, so an entry without it is incomplete."""
    tables = {}
    for table, frame in result.tables.items():
        data = _parquet(frame)
        write_atomic(folder / f"{table}.parquet", data)
        tables[table] = hashlib.sha256(data).hexdigest()
    entry = {
        "format": FORMAT, "key": key, "sha256": result.sha256, "file": result.file, "status": result.status,
        "township_code": result.township_code, "reason": result.reason, "tables": tables,
        "issues": [dataclasses.asdict(i) for i in result.issues], "rows_read": result.rows_read,
        "headers": [[sheet, column, written] for (sheet, column), written in result.headers.items()],
    }
    write_atomic(folder / ENTRY, json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def _entry_json(folder: Path, key: str, sha256: str, name: str) -> dict | None:
    """An entry's JSON when it names this key, these bytes and this name (its tables not checked)."""
    entry = json.loads((folder / ENTRY).read_bytes())
    named = (entry.get("format"), entry.get("key"), entry.get("sha256"), entry.get("file"))
    return entry if named == (FORMAT, key, sha256, name) else None


def kept_township(folder: Path, key: str, sha256: str, name: str) -> str:
    """The township an entry names, from its JSON alone (the key, bytes and name checked, the tables not read),
    or "" when there is no such entry: what a run narrowed to some townships needs to pass over another
    township's file without loading it."""
    try:
        entry = _entry_json(folder, key, sha256, name)
    except Exception:  # noqa: BLE001 — missing, cut short, not JSON: the file is read as usual
        return ""
    return str(entry.get("township_code") or "") if entry else ""


def load_entry(folder: Path, key: str, sha256: str, name: str) -> SubmissionResult | None:
    """The kept result, or None unless the entry is whole, untampered and for these bytes and this name."""
    try:
        entry = _entry_json(folder, key, sha256, name)
        if entry is None:
            return None
        tables = {}
        for table, digest in entry["tables"].items():
            data = (folder / f"{table}.parquet").read_bytes()
            if hashlib.sha256(data).hexdigest() != digest:
                return None
            tables[table] = pd.read_parquet(io.BytesIO(data))
        township = entry["township_code"]
        for frame in tables.values():
            if len(frame) and ("_file" in frame and (frame["_file"] != name).any()
                               or "township_code" in frame and (frame["township_code"] != township).any()):
                return None  # rows of another file or township under this key
        return SubmissionResult(
            file=entry["file"], sha256=entry["sha256"], status=entry["status"], township_code=township,
            reason=entry["reason"], tables=tables, issues=[Issue(**i) for i in entry["issues"]],
            rows_read={str(k): int(v) for k, v in entry["rows_read"].items()},
            headers={(sheet, column): written for sheet, column, written in entry["headers"]},
        )
    except Exception:  # noqa: BLE001 — missing, cut short, not JSON, wrong fields, unreadable Parquet: parse again
        return None


def read_submission_kept(path: Path, sha256: str, register: Register, max_bytes: int, archive_dir: Path,
                         context: str, reader=None, townships: tuple[str, ...] = ()) -> SubmissionResult:
    """read_submission, or its kept result for the same bytes, name and context. `reader` (an
    isolated.IsolatedReader) parses in a child process and keeps the entry itself. `townships` (a narrowed
    run): a file kept as another township's comes back without its tables, unread (the run leaves it out)."""
    key = entry_key(sha256, path.name, context)
    folder = entry_dir(archive_dir, key)
    elsewhere = kept_township(folder, key, sha256, path.name) if townships else ""
    if elsewhere and elsewhere not in townships:
        return SubmissionResult(file=path.name, sha256=sha256, status="", township_code=elsewhere)
    kept = load_entry(folder, key, sha256, path.name)
    if kept is not None:
        return kept
    if reader is not None:
        return reader.read(path, sha256, register, max_bytes, archive_dir, context)
    result = read_submission(path, sha256, register, max_bytes)
    save_entry(folder, key, result)
    return result
