"""The run's output folder (interface.md): tables written to a per-run staging folder, then published."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pandas as pd

from evalprep import stopping
from evalprep.files import PART_SUFFIX, write_atomic
from evalprep.locks import exclusive, open_for_lock, try_exclusive
from evalprep.redaction import CSV_ENCODING, csv_bytes  # noqa: F401  (CSV_ENCODING re-exported)

from tasks.assess import Readiness

VILLAGE_COLUMNS = [
    "village_code", "village_name", "township_code", "is_key_village", "grade", "failing_criteria",
    "satisfaction_rate", "satisfaction_ci_low", "satisfaction_ci_high", "poverty_incidence", "wrong_exit_rate",
    "households", "households_failing", "satisfaction_sample_risk", "exit_households", "unknown_criteria",
    "wrong_exit_rate_year", "exit_households_year", "wrong_exit_households", "wrong_exit_households_year",
    "recognition_rate", "recognition_sample_risk", "evaluation_sample", "stratum", "p_drawn", "accountability",
]
RATE_COLUMNS = ("satisfaction_rate", "satisfaction_ci_low", "satisfaction_ci_high", "poverty_incidence", "wrong_exit_rate",
                "satisfaction_sample_risk", "wrong_exit_rate_year", "recognition_rate", "recognition_sample_risk", "p_drawn")
HOUSEHOLD_COLUMNS = ["household_id", "village_code", "exit_status", "meets_all", "failing_criteria"]


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Every CSV of a run: through the redaction gate (ID and phone numbers masked wherever they were typed)
    and formula-safe (OWASP), UTF-8 with a BOM (evalprep/redaction.py csv_bytes)."""
    write_atomic(path, csv_bytes(frame))


def _joined(codes: pd.Series) -> pd.Series:
    return codes.map(lambda c: ";".join(c) if isinstance(c, (list, tuple)) else "")


def villages_table(readiness: Readiness) -> pd.DataFrame:
    """readiness/villages.csv rows, rates rounded to 4 places."""
    frame = readiness.villages[VILLAGE_COLUMNS].copy()
    frame["failing_criteria"] = _joined(frame["failing_criteria"])
    frame["unknown_criteria"] = _joined(frame["unknown_criteria"])
    frame["is_key_village"] = frame["is_key_village"].map({True: "是", False: "否"})
    frame["accountability"] = frame["accountability"].map({True: "是", False: "否"})
    for col in RATE_COLUMNS:
        frame[col] = frame[col].round(4)
    return frame.sort_values("village_code").reset_index(drop=True)


def households_table(readiness: Readiness) -> pd.DataFrame:
    """readiness/households.csv rows."""
    frame = readiness.households[HOUSEHOLD_COLUMNS].copy()
    frame["failing_criteria"] = _joined(frame["failing_criteria"])
    return frame.sort_values("household_id").reset_index(drop=True)


def write_run_tables(stage: Path, submissions: pd.DataFrame, issues: pd.DataFrame, readiness: Readiness,
                     more: dict[str, pd.DataFrame] | None = None) -> None:
    """submissions.csv, issues.csv, the readiness tables and any further named tables into the staging folder."""
    write_csv(stage / "submissions.csv", submissions)
    write_csv(stage / "issues.csv", issues)
    write_csv(stage / "readiness" / "villages.csv", villages_table(readiness))
    write_csv(stage / "readiness" / "households.csv", households_table(readiness))
    for name, frame in (more or {}).items():
        write_csv(stage / name, frame)


STAGING_PREFIX, RETIRED_PREFIX = ".staging-", ".retired-"
SWEEP_LOCK = ".sweep.lock"  # OUT/: staging folders are created and swept under it, never both at once
RUNS_LOCK = ".runs.lock"  # in OUT, the archive, the history: every live run holds it shared
_held: dict[str, int] = {}  # what this process holds for its runs: staging folder or lock file → descriptor
_held_guard = threading.Lock()


def _release_published() -> None:
    """Let go of staging folders this process published or lost (their path is gone); keeps one descriptor per
    live staging folder in a long-lived process (tests, a Dask worker)."""
    with _held_guard:
        for key in [k for k in _held if Path(k).name.startswith(STAGING_PREFIX) and not Path(k).exists()]:
            os.close(_held.pop(key))


