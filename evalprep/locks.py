"""An exclusive lock on a file, for the few read-modify-write steps that two runs at the same time (the weekly
run and an inspection) share: the archive, the week history, publishing a run folder."""
from __future__ import annotations

import fcntl
import os
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


def try_exclusive(fd: int) -> bool:
    """Take an exclusive lock on an open file or folder without waiting; False when another holder has it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def open_for_lock(path: Path) -> int:
    """A descriptor to lock: a folder opened read-only (flock works on folders on a local Linux file system),
    a lock file opened (and created) for appending."""
    if path.is_dir():
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
