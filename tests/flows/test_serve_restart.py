"""The weekly schedule survives a stop of `evalprep serve` (a reboot, a service restart): a real Prefect server,
`evalprep serve` as a subprocess stopped with SIGTERM, the deployment still active with its scheduled run, the
slot missed while nothing serves, and the late run executed once when serve starts again."""
from __future__ import annotations

import datetime as dt
import os
import signal
import sys

import pytest

from tests.servers import prefect_server, started, stop, wait_for

pytestmark = pytest.mark.slow
# the slot after the stop is at most 3 minutes away however long serve took to start, and the next one comes
# after the restarted serve has taken the missed run (every minute, later slots would compete with it)
EVERY_3_MINUTES = "*/3 * * * *"


def test_a_slot_missed_while_serve_was_stopped_runs_once_late_when_it_starts_again(small_county, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    late = {"PREFECT_SERVER_SERVICES_LATE_RUNS_AFTER_SECONDS": "5", "PREFECT_SERVER_SERVICES_LATE_RUNS_LOOP_SECONDS": "2"}
    serving = None
    with prefect_server(tmp_path, 300, **late) as (api, env):
        try:
            serve_env = {**env, "PREFECT_API_URL": api, "EVALPREP_DATA_DIR": str(tmp_path / "data"),
                         "EVALPREP_INBOX": str(small_county / "inbox"), "EVALPREP_TIMEZONE": "UTC",
                         "EVALPREP_WEEKLY_CRON": EVERY_3_MINUTES, "EVALPREP_RENDER_PROCESSES": "1"}
            serve_cmd = [sys.executable, "-m", "flows.cli", "serve"]

            with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
                def weekly():
                    return client.read_deployment_by_name("weekly-county-run/weekly-county")

                def runs(deployment):
                    return client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])))

                def scheduled_after(deployment, moment):
                    return sorted((r for r in runs(deployment) if r.state.is_scheduled() and r.expected_start_time > moment),
                                  key=lambda r: r.expected_start_time)

                serving = started(serve_cmd, serve_env, tmp_path / "serve-1.log")
                deployment = wait_for(weekly, "deployments served", 600, serving, tmp_path / "serve-1.log")
                wait_for(lambda: scheduled_after(deployment, dt.datetime.now(dt.timezone.utc)), "runs scheduled", 120,
                         serving, tmp_path / "serve-1.log")
                os.kill(serving.pid, signal.SIGTERM)  # as systemd stops the service
                serving.wait(120)
                stopped = dt.datetime.now(dt.timezone.utc)

                deployment = weekly()
                assert not deployment.paused and all(s.active for s in deployment.schedules)  # a stop pauses nothing
                missed = scheduled_after(deployment, stopped)[0]  # the scheduled runs are still there
                slot = missed.expected_start_time
                assert slot - stopped <= dt.timedelta(minutes=3)
                for earlier in runs(deployment):  # a slot passed while serve #1 was still starting: not this test's
                    if earlier.state.is_scheduled() and earlier.expected_start_time < slot:
                        client.delete_flow_run(earlier.id)

                # nothing serves at the slot: the server marks the run late
                wait_for(lambda: client.read_flow_run(missed.id).state.name == "Late", "the run late", 240)

                serving = started(serve_cmd, serve_env, tmp_path / "serve-2.log")
                done = wait_for(lambda: (r := client.read_flow_run(missed.id)).state.is_final() and r, "the late run",
                                900, serving, tmp_path / "serve-2.log")
                assert done.state.is_completed(), (done.state, (tmp_path / "serve-2.log").read_text()[-3000:])
                assert done.run_count == 1
                states = [s.name for s in client.read_flow_run_states(missed.id)]
                assert "Late" in states and states.count("Running") == 1  # executed once
                same_slot = [r.id for r in runs(weekly()) if r.expected_start_time == slot]
                assert same_slot == [missed.id]  # and no second run for the slot
            assert (tmp_path / "data" / "out" / "2016-W39" / "index.html").is_file()
        finally:
            if serving is not None:
                stop(serving)
