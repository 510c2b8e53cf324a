"""The full county run of the checkout in the current directory, as bench.county_runs times it (Prefect, API
up, render pool warm): one untimed first run, then N timed ones; one JSON line appended to OUT. It imports only
what the 11-28 code also has, so the same file times an older commit in a worktree beside this one — the way
the full-run budget line is judged on a machine whose speed drifts (README "Session 8"):

    git worktree add ../old 7e06411 && (cd ../old && ./run.sh setup)
    (cd ../old && PYTHONPATH=. .venv/bin/python ../main/bench/full_run_once.py 11-28-code 1 ab.jsonl)
    PYTHONPATH=. .venv/bin/python bench/full_run_once.py ours 1 ab.jsonl      # then the old code again

With --reruns N (after the full runs, in the same process, as bench.county_runs times them): the unchanged
rerun, one township resubmitted and the warm one-village inspection, N times each.
"""
import argparse
import json
import os
import shutil
import time
from pathlib import Path

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("label")
    parser.add_argument("timed_runs", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--reruns", type=int, default=0, help="how often to time each rerun line (0: none)")
    args = parser.parse_args()
    label, timed_runs, out, reruns = args.label, args.timed_runs, args.out.resolve(), args.reruns
    from bench.common import WORK_DIR, demo_county
    from bench.county_runs import WEEK, prefect_server_start, resubmit, run_kwargs, timed_call

    county = demo_county()
    work = WORK_DIR / "full-run-once"
    shutil.rmtree(work, ignore_errors=True)
    os.environ["EVALPREP_DATA_DIR"] = str(work / "data")
    os.environ["EVALPREP_INBOX"] = str(county / "inbox")
    from flows.weekly import weekly_county_run

    prefect_server_start()
    first = timed_call(weekly_county_run, **run_kwargs(county, work / "full-0"))
    runs = [timed_call(weekly_county_run, **run_kwargs(county, work / f"full-{i}")) for i in range(1, timed_runs + 1)]
    line = {"label": label, "first": round(first, 1), "runs": [round(r, 1) for r in runs], "at": time.strftime("%H:%M")}
    if reruns:
        from flows.inspection import inspection_run

        kept = run_kwargs(county, work / "full-0")
        line["unchanged_rerun"] = [round(timed_call(weekly_county_run, **kept), 2) for _ in range(reruns)]
        resubmitted = []
        for i in range(reruns):
            resubmit(county / "inbox", work / "inbox-resubmitted", 61 + i)
            resubmitted.append(timed_call(weekly_county_run, **run_kwargs(county, work / "full-0", work / "inbox-resubmitted")))
        line["one_township_resubmitted"] = [round(r, 2) for r in resubmitted]
        villages = sorted(json.loads((county / "manifest.json").read_text(encoding="utf-8"))["by_week"][WEEK]["villages"])
        village = villages[len(villages) // 2]
        line["one_village_inspection_warm"] = [
            round(timed_call(inspection_run, villages=[village], out=str(work / f"inspect-warm-{i}")), 2)
            for i in range(reruns)]
    print(json.dumps(line))
    with out.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
