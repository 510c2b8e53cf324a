"""One hash of a set of source files: what a cached result (a parsed workbook, a rendered document) was made
with. A change to any of them, or to the library versions named, makes every cached result stale."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def sources_fingerprint(sources: Iterable[Path], *versions: str) -> str:
    """sha256 over the versions given, then each file (folders: every file under them but __pycache__), by
    its path relative to its source's parent and its bytes."""
    digest = hashlib.sha256("|".join(versions).encode())
    for source in sources:
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(source.parent)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
