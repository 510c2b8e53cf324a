"""SIGTERM during the render stage of a real CLI run (a service stop, a reboot): the process ends, its render
workers with it, its staging folder and temporary files are removed, nothing is published, what was published
before is byte-identical, and it exits non-zero with one line in Chinese (evalprep/stopping.py)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import LAST_WEEK, files

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def render_workers(pid: int) -> list[psutil.Process]:
    """The run's render worker processes (spawned multiprocessing children)."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    workers = []
    for child in children:
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                workers.append(child)
        except psutil.Error:
            pass
    return workers


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def published(out: Path) -> dict[str, bytes]:
    """Everything published under OUT: every file outside the hidden folders (staging, document store)."""
    return {k: v for k, v in files(out).items() if not k.startswith(".")}


def test_sigterm_during_rendering_stops_the_run_and_publishes_nothing(small_county, tmp_path):
    out, data = tmp_path / "out", tmp_path / "data"
    # what earlier runs published: the previous week, and an earlier publication of this very week
    for week in ("2016-W38", LAST_WEEK):
        (out / week / "readiness").mkdir(parents=True)
        (out / week / "index.html").write_text(f"<h1>{week}</h1>", encoding="utf-8")
        (out / week / "readiness" / "villages.csv").write_bytes(b"\xef\xbb\xbfvillage_code\n610928100201\n")
    before = published(out)
    env = {**os.environ, "EVALPREP_DATA_DIR": str(data), "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_LOGGING_LEVEL": "WARNING", "EVALPREP_RENDER_PROCESSES": "2",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600"}
    env.pop("PREFECT_API_URL", None)
    args = [sys.executable, "-m", "flows.cli", "run", "--inbox", str(small_county / "inbox"), "--week", LAST_WEEK,
            "--out", str(out), "--reference", str(small_county / "reference")]
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        # wait for the render stage: workers up and rendering into the store, the run's staging folder there
        deadline = time.monotonic() + 900
        workers: list[psutil.Process] = []
        while time.monotonic() < deadline and proc.poll() is None:
            workers = render_workers(proc.pid)
            if workers and list(out.glob(".staging-*")) and list((out / ".document-store").rglob("*.pdf")):
                break
            time.sleep(0.2)
        assert proc.poll() is None and workers, f"no render stage seen: {proc.stderr.read().decode()[-3000:]}"

        os.kill(proc.pid, signal.SIGTERM)  # the run's process only, as `kill PID` does
        signalled = time.monotonic()
        _, err = proc.communicate(timeout=60)  # a hang detector, not a speed assertion
        print(f"stopped {time.monotonic() - signalled:.1f} s after SIGTERM")  # measured, not asserted (-s shows it)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    lines = [line for line in err.decode("utf-8", errors="replace").splitlines() if line.strip()]
    assert proc.returncode == 128 + signal.SIGTERM, lines[-20:]
    assert lines[-1].startswith("evalprep: 运行已停止（收到 SIGTERM 信号）") and "未发布" in lines[-1], lines[-20:]
    assert sum("运行已停止" in line for line in lines) == 1
    assert not [w.pid for w in workers if alive(w)]  # no render worker outlives the run
    assert not render_workers(proc.pid)
    leftovers = [str(p) for root in (out, data) for pattern in (".staging-*", ".retired-*", ".*.part")
                 for p in root.rglob(pattern)]
    assert leftovers == []
    assert published(out) == before  # nothing new, nothing half-made, earlier weeks byte for byte
