"""Whole-county runs on the demo county, in one process (run as its own process per scale, so that peak
memory is this scale's): the full run through Prefect and with the same stage functions called directly
(orchestration share, stage times), the unchanged rerun, one township resubmitted, one-village inspections
with the Prefect server up (in process) and cold (`evalprep inspect`), rendering with one and two processes.

    python -m bench.county_runs --scale 1 --repeat 3 --json bench/work/county-1.json
    python -m bench.county_runs --scale 5 --memory-only --json bench/work/county-5.json   # peak memory alone
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import WORK_DIR, PeakRss, demo_county

WEEK = "2016-W39"
RESUBMITTED_TOWNSHIP = "610928105"
SAMPLE_VILLAGES = 40
STAGES = {  # flows/stages.py run_week's timings, grouped
    "ingest": ("ingest",),
    "assess": ("assess",),
    "compare": ("compare",),
    "render": ("render-dossiers", "render-summaries"),
    "publish": ("write-tables", "publish", "record"),
}


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def figure(runs: list[float]) -> dict:
    return {"median": median(runs), "runs": [round(r, 3) for r in runs]}


def run_kwargs(county: Path, out: Path, inbox: Path | None = None, **more) -> dict:
    return dict(inbox=str(inbox or county / "inbox"), week=WEEK, out=str(out), reference=str(county / "reference"),
                **more)


def timed_call(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def prefect_server_start() -> float:
    """Seconds until Prefect's ephemeral API answers (what the first run in a process waits for)."""
    from prefect.client.orchestration import get_client

    def hello() -> None:
        with get_client(sync_client=True) as client:
            client.hello()
    return timed_call(hello)


def direct_run(**kwargs) -> tuple[float, dict[str, float]]:
    """The weekly flow's composite stages as plain calls (flows/stages.py run_week): wall seconds and seconds
    per stage."""
    from flows.run_config import resolve_run
    from flows.stages import run_week

    timings: dict[str, float] = {}
    started = time.perf_counter()
    run_week(resolve_run(**kwargs), timings)
    wall = time.perf_counter() - started
    stages = {stage: sum(timings.get(name, 0.0) for name in names) for stage, names in STAGES.items()}
    return wall, stages


def resubmit(source: Path, inbox: Path, progress: int) -> None:
    """A copy of the inbox in which one township sent its workbook again with one project further on."""
    import openpyxl

    if not inbox.exists():
        shutil.copytree(source, inbox)
    path = next((inbox / WEEK).glob(f"{RESUBMITTED_TOWNSHIP}_*"))
    book = openpyxl.load_workbook(path)
    book["双七项目"].cell(row=2, column=12).value = progress
    book.save(path)


def warm_pool(processes: int) -> None:
    """Start the render pool's processes before timing (a served or repeated run finds them running)."""
    from tasks.dossiers import render_pool

    pool = render_pool(processes)
    for future in [pool.submit(time.sleep, 0.5) for _ in range(processes)]:
        future.result()


def pages_and_sizes(folder: Path) -> tuple[list[int], list[int]]:
    from pypdf import PdfReader

    pdfs = sorted(folder.rglob("dossiers/*/*.pdf"))
    return [len(PdfReader(p).pages) for p in pdfs], [p.stat().st_size for p in pdfs]


