"""Rendered documents kept by the content hash of everything they are made from (their data, the run facts
they print, the profile, the templates and the rendering code), so that a document whose inputs did not
change is linked from the store instead of rendered again: across runs, processes and machines sharing
the output folder."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalprep.settings import PROJECT_ROOT, TEMPLATES_DIR
from tasks import stage_task

STORE_FOLDER = ".document-store"
# Everything a document's bytes depend on besides its own data: templates, catalogue, rendering code.
RENDERER_SOURCES = (TEMPLATES_DIR, PROJECT_ROOT / "tasks" / "render", PROJECT_ROOT / "tasks" / "attachments.py",
                    PROJECT_ROOT / "tasks" / "departments.py", PROJECT_ROOT / "expectations" / "catalogue.yaml",
                    PROJECT_ROOT / "expectations" / "catalogue.py")
RUN_FIELDS_NOT_PRINTED = ("run_id",)  # the run id changes with any township's resubmission


@cache
def renderer_fingerprint() -> str:
    """One hash of every file the rendering reads besides the data, and of the WeasyPrint version."""
    import weasyprint

    digest = hashlib.sha256(f"weasyprint {weasyprint.__version__}".encode())
    for source in RENDERER_SOURCES:
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(source.parent)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _frame_digest(frame: pd.DataFrame) -> bytes:
    """A stable hash of a frame's columns, dtypes and values (lists and other objects hashed as text)."""
    digest = hashlib.sha256(json.dumps([list(map(str, frame.columns)), list(map(str, frame.dtypes))]).encode())
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            column = column.map(repr)
        digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    return digest.digest()


def _plain(value: Any) -> Any:
    """JSON-ready form of view-model inputs; frames become their digests."""
    if isinstance(value, pd.DataFrame):
        return _frame_digest(value).hex()
    if isinstance(value, pd.Series):
        return _frame_digest(value.to_frame()).hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, float) and value != value:
        return "NaN"
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def document_key(kind: str, path: str, args: dict[str, Any], profile_name: str, run: dict[str, Any]) -> str:
    """The content hash a document is stored under."""
    printed = {k: v for k, v in run.items() if k not in RUN_FIELDS_NOT_PRINTED}
    payload = json.dumps([kind, path, profile_name, renderer_fingerprint(), _plain(printed), _plain(args)],
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class DocumentStore:
    """Files named <key><suffix> under OUT/.document-store/<first two hex digits>/, read-only once written."""

    def __init__(self, out_dir: Path | str) -> None:
        self.root = Path(out_dir) / STORE_FOLDER

    def path(self, key: str, suffix: str) -> Path:
        return self.root / key[:2] / f"{key}{suffix}"

    def has(self, key: str, suffixes: tuple[str, ...]) -> bool:
        return all(self.path(key, s).is_file() for s in suffixes)

    def put(self, key: str, suffix: str, data: bytes) -> Path:
        """Write once under a temporary name, then rename (two runs storing the same key store the same bytes)."""
        target = self.path(key, suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
        temporary.write_bytes(data)
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
        return target

    def link(self, key: str, suffix: str, destination: Path) -> None:
        """The stored file at `destination` (a hard link; a copy across file systems), marked as used now."""
        source = self.path(key, suffix)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.unlink(missing_ok=True)
        try:
            os.link(source, destination)
        except OSError:
            shutil.copyfile(source, destination)
        os.utime(source)

    def prune(self, unused_days: float) -> int:
        """Remove stored documents no run has used for `unused_days`; published copies stay (hard links)."""
        if not self.root.is_dir():
            return 0
        cutoff, removed = time.time() - unused_days * 86400, 0
        for path in self.root.glob("*/*"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def prune_store(out_dir: Path | str, unused_days: float) -> int:
    """The output folder's store without the documents no run used for `unused_days`."""
    return DocumentStore(out_dir).prune(unused_days)


prune_task = stage_task(prune_store, name="prune-document-store")