def staging_dir(out_dir: Path, week: str, run_id: str) -> Path:
    """A private folder for one run (unique even for two identical runs at the same time, in one process or
    two); nothing outside it changes until publish_run. The run's process holds an exclusive lock on the folder
    until it exits (or publishes it): a killed run's lock is gone with it, so the next run's sweep
    (sweep_stale) knows the folder is dead, and a live one's is never swept."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _release_published()
    with exclusive(out_dir / SWEEP_LOCK):  # created and locked before any sweep can look at it
        stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{week}-{run_id}-", dir=out_dir))
        stage.chmod(0o755)  # published as is: readable like any other folder
        fd = open_for_lock(stage)
        try_exclusive(fd)
        with _held_guard:
            _held[str(stage)] = fd
    return stage


@contextmanager
def discarded_on_failure(stage: Path) -> Iterator[list]:
    """The run's staging folder, removed if the run fails before publishing it: a failed run gives back the
    space it took (a published stage is no longer there to remove). Futures of tasks writing into the folder
    are added to the list it gives; they are waited for first, so that none writes into it after removal."""
    running: list = []
    try:
        yield running
    except BaseException as exc:
        if stopping.is_stop(exc):  # SIGTERM / Ctrl-C: workers killed, staging removed, no waiting for renders
            stopping.request(getattr(exc, "signal", None) or getattr(exc, "signum", None) or 2)
            shutil.rmtree(stage, ignore_errors=True)
            raise
        for futures in running:
            with suppress(BaseException):
                futures.wait()
        shutil.rmtree(stage, ignore_errors=True)
        raise
def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _alone_then_join(root: Path) -> tuple[bool, int]:
    """Whether no other live run uses `root` (an exclusive lock on root/.runs.lock taken without waiting: every
    live run holds it shared), and the descriptor, locked exclusively when alone."""
    fd = open_for_lock(root / RUNS_LOCK)
    return try_exclusive(fd), fd


def _join(root: Path, fd: int) -> None:
    """Hold root/.runs.lock shared for the rest of this process (one descriptor per root and process)."""
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while another run sweeps
    with _held_guard:
        key = str(root / RUNS_LOCK)
        if key in _held:
            os.close(fd)
        else:
            _held[key] = fd


def sweep_stale(out_dir: Path, *roots: Path) -> list[Path]:
    """At the start of a run, remove what killed or failed runs left behind: `.staging-*` folders under OUT
    whose lock nobody holds (their run is dead), `.retired-*` folders (under the publish lock: no swap is
    half done), and temporary `.part` files and folders (evalprep.files.write_atomic, the archive's copies)
    under OUT and `roots` (the archive, the history) — those only when no other run is live there, since a live
    run's `.part` file is about to be renamed into place. Returns what it removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    removed: list[Path] = []
    with exclusive(out_dir / SWEEP_LOCK):
        for stage in sorted(out_dir.glob(f"{STAGING_PREFIX}*")):
            if not stage.is_dir() or str(stage) in _held:  # this process's own live staging
                continue
            fd = open_for_lock(stage)
            try:
                if try_exclusive(fd):  # its run is dead: nobody else holds the lock
                    _remove(stage)
                    removed.append(stage)
            finally:
                os.close(fd)
    with exclusive(out_dir / ".publish.lock"):
        for retired in sorted(out_dir.glob(f"{RETIRED_PREFIX}*")):
            _remove(retired)
            removed.append(retired)
    for root in dict.fromkeys([out_dir, *roots]):  # in order, each once
        if not root.is_dir():
            continue
        alone, fd = _alone_then_join(root)
        try:
            if alone:
                for part in sorted(root.rglob(f".*{PART_SUFFIX}")):
                    if not any(p.name.startswith(STAGING_PREFIX) for p in part.relative_to(root).parents):
                        _remove(part)
                        removed.append(part)
        finally:
            _join(root, fd)
    if removed:
        from evalprep.runlog import run_logger

        run_logger().info("清理了 %d 个以前中断的运行留下的临时文件夹或文件", len(removed))
    return removed


def discard_held() -> list[Path]:
    """On a stop (evalprep/stopping.py; its render workers are dead by then): remove this process's staging
    folders, and the temporary `.part` files under the roots it joined (OUT, the archive, the history) when no
    other live run uses them (the same rule as sweep_stale). Never blocks: a signal handler calls it."""
    locked = _held_guard.acquire(timeout=2)  # the interrupted main thread may hold it
    try:
        held = dict(_held)
    except RuntimeError:  # changed under us (no lock): the next call takes it
        held = {}
    finally:
        if locked:
            _held_guard.release()
    removed: list[Path] = []
    for key, fd in held.items():
        path = Path(key)
        if path.name.startswith(STAGING_PREFIX):
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        elif path.name == RUNS_LOCK:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # alone: no other live run's .part is here
            except OSError:
                continue
            for part in sorted(path.parent.rglob(f".*{PART_SUFFIX}")):
                _remove(part)
                removed.append(part)
            with suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_SH)
    return removed


stopping.on_stop(discard_held)


def publish_run(stage: Path, out_dir: Path, week: str) -> Path:
    """Swap the staged run in as OUT/<week>, one run at a time; the previous one is removed after the swap.
    Two runs publishing the same folder at the same time: the later one wins whole, never a mix."""
    target = out_dir / week
    with exclusive(out_dir / ".publish.lock"):
        stopping.check()  # a stopped run publishes nothing
        retired = Path(tempfile.mkdtemp(prefix=f".retired-{week}-", dir=out_dir))
        if target.exists():
            os.replace(target, retired / week)
        os.replace(stage, target)
    shutil.rmtree(retired, ignore_errors=True)
    return target




def _without_load_time(result: dict) -> dict:
    """The result as written: without GX's batch load time (same inputs, same bytes); the failing values
    themselves are gone already (tasks.validate.without_values)."""
    markers = result.get("meta", {}).get("batch_markers", {})
    meta = {**result.get("meta", {}), "batch_markers": {k: v for k, v in markers.items() if k != "ge_load_time"}}
    return {**result, "meta": meta}


def write_validation_results(stage: Path, results: dict[str, dict]) -> None:
    """The GX validation result of every suite, as JSON, under validation/."""
    for name, result in sorted(results.items()):
        result = _without_load_time(result)
        write_json(stage / "validation" / f"{name}.json", result)


def write_rendering(stage: Path, report: pd.DataFrame) -> None:
    """rendering.csv: every document, whether it rendered and why not, its spreadsheet and document id (the
    same whether this run rendered it or reused it, so that same inputs give the same file)."""
    write_csv(stage / "rendering.csv", report.sort_values("path").drop(columns=["seconds", "reused"]))




def write_json(path: Path, payload: dict) -> None:
    """A JSON document (UTF-8, keys sorted, Chinese as is)."""
    write_atomic(path, json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode("utf-8"))
