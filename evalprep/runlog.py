"""The run's log: Prefect's run logger inside a Prefect flow or task run (the flow run's log in the UI), the
plain "evalprep" logger elsewhere. Prefect is only looked up, never imported: a process that never loaded it
(a render worker, a direct run) logs to "evalprep" without paying for it."""
from __future__ import annotations

import logging
import sys


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    loggers = sys.modules.get("prefect.logging.loggers")
    if loggers is not None:
        try:
            return loggers.get_run_logger()
        except Exception:  # prefect.exceptions.MissingContextError: not inside a run
            pass
    return logging.getLogger("evalprep")
