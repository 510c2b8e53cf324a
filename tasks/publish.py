"""The run's output folder (interface.md): tables written to a per-run staging folder, then published."""
from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pandas as pd

from evalprep.files import write_atomic
from evalprep.locks import exclusive
from evalprep.redaction import CSV_ENCODING, csv_bytes  # noqa: F401  (CSV_ENCODING re-exported)
from tasks import stage_task

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


def staging_dir(out_dir: Path, week: str, run_id: str) -> Path:
    """A private folder for one run (unique even for two identical runs at the same time, in one process or
    two); nothing outside it changes until publish_run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".staging-{week}-{run_id}-", dir=out_dir))
    stage.chmod(0o755)  # published as is: readable like any other folder
    return stage


@contextmanager
def discarded_on_failure(stage: Path) -> Iterator[list]:
    """The run's staging folder, removed if the run fails before publishing it: a failed run gives back the
    space it took (a published stage is no longer there to remove). Futures of tasks writing into the folder
    are added to the list it gives; they are waited for first, so that none writes into it after removal."""
    running: list = []
    try:
        yield running
    except BaseException:
        for futures in running:
            with suppress(BaseException):
                futures.wait()
        shutil.rmtree(stage, ignore_errors=True)
        raise


def publish_run(stage: Path, out_dir: Path, week: str) -> Path:
    """Swap the staged run in as OUT/<week>, one run at a time; the previous one is removed after the swap.
    Two runs publishing the same folder at the same time: the later one wins whole, never a mix."""
    target = out_dir / week
    with exclusive(out_dir / ".publish.lock"):
        retired = Path(tempfile.mkdtemp(prefix=f".retired-{week}-", dir=out_dir))
        if target.exists():
            os.replace(target, retired / week)
        os.replace(stage, target)
    shutil.rmtree(retired, ignore_errors=True)
    return target


write_tables_task = stage_task(write_run_tables, name="write-tables")
publish_task = stage_task(publish_run, name="publish", retries=2, retry_delay_seconds=1)


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


write_validation_task = stage_task(write_validation_results, name="write-validation-results")
write_rendering_task = stage_task(write_rendering, name="write-rendering-report")


def write_json(path: Path, payload: dict) -> None:
    """A JSON document (UTF-8, keys sorted, Chinese as is)."""
    write_atomic(path, json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode("utf-8"))


write_json_task = stage_task(write_json, name="write-json")