def measure(scale: int, repeat: int, memory_only: bool = False) -> dict:
    from flows.inspection import inspection_run
    from flows.weekly import weekly_county_run

    county = demo_county(scale=scale)
    work = WORK_DIR / f"runs-x{scale}"
    shutil.rmtree(work, ignore_errors=True)
    os.environ["EVALPREP_DATA_DIR"] = str(work / "data")
    os.environ["EVALPREP_INBOX"] = str(county / "inbox")
    villages = sorted(json.loads((county / "manifest.json").read_text(encoding="utf-8"))["by_week"][WEEK]["villages"])
    result: dict = {"scale": scale, "villages": len(villages), "repeat": repeat}

    result["prefect_server_start_seconds"] = round(prefect_server_start(), 3)
    with PeakRss() as peak:  # a first run in a fresh process, as `evalprep run` does it: parses, starts the pool
        first = timed_call(weekly_county_run, **run_kwargs(county, work / "full-0"))
    result["first_run_prefect_seconds"] = round(first, 3)
    result["peak_memory_gib_full_run"] = peak.gib
    result["peak_memory_processes_mib"] = peak.breakdown_mib
    if memory_only:
        return result
    full = [timed_call(weekly_county_run, **run_kwargs(county, work / f"full-{i}")) for i in range(1, repeat + 1)]
    result["full_run_prefect_seconds"] = figure(full)  # sampled for memory no more: timed alike with direct runs
    pages, sizes = pages_and_sizes(work / "full-0" / WEEK)
    result["dossier_pages"] = {"mean": round(sum(pages) / len(pages), 2), "max": max(pages), "total": sum(pages)}
    result["dossier_pdf_bytes"] = {"mean": round(sum(sizes) / len(sizes)), "max": max(sizes)}
    if scale > 1:
        return result

    direct = [direct_run(**run_kwargs(county, work / f"direct-{i}")) for i in range(repeat)]
    result["full_run_direct_seconds"] = figure([wall for wall, _ in direct])
    result["stages_direct_seconds"] = {stage: median([s[stage] for _, s in direct]) for stage in STAGES}
    result["orchestration_overhead"] = round(result["full_run_prefect_seconds"]["median"]
                                             / result["full_run_direct_seconds"]["median"] - 1, 3)

    kept = run_kwargs(county, work / "full-0")
    result["unchanged_rerun_seconds"] = figure([timed_call(weekly_county_run, **kept) for _ in range(repeat)])
    township = []
    for i in range(repeat):
        resubmit(county / "inbox", work / "inbox-resubmitted", 61 + i)
        township.append(timed_call(weekly_county_run, **run_kwargs(county, work / "full-0", work / "inbox-resubmitted")))
    result["one_township_rerun_seconds"] = figure(township)

    village = villages[len(villages) // 2]
    result["one_village_inspection_warm_seconds"] = figure(
        [timed_call(inspection_run, villages=[village], out=str(work / f"inspect-warm-{i}")) for i in range(repeat)])
    cold = []
    for i in range(repeat):
        cmd = [sys.executable, "-m", "flows.cli", "inspect", "--village", village, "--out", str(work / f"inspect-cold-{i}")]
        cold.append(timed_call(subprocess.run, cmd, check=True, capture_output=True))
    result["one_village_inspection_cold_seconds"] = figure(cold)

    sample = villages[:: max(1, len(villages) // SAMPLE_VILLAGES)][:SAMPLE_VILLAGES]
    render = {}
    for processes in (1, 2):
        os.environ["EVALPREP_RENDER_PROCESSES"] = str(processes)
        warm_pool(processes)
        runs = [direct_run(**run_kwargs(county, work / f"render-{processes}-{i}", villages=sample))[1]["render"]
                for i in range(repeat)]
        render[processes] = figure(runs)
    os.environ.pop("EVALPREP_RENDER_PROCESSES")
    pages, _ = pages_and_sizes(next((work / "render-1-0").glob(f"{WEEK}-inspection-*")))
    one = render[1]["median"]
    result["render_sample"] = {
        "dossiers": len(sample), "one_process_seconds": render[1], "two_processes_seconds": render[2],
        "speed_up": round(one / render[2]["median"], 2), "seconds_per_dossier": round(one / len(sample), 3),
        "seconds_per_page": round(one / max(sum(pages), 1), 3), "pages": sum(pages),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--memory-only", action="store_true", help="the first run's peak memory, nothing timed")
    args = parser.parse_args()
    figures = measure(args.scale, args.repeat, args.memory_only)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
