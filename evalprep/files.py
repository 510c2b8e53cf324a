"""The one way evalprep writes a file: whole or not at all.

Every output, stored document, history table and cache entry goes through `write_atomic`: the bytes go to a
uniquely named `.part` file in the same folder (two threads or runs never share one), are flushed to disk, and
the file is renamed into place. On any failure (disk full, permission, a kill signal raised as an exception)
the `.part` file is removed and the previous file, if any, is left as it was."""
from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

PART_SUFFIX = ".part"


def write_atomic(path: Path | str, data: bytes | Callable[[BinaryIO], object], mode: int = 0o644) -> Path:
    """Write `data` (bytes, or a function that writes into a binary handle) to `path` atomically, with
    permissions `mode` (0o444 for files nobody may change in place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=PART_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(data):
                data(handle)
            else:
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


# Errors of the place the run writes to, not of one document: they end the run (exit code 2 from the command).
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS})


def disk_error(exc: BaseException | None) -> OSError | None:
    """The disk-full or permission error behind `exc` (itself, its cause or context, or inside an exception
    group), or None."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
            return exc
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                if (found := disk_error(inner)) is not None:
                    return found
        exc = exc.__cause__ or exc.__context__
    return None
