"""An exclusive lock on a file, for the few read-modify-write steps that two runs at the same time (the weekly
run and an inspection) share: the archive, the week history, publishing a run folder."""
from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an advisory lock on `lock_file` (created if missing) for the duration of the block; released when
    the block ends or the process dies."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
