"""Each submission parsed in a child process under a memory ceiling, so no input file can abort the run.

The pre-checks of limits.py stop every known bomb before a reader sees it; this is the backstop for what
they cannot foresee: native readers (calamine) abort the whole process on an allocation failure, and a
crash there is not an exception. A single spawned worker (the parent may run threads: Prefect) with its
address space capped (RLIMIT_AS) parses one file at a time and writes the result into the parsed cache
(Parquet + JSON, parsed.py); the parent reads it back through the same verified loader, so nothing crosses
from the child as a pickle. If the worker dies or runs out of memory, that file alone is rejected with a
clerk-level reason, a fresh worker takes the next file, and the other townships go on.

EVALPREP_INGEST_MEMORY_MB sets what reading one file may add to the worker's address space once its libraries
are loaded and warmed up (default 2048; the largest demo workbook adds ~300 MB, see docs/decisions.md);
EVALPREP_INGEST_ISOLATION=0 parses in the run's own process (debugging)."""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tasks.ingest.limits import Limits, Rejected
from tasks.ingest.parsed import entry_dir, entry_key, load_entry, save_entry
from tasks.ingest.references import Register
from tasks.ingest.submission import SubmissionResult, read_submission, rejected_result
from tasks.ingest.workbook import read_submission_rows

MB = 1024 * 1024


def memory_ceiling() -> int:
    return int(float(os.environ.get("EVALPREP_INGEST_MEMORY_MB", "2048")) * MB)


def isolation_enabled() -> bool:
    return os.environ.get("EVALPREP_INGEST_ISOLATION", "1") != "0"


def reader_if_enabled() -> "contextlib.AbstractContextManager[IsolatedReader | None]":
    """An IsolatedReader for a with-block, or None inside it when EVALPREP_INGEST_ISOLATION=0 (read in this
    process): ingest, the department files and the feedback workbooks read files the same way."""
    return IsolatedReader() if isolation_enabled() else contextlib.nullcontext()


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _warm_up() -> None:
    """Read a one-cell workbook and write and read one Parquet table: the libraries' thread pools and memory
    arenas (address space reserved, mostly never used) exist before the ceiling is measured from here."""
    import io

    import pandas as pd
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    import tasks.ingest.submission  # noqa: F401

    book_bytes = io.BytesIO()
    book = xlsxwriter.Workbook(book_bytes, {"in_memory": True})
    book.add_worksheet().write(0, 0, "户编号")
    book.close()
    CalamineWorkbook.from_filelike(io.BytesIO(book_bytes.getvalue())).get_sheet_by_index(0).to_python()
    table = io.BytesIO()
    pd.DataFrame({"a": ["x"], "b": [1.0]}).to_parquet(table, index=False)
    pd.read_parquet(io.BytesIO(table.getvalue()))


def _cap_memory(allowance: int) -> None:
    """The ceiling is the worker's own address space once warmed up plus `allowance`: what reading one file
    may add, whatever this machine's core count makes the libraries reserve."""
    _warm_up()
    ceiling = _address_space() + allowance
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)  # a lower ceiling set on the run itself still holds
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))


def _parse_into_cache(path: Path, sha256: str, register: Register, max_bytes: int, folder: Path, key: str) -> None:
    save_entry(folder, key, read_submission(path, sha256, register, max_bytes))


Read = tuple["dict[str, list[list]] | None", str, str]  # raw rows per sheet, or None and a rejection's rule, detail


def rows_or_rejection(path: Path, limits: Limits) -> Read:
    """A file's raw rows within `limits`, or the rule and detail of its rejection (never an exception to
    unpickle when it runs in the child)."""
    try:
        return read_submission_rows(path, limits), "", ""
    except Rejected as exc:
        return None, exc.rule, exc.detail


class IsolatedReader:
    """Parses files one at a time in a child process; `with IsolatedReader() as reader: reader.read(...)`."""

    def __init__(self, ceiling: int | None = None):
        self.ceiling = memory_ceiling() if ceiling is None else ceiling
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "IsolatedReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _worker(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_cap_memory, initargs=(self.ceiling,))
        return self._pool

    def read(self, path: Path, sha256: str, register: Register, max_bytes: int, archive_dir: Path,
             context: str) -> SubmissionResult:
        key = entry_key(sha256, path.name, context)
        folder = entry_dir(archive_dir, key)
        try:
            self._worker().submit(_parse_into_cache, path, sha256, register, max_bytes, folder, key).result()
        except BrokenProcessPool:  # the worker died: a native abort or crash on this file
            self._pool = None
            return rejected_result(path.name, sha256, register, "DQ-FILE-CORRUPT")
        except MemoryError:
            self.close()  # a fresh worker for the next file
            return rejected_result(path.name, sha256, register, "DQ-FILE-TOO-LARGE",
                                   f"读取时所需内存超过 {self.ceiling / MB:,.0f} MB")
        except Exception as exc:  # noqa: BLE001  (near the ceiling even an import fails: LookupError, ImportError)
            self.close()
            return rejected_result(path.name, sha256, register, "DQ-FILE-CORRUPT", type(exc).__name__)
        kept = load_entry(folder, key, sha256, path.name)
        if kept is None:  # the worker could not write its result: parse here, as without isolation
            return read_submission(path, sha256, register, max_bytes)
        return kept

    def rows(self, path: Path, limits: Limits) -> Read:
        """The raw rows of a file that is not a township submission (a department's answers, a township's file
        read again for its feedback workbook), read by the worker: rows_or_rejection, and a worker that dies or
        runs out of memory is that file's rejection."""
        try:
            return self._worker().submit(rows_or_rejection, path, limits).result()
        except BrokenProcessPool:  # a native abort or crash on this file
            self._pool = None
            return None, "DQ-FILE-CORRUPT", ""
        except MemoryError:
            self.close()
            return None, "DQ-FILE-TOO-LARGE", f"读取时所需内存超过 {self.ceiling / MB:,.0f} MB"
        except Exception as exc:  # noqa: BLE001  (near the ceiling even an import fails: LookupError, ImportError)
            self.close()
            return None, "DQ-FILE-CORRUPT", type(exc).__name__
