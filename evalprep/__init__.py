"""evalprep: readiness pipeline for the poverty-exit third-party evaluation."""
import os

# The county intranet has no internet: no analytics, no telemetry, no call home (set before any import
# of Prefect or GX reads them).
for _key, _value in {
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "100",
}.items():
    os.environ.setdefault(_key, _value)

# Every log record of the process (evalprep's logger, Prefect's run loggers and the handlers Prefect sets up
# later) goes through the redaction gate: no ID or phone number typed into a submission reaches a log whole.
from evalprep.redaction import install_log_redaction  # noqa: E402

install_log_redaction()
