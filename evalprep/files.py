"""The one way evalprep writes a file: whole or not at all.

Every output, stored document, history table and cache entry goes through `write_atomic`: the bytes go to a
uniquely named `.part` file in the same folder (two threads or runs never share one), are flushed to disk, and
the file is renamed into place. On any failure (disk full, permission, a kill signal raised as an exception)
the `.part` file is removed and the previous file, if any, is left as it was."""
from __future__ import annotations

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
