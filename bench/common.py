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


def demo_county(seed: int = 2016, scale: int = 1) -> Path:
    """The full demo county (`scale` times as large) under bench/work/, generated once."""
    from demo import generate_demo

    county = WORK_DIR / (f"county-{seed}" if scale == 1 else f"county-{seed}-x{scale}")
    if not (county / "manifest.json").exists():
        generate_demo(county, seed=seed, scale=scale)
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
    """bench/results/<date>-<name>.json (<date>.json for the whole suite) with the machine it ran on."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{dt.date.today().isoformat()}{'-' + name if name else ''}.json"
    payload = {"benchmark": name or "suite", "date": dt.date.today().isoformat(), "machine": platform.platform(),
               "python": platform.python_version(), **figures}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


class PeakRss:
    """Peak memory of this process and all its children (render workers, the Prefect API server), sampled
    every 0.5 s while the block runs (reading smaps is not free: the runs that are timed are not sampled): `with PeakRss() as peak: ...; peak.gib`. Each process counts its
    proportional set size (PSS: resident memory, pages shared between processes — the CJK font, Python's
    libraries — divided among them), so the sum is what the tree occupies; plain RSS would count the shared
    pages once per process."""

    def __init__(self, interval: float = 0.5) -> None:
        import threading

        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self.at_peak: list[tuple[str, int]] = []  # (process, PSS bytes) at the peak sample
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _label(process) -> str:
        """What a process of the tree is: the run, a render worker, a workbook parser, Prefect's API server."""
        line = " ".join(process.cmdline())
        if "multiprocessing" in line:
            return "worker (render or parse)"
        if "prefect" in line or "uvicorn" in line:
            return "Prefect API server"
        return process.name()

    def _sizes(self) -> list[tuple[str, int]]:
        import psutil

        me = psutil.Process()
        sizes = [("run", me.memory_full_info().pss)]
        for child in me.children(recursive=True):
            try:
                sizes.append((self._label(child), child.memory_full_info().pss))
            except psutil.Error:  # ended meanwhile
                pass
        return sizes

    def _sample(self) -> None:
        while not self._stop.is_set():
            sizes = self._sizes()
            total = sum(size for _, size in sizes)
            if total > self.peak:
                self.peak, self.at_peak = total, sizes
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def gib(self) -> float:
        return round(self.peak / 2**30, 3)

    @property
    def breakdown_mib(self) -> list[list]:
        """The processes at the peak sample, largest first: [label, MiB]."""
        return [[label, round(size / 2**20)] for label, size in sorted(self.at_peak, key=lambda x: -x[1])]
