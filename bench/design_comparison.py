"""The evaluators' chances on one county under two sampling designs, side by side (README "The evaluators'
view"): the published design the summary uses (catalogue `evaluation_design`) and the first model's
100 villages × 10 households (`legacy-100x10`). Reads the week's workbooks the way the weekly flow does.

    python -m bench.design_comparison --county bench/work/county-seed7 --seed 7 --week 2016-W39
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from evalprep.weeks import week_sunday
from expectations.catalogue import load_profile
from tasks.assess import assess_readiness
from tasks.criteria_frames import criteria_frames
from tasks.evaluation_design import load_design
from tasks.ingest.references import load_register
from tasks.ingest.week import ingest_week
from tasks.simulate import ANY_FAIL_METRICS, simulate_evaluation
from tasks.validate import validate_profile

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ("national-2017", "legacy-100x10")


def compare(county: Path, week: str, profile_name: str = "xunyang-2016") -> dict:
    profile = load_profile(profile_name)
    register = load_register(county / "reference", ROOT / "data" / "reference")
    ingest = ingest_week(county / "inbox" / week, week, county / "archive", register, 200 * 1024 * 1024)
    frames = criteria_frames(ingest.tables, week_sunday(week), profile)
    readiness = assess_readiness(frames, validate_profile(frames, profile).failures, profile)
    out = {}
    for name in DESIGNS:
        result = simulate_evaluation(readiness, frames["surveys"], profile, ingest.tables["missed"],
                                     design=load_design(name), size_table=False)
        out[name] = {"sample": result["sample"], "p_any_fail": result["p_any_fail"],
                     **{k: {"point": result["metrics"][k]["point_estimate"], "p_fail": result["metrics"][k]["p_fail"]}
                        for k in ANY_FAIL_METRICS}}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--county", type=Path, required=True, help="a county folder (inbox/, reference/); generated if absent")
    parser.add_argument("--seed", type=int, default=7, help="demo generator seed when the county is generated")
    parser.add_argument("--week", default="2016-W39")
    args = parser.parse_args()
    if not (args.county / "inbox").is_dir():
        from demo import generate_demo

        generate_demo(args.county, seed=args.seed)
    print(json.dumps(compare(args.county, args.week), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
