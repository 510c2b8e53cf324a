"""Runs killed at any point leave nothing that outlives them: the start-of-run sweep removes dead runs' staging
folders and temporary files and never a live run's; and the real CLI, SIGKILLed at seeded random moments over
several runs and then run to completion, publishes exactly what an uninterrupted run publishes, with one
receipt per archived file and no leftovers."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import LAST_WEEK, files

LEFTOVER_PATTERNS = (".staging-*", ".retired-*", ".*.part")
# what a run does up to its staging folder, then: an in-flight temporary file in OUT and in the archive, and wait
RUN_UNTIL_STAGED = """
import sys
from pathlib import Path
from tasks.publish import staging_dir, sweep_stale
out, archive = Path(sys.argv[1]), Path(sys.argv[2])
sweep_stale(out, archive)
stage = staging_dir(out, "2016-W39", "abc")
(stage / "issues.csv").write_text("half")
(out / ".document-store").mkdir(exist_ok=True)
(out / ".document-store" / ".x.pdf.k3j4.part").write_bytes(b"%PDF")
(archive / ".y.pickle.k3j4.part").write_bytes(b"pickle")
print(stage, flush=True)
sys.stdin.readline()  # alive until the test says otherwise (or kills it)
"""


# the sweep as a run's process does it (each CLI run, each served flow run is a process of its own; a process
# keeps its runs' shared lock on OUT and the archive while it lives)
SWEEP = """
import sys
from pathlib import Path
from tasks.publish import sweep_stale
print("\\n".join(str(p) for p in sweep_stale(Path(sys.argv[1]), Path(sys.argv[2]))))
"""


def sweep(out: Path, archive: Path) -> list[Path]:
    done = subprocess.run([sys.executable, "-c", SWEEP, str(out), str(archive)], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[2], timeout=300)
    return [Path(line) for line in done.stdout.splitlines()]


def leftovers(*roots: Path) -> list[str]:
    return sorted(str(p) for root in roots for pattern in LEFTOVER_PATTERNS for p in root.rglob(pattern))


def staged_run(out: Path, archive: Path) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-c", RUN_UNTIL_STAGED, str(out), str(archive)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    return proc, Path(proc.stdout.readline().strip())


def test_the_sweep_removes_a_dead_runs_leftovers_and_never_a_live_runs(tmp_path):
    out, archive = tmp_path / "out", tmp_path / "archive"
    archive.mkdir()
    live, stage = staged_run(out, archive)
    try:
        assert stage.is_dir()
        (out / ".retired-2016-W39-q1w2").mkdir()  # a swap whose clean-up was killed
        removed = sweep(out, archive)
        assert removed == [out / ".retired-2016-W39-q1w2"]  # the live run's staging and .part files stay
        assert stage.is_dir() and (stage / "issues.csv").exists()
        assert len(leftovers(out, archive)) == 3
    finally:
        live.kill()
        live.wait()
    assert len(sweep(out, archive)) == 3  # the run is dead now: everything it left goes
    assert leftovers(out, archive) == [] and not stage.exists()
    assert (out / ".document-store").is_dir()


def test_a_run_that_ended_without_publishing_is_swept_by_the_next(tmp_path):
    out, archive = tmp_path / "out", tmp_path / "archive"
    archive.mkdir()
    ended, stage = staged_run(out, archive)
    ended.stdin.close()  # the process exits normally without publishing (an exception in a later stage)
    ended.wait()
    assert stage.is_dir()
    sweep(out, archive)
    assert leftovers(out, archive) == []


# ---- the real CLI, killed ---------------------------------------------------------------------------------------

SEED, KILLS = 12, 3


def cli_env(root: Path) -> dict[str, str]:
    env = {**os.environ, "EVALPREP_DATA_DIR": str(root / "data"), "PREFECT_HOME": str(root.parent / "prefect-home"),
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)  # the CLI's own ephemeral API, as the office runs it
    return env


def start(small_county: Path, root: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "flows.cli", "run", "--inbox", str(small_county / "inbox"), "--week", LAST_WEEK,
            "--out", str(root / "out"), "--reference", str(small_county / "reference")]
    return subprocess.Popen(args, env=cli_env(root), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[2], start_new_session=True)  # its own process group


def finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]


def receipts(data: Path) -> list[str]:
    path = data / "archive" / "receipts.jsonl"
    return [json.loads(line)["sha256"] for line in path.read_text(encoding="utf-8").splitlines()]


def archived(data: Path) -> set[str]:
    return {p.name for p in (data / "archive").glob("??/*") if p.is_dir() and len(p.name) == 64}


@pytest.mark.slow
def test_runs_killed_at_random_moments_then_rerun_publish_what_an_uninterrupted_run_publishes(small_county, tmp_path):
    base, faulty = tmp_path / "base", tmp_path / "faulty"
    started = time.monotonic()
    finish(start(small_county, base))
    duration = time.monotonic() - started

    rng = random.Random(SEED)
    # spread over the run (rendering is most of it; later runs reuse what earlier ones stored, so a late moment
    # often finds the run finished: kept below 0.75 to bound the time the test takes)
    moments = sorted(rng.uniform(0.05, 0.75) * duration for _ in range(KILLS))
    killed = 0
    for moment in moments:
        proc = start(small_county, faulty)
        try:
            proc.wait(timeout=moment)  # it finished first (later runs reuse what earlier ones stored)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the run, its render workers, its Prefect API server
            proc.wait()
            killed += 1
    assert killed >= 1
    finish(start(small_county, faulty))

    week = f"out/{LAST_WEEK}"
    assert files(faulty / week) == files(base / week)  # byte for byte
    for data in (base / "data", faulty / "data"):
        shas = receipts(data)
        assert len(shas) == len(set(shas)) and set(shas) == archived(data)  # one receipt per archived file
    assert leftovers(faulty / "out", faulty / "data") == []
