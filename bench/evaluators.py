"""The evaluators' view on the demo county: the simulator (2,000 draws and its villages-sampled table) and the
rehearsal pack (one draw of the published design, a visit sheet per household), plus the machine's calibration
figures (a fixed pure-Python loop, one fixed reference PDF) so that results from machines up to 3× apart
compare as ratios.

    python -m bench.evaluators --repeat 3
"""
from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from bench.common import demo_county, timed, write_results

WEEK = "2016-W39"
REFERENCE_HTML = """<html><head><style>@page { size: A4; margin: 20mm } body { font-family: "Noto Sans CJK SC"; }
td { border: 0.5pt solid #000; padding: 1mm }</style></head><body><h1>旬阳县 基准文档</h1>
<table>ROWS</table></body></html>""".replace(
    "ROWS", "".join(f"<tr><td>{i}</td><td>蜀河镇第{i}行 脱贫户 全部达标</td><td>{i * 37 % 101}%</td></tr>" for i in range(120)))


def calibration(repeat: int) -> dict:
    """A fixed pure-Python loop and one fixed reference PDF (3 pages of a CJK table): the machine's speed."""
    from tasks.render.pdf import render_pdf

    def loop() -> int:
        total = 0
        for i in range(3_000_000):
            total += i * i % 7
        return total

    loop_s, _, _ = timed(loop, repeat)
    render_pdf(REFERENCE_HTML)  # fonts loaded once, as in a render worker
    pdf_s, _, _ = timed(lambda: render_pdf(REFERENCE_HTML), repeat)
    return {"python_loop_seconds": round(loop_s, 3), "reference_pdf_seconds": round(pdf_s, 3)}


def measure(county: Path, repeat: int) -> dict:
    from evalprep.weeks import week_sunday
    from expectations.catalogue import load_profile
    from tasks.assess import assess_readiness
    from tasks.criteria_frames import criteria_frames
    from tasks.evaluation_design import load_design
    from tasks.ingest.references import load_register
    from tasks.ingest.week import ingest_week
    from tasks.rehearsal import draw_rehearsal, rehearsal_context, visits_table, write_pack
    from tasks.simulate import simulate_evaluation
    from tasks.validate import validate_profile

    profile, design = load_profile(), load_design()
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        register = load_register(county / "reference", root / "data" / "reference")
        ingest = ingest_week(county / "inbox" / WEEK, WEEK, Path(tmp) / "archive", register, 200 * 1024 * 1024)
        frames = criteria_frames(ingest.tables, week_sunday(WEEK), profile)
        readiness = assess_readiness(frames, validate_profile(frames, profile).failures, profile, design)
        missed = ingest.tables["missed"]
        simulate_s, _, result = timed(lambda: simulate_evaluation(readiness, frames["surveys"], profile, missed,
                                                                  design=design), repeat)
        no_table_s, _, _ = timed(lambda: simulate_evaluation(readiness, frames["surveys"], profile, missed,
                                                             design=design, size_table=False), repeat)
        started = time.perf_counter()
        draw = draw_rehearsal(readiness, design, 2016, missed)
        run = {"county": "旬阳县", "week": WEEK, "as_of": week_sunday(WEEK), "generated_on": dt.date.today(),
               "run_id": "bench", "profile": profile.name, "targets": {}}
        context = rehearsal_context(draw, readiness, frames["members"], frames["surveys"], profile, run)
        prepared_s = time.perf_counter() - started
        started = time.perf_counter()
        write_pack(context, visits_table(draw, readiness), Path(tmp) / "pack")
        render_s = time.perf_counter() - started
        sheets = len(context["sheets"])
    return {
        "simulate_seconds": round(simulate_s, 3), "simulate_without_size_table_seconds": round(no_table_s, 3),
        "simulated_sample_households": result["sample"]["households"],
        "rehearsal_prepare_seconds": round(prepared_s, 3), "rehearsal_render_seconds": round(render_s, 2),
        "rehearsal_sheets": sheets, "rehearsal_seconds_per_sheet": round(render_s / max(sheets, 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    figures = {"calibration": calibration(args.repeat), "evaluators_x1": measure(demo_county(), args.repeat)}
    print(write_results("evaluators", figures))
    print(figures)


if __name__ == "__main__":
    main()
