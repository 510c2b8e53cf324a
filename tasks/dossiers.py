"""Village dossiers and roll-ups rendered in long-lived worker processes, batched per township."""
from __future__ import annotations

import gc
import multiprocessing
import re
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from expectations.catalogue import load_profile
from tasks import stage_task
from tasks.assess import Readiness

_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0


@dataclass(frozen=True)
class DossierJob:
    """One village's share of the readiness tables and where its PDF goes (relative to the run folder)."""

    path: str
    village_code: str
    village: dict[str, Any]
    criteria: pd.DataFrame
    households: pd.DataFrame


@dataclass(frozen=True)
class Rendered:
    """What rendering one document gave."""

    path: str
    village_code: str
    ok: bool
    seconds: float
    error: str = ""


def safe_name(text: object) -> str:
    """A file-name part from a Chinese name: no path separators or characters Windows refuses."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", str(text)).strip("._") or "未命名"


def dossier_path(village: dict[str, Any]) -> str:
    town = f"{village['township_code']}_{safe_name(village.get('township_name', ''))}"
    return f"dossiers/{town}/{village['village_code']}_{safe_name(village.get('village_name', ''))}.pdf"


def township_batches(readiness: Readiness, villages: tuple[str, ...] = ()) -> list[list[DossierJob]]:
    """Dossier jobs grouped by township (one Prefect task each), optionally only some villages."""
    table = readiness.villages
    if villages:
        table = table[table["village_code"].isin(villages)]
    criteria = dict(tuple(readiness.village_criteria.groupby("village_code")))
    households = dict(tuple(readiness.households.groupby("village_code")))
    empty_h = readiness.households.iloc[0:0]
    empty_c = readiness.village_criteria.iloc[0:0]
    batches: dict[str, list[DossierJob]] = {}
    for village in table.sort_values("village_code").to_dict("records"):
        code = village["village_code"]
        job = DossierJob(dossier_path(village), code, village, criteria.get(code, empty_c), households.get(code, empty_h))
        batches.setdefault(village["township_code"], []).append(job)
    return [batches[t] for t in sorted(batches)]


def _warm_up() -> None:
    """Worker start: import WeasyPrint, check HarfBuzz subsetting, then freeze the heap so garbage
    collection does not rescan it on every dossier (measured ≈ 0.1 s per dossier)."""
    from tasks.render.pdf import check_harfbuzz_subset

    check_harfbuzz_subset()
    gc.collect()
    gc.freeze()


def render_pool(processes: int) -> ProcessPoolExecutor:
    """One long-lived pool per process (spawned: a fork of a process with Prefect's threads can hang)."""
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE != processes:
        if _POOL is not None:
            _POOL.shutdown()
        _POOL = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_up)
        _POOL_SIZE = processes
    return _POOL


def _render_village(job: DossierJob, stage: Path, profile_name: str, run: dict[str, Any]) -> Rendered:
    from tasks.render.pdf import render_village_dossier, write_atomic

    started = time.perf_counter()
    try:
        pdf = render_village_dossier(load_profile(profile_name), job.village, job.criteria, job.households, run)
        write_atomic(stage / job.path, pdf)
    except Exception as exc:  # one village's failure is reported; the others go on
        return Rendered(job.path, job.village_code, False, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    return Rendered(job.path, job.village_code, True, time.perf_counter() - started)


def _render_county(readiness: Readiness, submissions: pd.DataFrame, stage: Path, profile_name: str,
                   run: dict[str, Any]) -> Rendered:
    from tasks.render.pdf import render_county_summary, write_atomic

    started = time.perf_counter()
    path = "summaries/county.pdf"
    try:
        pdf = render_county_summary(load_profile(profile_name), readiness.villages, readiness.households,
                                    readiness.village_criteria, run, submissions)
        write_atomic(stage / path, pdf)
    except Exception as exc:
        return Rendered(path, "", False, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    return Rendered(path, "", True, time.perf_counter() - started)


def render_village_batch(jobs: list[DossierJob], stage: Path, profile_name: str, run: dict[str, Any],
                         processes: int) -> list[Rendered]:
    """Render one township's dossiers in the shared worker pool."""
    pool = render_pool(processes)
    futures: list[Future] = [pool.submit(_render_village, job, stage, profile_name, run) for job in jobs]
    return [f.result() for f in futures]


def render_county_summary_pdf(readiness: Readiness, submissions: pd.DataFrame, stage: Path, profile_name: str,
                              run: dict[str, Any], processes: int) -> Rendered:
    """Render the county summary in the shared worker pool."""
    return render_pool(processes).submit(_render_county, readiness, submissions, stage, profile_name, run).result()


def rendering_report(results: list[list[Rendered]] | list[Rendered]) -> pd.DataFrame:
    """One row per document: path, village, ok, seconds, error."""
    flat = [r for item in results for r in (item if isinstance(item, list) else [item])]
    return pd.DataFrame([r.__dict__ for r in flat], columns=["path", "village_code", "ok", "seconds", "error"])


render_batch_task = stage_task(render_village_batch, name="render-township-dossiers")
render_county_task = stage_task(render_county_summary_pdf, name="render-county-summary")
