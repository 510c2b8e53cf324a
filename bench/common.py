"""Shared by the benchmarks: the demo county they run on, medians, and the results file."""
from __future__ import annotations

import datetime as dt
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "work"
RESULTS_DIR = BENCH_DIR / "results"


def demo_county(seed: int = 2016) -> Path:
    """The full demo county under bench/work/, generated once."""
    from evalprep.demo import generate_demo

    county = WORK_DIR / f"county-{seed}"
    if not (county / "manifest.json").exists():
        generate_demo(county, seed=seed)
    return county


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, list[float], object]:
    """Median wall seconds over `repeat` runs, all runs, and the last result."""
    runs, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), runs, result


def write_results(name: str, figures: dict) -> Path:
    """bench/results/<date>-<name>.json with the machine it ran on."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{dt.date.today().isoformat()}-{name}.json"
    payload = {"benchmark": name, "date": dt.date.today().isoformat(), "machine": platform.platform(),
               "python": platform.python_version(), **figures}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
