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
