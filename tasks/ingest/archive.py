"""Raw submissions archived unchanged, by content hash, before anything parses them.

Archiving and its receipt are complete after a kill at any point: under the archive lock, a file archived
before the kill but never logged gets its receipt on the next run, a half-copied file is copied again, a
half-written last line of receipts.jsonl is dropped before the next line is appended, and a sha already in the
log is never logged twice."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from evalprep.files import PART_SUFFIX
from evalprep.locks import exclusive

RECEIPTS = "receipts.jsonl"


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


def read_receipts(archive_dir: Path) -> list[dict]:
    """Every complete receipt in receipts.jsonl; a line cut short by a kill (not valid JSON) is skipped."""
    path = archive_dir / RECEIPTS
    if not path.exists():
        return []
    receipts = []
    for line in path.read_bytes().split(b"\n"):
        try:
            receipt = json.loads(line)
        except ValueError:  # empty, or cut short
            continue
        if isinstance(receipt, dict) and "sha256" in receipt:
            receipts.append(receipt)
    return receipts


def _append_receipt(archive_dir: Path, receipt: dict) -> None:
    """Append one line to receipts.jsonl (an append-only log, so appended rather than rewritten), after
    dropping a last line that a kill cut short (it never ended with a newline). Called under the archive lock."""
    path = archive_dir / RECEIPTS
    line = (json.dumps(receipt, ensure_ascii=False) + "\n").encode("utf-8")
    with open(path, "a+b") as log:
        log.seek(0, os.SEEK_END)
        size = log.tell()
        if size:
            log.seek(max(0, size - (1 << 16)))
            tail = log.read()
            if not tail.endswith(b"\n"):
                cut = tail.rfind(b"\n")
                keep = size - len(tail) + cut + 1 if cut >= 0 else (0 if size <= len(tail) else None)
                if keep is None:  # a last line longer than 64 KiB: not one of ours; end it instead
                    log.write(b"\n")
                else:
                    log.truncate(keep)
        log.write(line)
        log.flush()
        os.fsync(log.fileno())


def _copy_in(path: Path, target: Path) -> None:
    """Copy a file or folder to `target` through a temporary name beside it, renamed when complete."""
    temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=PART_SUFFIX, dir=target.parent))
    try:
        if path.is_dir():
            shutil.copytree(path, temporary, dirs_exist_ok=True)
        else:
            temporary.rmdir()
            shutil.copy2(path, temporary)
        os.replace(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True) if temporary.is_dir() else temporary.unlink(missing_ok=True)
        raise


def archive_submission(path: Path, archive_dir: Path, week: str) -> tuple[str, Path, bool]:
    """Copy a received file into archive/<sha[:2]>/<sha>/<name> and log its receipt; (sha256, archived path,
    newly archived). The same bytes sent again, under any name, are already there: nothing is copied or
    logged — unless a kill came between the copy and the receipt, which is then written now."""
    sha = content_hash(path)
    target_dir = archive_dir / sha[:2] / sha
    with exclusive(archive_dir / ".archive.lock"):  # a run at the same time may archive the same file
        leftovers = [p for p in target_dir.iterdir() if p.name.startswith(".")] if target_dir.is_dir() else []
        for stale in leftovers:  # a copy a killed run left half done (nobody else copies: we hold the lock)
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
        kept = sorted(p for p in target_dir.iterdir() if not p.name.startswith(".")) if target_dir.is_dir() else []
        logged = any(r["sha256"] == sha for r in read_receipts(archive_dir))
        if kept:
            if not logged:  # archived, then killed before the receipt
                _append_receipt(archive_dir, _receipt(sha, kept[0].name, week))
            return sha, kept[0], False
        target = target_dir / path.name
        target_dir.mkdir(parents=True, exist_ok=True)
        _copy_in(path, target)
        if not logged:
            _append_receipt(archive_dir, _receipt(sha, path.name, week))
    return sha, target, True


def _receipt(sha: str, name: str, week: str) -> dict:
    return {"sha256": sha, "file": name, "week": week, "archived_at": dt.datetime.now().isoformat(timespec="seconds")}
