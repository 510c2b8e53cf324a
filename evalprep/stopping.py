"""Stopping a run on SIGTERM or SIGINT (a service stop, a reboot, Ctrl-C): within seconds, render workers
killed, the staging folder removed, nothing published, one line in Chinese, exit status 128 + signal.

Light (no Prefect import): the render workers import it through tasks.dossiers.

How a stop goes in a CLI process (`install()` sets the handlers):
- the first signal calls `request()`: the stop flag is set (publish_run and the render pool look at it), every
  child process (the render workers, a local Dask cluster) is killed, the run's staging folders and its
  temporary files are removed, and a watchdog is armed that ends the process after `GRACE_SECONDS`
  whatever happens; then `Stopped` is raised in the main thread, so the flow run unwinds and Prefect records
  it as crashed.
- during a flow run Prefect's own SIGTERM handler is in place: it raises TerminationSignal in the main thread,
  tasks.publish.discarded_on_failure sees it and calls `request()` (no waiting for render futures), the engine
  reports the run and sends SIGTERM again, which lands on this module's handler.
- the CLI's `main` catches `Stopped`, calls `finish()` (the same clean-up once more, now that no thread
  writes: a thread that wrote into the staging folder after the first removal created it again), prints the
  line and exits.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

GRACE_SECONDS = 20.0  # after a stop request the process ends by then, gracefully or not
_requested = threading.Event()
_signal_number = 0
_installed = False
_cleanups: list[Callable[[], object]] = []
_lock = threading.RLock()


class Stopped(KeyboardInterrupt):
    """The run was stopped by a signal (a KeyboardInterrupt, so that every layer treats it as an interrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def requested() -> bool:
    """Whether this process was asked to stop."""
    return _requested.is_set()


def check() -> None:
    """Raise Stopped when a stop was requested (before anything is published, before a worker starts)."""
    if _requested.is_set():
        raise Stopped(_signal_number or signal.SIGTERM)


def on_stop(cleanup: Callable[[], object]) -> None:
    """Register a clean-up run at every stop request and at the end (idempotent, quick, no exception)."""
    with _lock:
        if cleanup not in _cleanups:
            _cleanups.append(cleanup)


def is_stop(exc: BaseException) -> bool:
    """Whether `exc` is a stop: a KeyboardInterrupt (Stopped, Ctrl-C) or Prefect's TerminationSignal."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    exceptions = sys.modules.get("prefect.exceptions")
    return exceptions is not None and isinstance(exc, exceptions.TerminationSignal)


def kill_children() -> list[int]:
    """SIGKILL every multiprocessing child of this process (render workers, a local Dask cluster) and reap it;
    the pids killed."""
    import multiprocessing

    children = multiprocessing.active_children()
    for child in children:
        try:
            child.kill()
        except (OSError, ValueError):  # already gone / closed
            pass
    for child in children:
        try:
            child.join(5)
        except (OSError, ValueError, AssertionError):
            pass
    return [child.pid for child in children if child.pid]


def _clean_up() -> None:
    kill_children()
    with _lock:
        cleanups = list(_cleanups)
    for cleanup in cleanups:
        try:
            cleanup()
        except Exception:  # noqa: BLE001  (a clean-up never stops the stop)
            pass


def request(signum: int = signal.SIGTERM) -> None:
    """Stop this process's runs: set the flag, kill the workers, remove staging folders (idempotent). In a CLI
    process (install()), also arm the watchdog that ends the process after GRACE_SECONDS."""
    global _signal_number
    with _lock:
        first = not _requested.is_set()
        if first:
            _signal_number = signum
            _requested.set()
    _clean_up()
    if first and _installed:
        watchdog = threading.Timer(GRACE_SECONDS, finish)
        watchdog.daemon = True
        watchdog.start()


def message(signum: int) -> str:
    """The one line a stopped run prints."""
    name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ else str(signum)
    return (f"evalprep: 运行已停止（收到 {name} 信号）：本次运行未发布任何结果，临时文件已删除，之前发布的各周未受影响；"
            f"需要时请重新运行。")


def exit_status(signum: int | None = None) -> int:
    return 128 + (signum or _signal_number or signal.SIGTERM)


def finish() -> None:
    """The end of a stopped process: clean up once more, stop Prefect's temporary API server (its atexit hook
    does not run after os._exit; it shares our stderr, so it goes before our line, which stays the last), print
    the line and exit at once (threads still blocked are not waited for)."""
    with _lock:
        signum = _signal_number or signal.SIGTERM
        _requested.set()
        _clean_up()
        server = sys.modules.get("prefect.server.api.server")
        if server is not None:
            for instance in list(getattr(server.SubprocessASGIServer, "_instances", {}).values()):
                process = getattr(instance, "server_process", None)
                if process is not None:
                    try:
                        process.terminate()
                        process.wait(5)
                    except Exception:  # noqa: BLE001
                        process.kill()
        try:
            sys.stderr.write(message(signum) + "\n")
            sys.stderr.flush()
            sys.stdout.flush()
        except Exception:  # noqa: BLE001
            pass
        os._exit(exit_status(signum))


def _handle(signum: int, _frame: object) -> None:
    if _unwinding.is_set():
        finish()  # a second signal while the run unwinds: end now
    _unwinding.set()
    request(signum)
    raise Stopped(signum)


_unwinding = threading.Event()  # Stopped was raised: the main thread is on its way to the CLI's main


def install() -> None:
    """SIGTERM and SIGINT stop this process's runs (the CLI calls this first)."""
    global _installed
    _installed = True
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _handle)
