"""Raw submissions archived unchanged, by content hash, before anything parses them."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path

from evalprep.locks import exclusive


def content_hash(path: Path) -> str:
    """sha256 of a file; for a folder of CSVs, of its files' relative names and bytes in sorted order."""
    digest = hashlib.sha256()
    if path.is_dir():
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(member.relative_to(path).as_posix().encode("utf-8") + b"\0")
            digest.update(member.read_bytes())
    else:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def archive_submission(path: Path, archive_dir: Path, week: str) -> tuple[str, Path, bool]:
    """Copy a received file into archive/<sha[:2]>/<sha>/<name>; (sha256, archived path, newly archived).
    The same bytes sent again, under any name, are already there: nothing is copied or logged."""
    sha = content_hash(path)
    target_dir = archive_dir / sha[:2] / sha
    with exclusive(archive_dir / ".archive.lock"):  # a run at the same time may archive the same file
        kept = [p for p in target_dir.iterdir() if not p.name.startswith(".")] if target_dir.is_dir() else []
        if kept:
            return sha, kept[0], False
        target = target_dir / path.name
        target_dir.mkdir(parents=True, exist_ok=True)
        staging = target_dir / f".{path.name}.partial"
        if path.is_dir():
            shutil.copytree(path, staging, dirs_exist_ok=True)
        else:
            shutil.copy2(path, staging)
        os.replace(staging, target)
        receipt = {"sha256": sha, "file": path.name, "week": week,
                   "archived_at": dt.datetime.now().isoformat(timespec="seconds")}
        with open(archive_dir / "receipts.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(receipt, ensure_ascii=False) + "\n")
    return sha, target, True
