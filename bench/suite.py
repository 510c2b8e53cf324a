"""Every benchmark on the demo county at 1× and 5×, into bench/results/<date>.json, and the figures next to the
performance budget (README "Performance") as a Markdown table printed at the end.

    bench/run                 # 1×: medians of 3; 5×: one full run (≈ 15 min) and ingest/validation medians
    bench/run --repeat 5 --no-5x
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench import evaluators, ingest, validate
from bench.common import RESULTS_DIR, WORK_DIR, demo_county, write_results

# figure → (budget text, check) ; checks read the results dict
BUDGET = [
    ("full county run (Prefect, server up)", "≤ 180 s", lambda r: r["x1"]["full_run_prefect_seconds"]["median"], 180),
    ("unchanged rerun", "≤ 15 s", lambda r: r["x1"]["unchanged_rerun_seconds"]["median"], 15),
    ("one township resubmitted", "≤ 30 s", lambda r: r["x1"]["one_township_rerun_seconds"]["median"], 30),
    ("one village, inspection, server up", "≤ 5 s", lambda r: r["x1"]["one_village_inspection_warm_seconds"]["median"], 5),
    ("validation of the whole county (GX)", "≤ 8 s", lambda r: r["validate_x1"]["gx_seconds_median"], 8),
    ("GX / plain-pandas ratio", "≤ 6", lambda r: r["validate_x1"]["gx_to_pandas_ratio"], 6),
    ("rendering, seconds per page (1 process)", "≤ 0.35 s", lambda r: r["x1"]["render_sample"]["seconds_per_page"], 0.35),
    ("2 render processes vs 1", "≥ 1.8×", lambda r: -r["x1"]["render_sample"]["speed_up"], -1.8),
    ("orchestration overhead (Prefect vs direct)", "≤ 10 %", lambda r: 100 * r["x1"]["orchestration_overhead"], 10),
    ("peak memory, county run", "≤ 1.5 GiB", lambda r: r["x1"]["peak_memory_gib_full_run"], 1.5),
    ("peak memory, 5× county run", "≤ 4 GiB", lambda r: r["x5"]["peak_memory_gib_full_run"], 4),
    # figures without a budget line: the evaluators' view and the machine's calibration
    ("evaluators' simulation (2,000 draws + villages table)", "—", lambda r: r["evaluators_x1"]["simulate_seconds"], None),
    ("rehearsal pack, seconds per visit sheet", "—", lambda r: r["evaluators_x1"]["rehearsal_seconds_per_sheet"], None),
    ("calibration: pure-Python loop (s)", "—", lambda r: r["calibration"]["python_loop_seconds"], None),
    ("calibration: reference PDF (s)", "—", lambda r: r["calibration"]["reference_pdf_seconds"], None),
]


def county_runs(scale: int, repeat: int) -> dict:
    """bench.county_runs in a process of its own (its peak memory is this scale's alone)."""
    out = WORK_DIR / f"county-runs-x{scale}.json"
    subprocess.run([sys.executable, "-m", "bench.county_runs", "--scale", str(scale), "--repeat", str(repeat),
                    "--json", str(out)], check=True)
    return json.loads(out.read_text(encoding="utf-8"))


def budget_table(results: dict) -> str:
    lines = ["| figure | budget | measured | |", "|---|---|---|---|"]
    for name, text, read, limit in BUDGET:
        try:
            value = read(results)
        except KeyError:
            lines.append(f"| {name} | {text} | not measured | |")
            continue
        shown = f"{abs(value):.2f}"
        verdict = "" if limit is None else "met" if value <= limit else "NOT met"
        lines.append(f"| {name} | {text} | {shown} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-5x", dest="five", action="store_false")
    args = parser.parse_args()
    results: dict = {"repeat": args.repeat}
    results["ingest_x1"] = ingest.measure(demo_county(), args.repeat)
    results["validate_x1"] = validate.measure(demo_county(), args.repeat)
    results["x1"] = county_runs(1, args.repeat)
    results["calibration"] = evaluators.calibration(args.repeat)
    results["evaluators_x1"] = evaluators.measure(demo_county(), args.repeat)
    if args.five:
        results["ingest_x5"] = ingest.measure(demo_county(scale=5), args.repeat)
        results["validate_x5"] = validate.measure(demo_county(scale=5), args.repeat)
        results["x5"] = county_runs(5, 1)
    results["budget_table"] = budget_table(results)
    path = write_results("", results)
    print(results["budget_table"])
    print(f"→ {path.relative_to(RESULTS_DIR.parent.parent)}")


if __name__ == "__main__":
    main()
