"""Processes the slow tests start and talk to: a free port, a subprocess with its log, waiting for it to be
ready, stopping it, and a real Prefect server (`prefect server start`) on its own PREFECT_HOME."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evalprep.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, seconds: float, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: process ended ({process.returncode}):\n{log.read_text()[-3000:] if log else ''}")
        try:
            result = check()
            if result:
                return result
        except Exception:  # not up yet
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what}: not ready after {seconds} s\n{log.read_text()[-3000:] if log else ''}")


def started(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


@contextmanager
def prefect_server(tmp_path: Path, seconds: float, **settings: str) -> Iterator[tuple[str, dict]]:
    """A Prefect server on a free port (PREFECT_HOME under tmp_path, no UI, no analytics, `settings` added to its
    environment), healthy within `seconds`; yields its API URL and its environment (without PREFECT_API_URL,
    for the processes started against it) and stops it on the way out. Its log: tmp_path/server.log."""
    import httpx

    api = f"http://127.0.0.1:{(port := free_port())}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_UI_ENABLED": "false",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", **settings}
    env.pop("PREFECT_API_URL", None)
    server = started([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                     env, tmp_path / "server.log")
    try:
        wait_for(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, "Prefect server", seconds, server,
                 tmp_path / "server.log")
        yield api, env
    finally:
        stop(server)
