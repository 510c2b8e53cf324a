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
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from evalprep.files import write_atomic
from evalprep.fingerprint import sources_fingerprint
from evalprep.settings import PROJECT_ROOT, TEMPLATES_DIR

STORE_FOLDER = ".document-store"
# Everything a document's bytes depend on besides its own data: templates, catalogue, rendering code.
RENDERER_SOURCES = (TEMPLATES_DIR, PROJECT_ROOT / "tasks" / "render", PROJECT_ROOT / "tasks" / "attachments.py",
                    PROJECT_ROOT / "tasks" / "departments.py", PROJECT_ROOT / "expectations" / "catalogue.yaml",
                    PROJECT_ROOT / "expectations" / "catalogue.py")
# Run facts left out of the key: the run id changes with any township's resubmission; the generation date
# (生成于) with the calendar day, so a document reused from the store keeps the date it was made.
RUN_FIELDS_NOT_PRINTED = ("run_id", "generated_on")


@cache
def renderer_fingerprint() -> str:
    """One hash of every file the rendering reads besides the data, and of the WeasyPrint version."""
    import weasyprint

    return sources_fingerprint(RENDERER_SOURCES, f"weasyprint {weasyprint.__version__}")


def _columns(frame: pd.DataFrame) -> bytes:
    return json.dumps([list(map(str, frame.columns)), list(map(str, frame.dtypes))]).encode()


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of a frame's values (lists and other objects hashed by their repr)."""
    prepared = frame.copy(deep=False)
    for name in frame.columns:
        if frame[name].dtype == object or isinstance(frame[name].dtype, pd.StringDtype):
            prepared[name] = frame[name].map(repr)
    return pd.util.hash_pandas_object(prepared, index=False).to_numpy()


def _frame_digest(frame: pd.DataFrame) -> bytes:
    """A stable hash of a frame's columns, dtypes and values."""
    return hashlib.sha256(_columns(frame) + row_hashes(frame).tobytes()).digest()


class Slice(NamedTuple):
    """Some rows of a frame and their digest."""

    frame: pd.DataFrame
    digest: str


class RowHashed:
    """A frame hashed row by row once, so that the digest of any of its row subsets costs a slice of the hashes
    (what `digest` gives that subset as a frame of its own, since a subset keeps the columns and row order):
    for planners whose documents each read a part of the same county-wide frame. Each subset comes with its
    digest, made together, so the two cannot disagree."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._head = _columns(frame)
        self._rows = row_hashes(frame)

    def _digest(self, positions: np.ndarray | None = None) -> str:
        rows = self._rows if positions is None else self._rows[positions]
        return hashlib.sha256(self._head + rows.tobytes()).hexdigest()

    def whole(self) -> Slice:
        return Slice(self.frame, self._digest())

    def where(self, mask: pd.Series | np.ndarray | bool) -> Slice:
        """The rows where `mask` holds (False: none), and their digest."""
        positions = np.flatnonzero(np.broadcast_to(np.asarray(mask, dtype=bool), len(self.frame)))
        return Slice(self.frame.iloc[positions], self._digest(positions))

    def groups(self, by: str | list[str]) -> dict[Any, Slice]:
        """Every `by` group (in first-appearance order) and its digest."""
        if self.frame.empty:
            return {}
        return {key: Slice(self.frame.iloc[index], self._digest(index))
                for key, index in self.frame.groupby(by, sort=False).indices.items()}

    def digests(self, by: str) -> dict[Any, str]:
        """The digest of every `by` group, without the groups (a county's villages in ≈ 0.1 s, not 10 ms each)."""
        if by not in self.frame or self.frame.empty:
            return {}
        return {key: self._digest(index) for key, index in self.frame.groupby(by, sort=False).indices.items()}


def slice_digests(frame: pd.DataFrame | None, by: str) -> dict[Any, str]:
    """The digest of every `by` group of a frame, hashing the whole frame once."""
    return {} if frame is None or by not in frame or frame.empty else RowHashed(frame).digests(by)


def digest(*parts: Any) -> str:
    """One digest of view-model inputs (frames by content, everything else as JSON)."""
    return hashlib.sha256(json.dumps(_plain(list(parts)), sort_keys=True, default=str).encode("utf-8")).hexdigest()


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


def document_key(kind: str, path: str, args: dict[str, Any], profile_name: str, run: dict[str, Any],
                 inputs: str = "") -> str:
    """The content hash a document is stored under; `inputs`: the digest of `args` when planning computed it."""
    printed = {k: v for k, v in run.items() if k not in RUN_FIELDS_NOT_PRINTED}
    return digest(kind, path, profile_name, renderer_fingerprint(), printed, inputs or digest(args))


CHECK_SUFFIX = ".sha256"  # beside each stored file: "<sha256 hex> <size in bytes>" of the bytes stored


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class DocumentStore:
    """Files named <key><suffix> under OUT/.document-store/<first two hex digits>/, read-only once written,
    each with a <key><suffix>.sha256 file recording its size and hash, checked before every reuse."""

    def __init__(self, out_dir: Path | str) -> None:
        self.root = Path(out_dir) / STORE_FOLDER

    def path(self, key: str, suffix: str) -> Path:
        return self.root / key[:2] / f"{key}{suffix}"

    def check_path(self, key: str, suffix: str) -> Path:
        return self.root / key[:2] / f"{key}{suffix}{CHECK_SUFFIX}"

    def intact(self, key: str, suffix: str) -> bool:
        """The stored file is there with the size and hash recorded when it was stored (size first: a
        truncated file is found without reading it)."""
        try:
            recorded, size = self.check_path(key, suffix).read_text(encoding="ascii").split()
            path = self.path(key, suffix)
            return path.stat().st_size == int(size) and _sha256(path) == recorded
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            return False

    def has(self, key: str, suffixes: tuple[str, ...]) -> bool:
        return all(self.intact(key, s) for s in suffixes)

    def damaged(self, key: str, suffixes: tuple[str, ...]) -> list[Path]:
        """The stored files of `key` that are there but not as stored (truncated, changed, or without their check)."""
        return [self.path(key, s) for s in suffixes if self.path(key, s).is_file() and not self.intact(key, s)]

    def put(self, key: str, suffix: str, data: bytes) -> Path:
        """Write once under a temporary name, then rename (two runs storing the same key store the same bytes);
        then its size and hash. A damaged file is replaced by a new file, never changed in place: the old one
        may be hard-linked into published weeks."""
        path = write_atomic(self.path(key, suffix), data, mode=0o444)
        write_atomic(self.check_path(key, suffix), f"{hashlib.sha256(data).hexdigest()} {len(data)}\n".encode("ascii"),
                     mode=0o444)
        return path

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
        """Remove stored documents no run has used for `unused_days` (with their checks); published copies stay
        (hard links). Returns how many documents it removed."""
        if not self.root.is_dir():
            return 0
        cutoff, removed = time.time() - unused_days * 86400, 0
        for path in self.root.glob("*/*"):
            if path.name.endswith(CHECK_SUFFIX):
                if not path.with_name(path.name.removesuffix(CHECK_SUFFIX)).exists():
                    path.unlink(missing_ok=True)  # its document is gone
                continue
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                path.with_name(path.name + CHECK_SUFFIX).unlink(missing_ok=True)
                removed += 1
        return removed


def prune_store(out_dir: Path | str, unused_days: float) -> int:
    """The output folder's store without the documents no run used for `unused_days`."""
    return DocumentStore(out_dir).prune(unused_days)
