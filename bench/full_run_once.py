"""The full county run of the checkout in the current directory, as bench.county_runs times it (Prefect, API
up, render pool warm): one untimed first run, then N timed ones; one JSON line appended to OUT. It imports only
what the 11-28 code also has, so the same file times an older commit in a worktree beside this one — the way
the full-run budget line is judged on a machine whose speed drifts (README "Session 8"):

    git worktree add ../old 7e06411 && (cd ../old && ./run.sh setup)
    (cd ../old && PYTHONPATH=. .venv/bin/python ../main/bench/full_run_once.py 11-28-code 1 ab.jsonl)
    PYTHONPATH=. .venv/bin/python bench/full_run_once.py ours 1 ab.jsonl      # then the old code again
"""
import json
import os
import shutil
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    label, timed_runs, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]).resolve()
    from bench.common import WORK_DIR, demo_county
    from bench.county_runs import prefect_server_start, run_kwargs, timed_call

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
    print(json.dumps(line))
    with out.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
