"""The weekly county run: ingest → assess → compare with last week → write and render → publish and record.
Each step is a composite stage of flows/stages.py, declared as a Prefect task in flows/prefect_tasks.py."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import evalprep  # noqa: F401  (telemetry off before Prefect is imported)
from prefect import flow, unmapped

from evalprep.redaction import redact_text
from expectations.catalogue import DEFAULT_PROFILE
from flows import prefect_tasks as t
from flows.runners import county_task_runner
from flows.stages import county_wide
from flows.run_config import county_name
from tasks.outbox import failure_notice
from tasks.publish import discarded_on_failure, sweep_stale


def failure_hook(flow: Any, flow_run: Any, state: Any) -> None:
    """on_failure: the office's notice (tasks/outbox.failure_notice), naming the county as the run would have.
    Never raises: a failing notice must not hide the run's own failure."""
    parameters = dict(flow_run.parameters or {})
    try:
        failure_notice(parameters, str(flow_run.name), redact_text(str(state.message or "")),
                       dt.datetime.now(dt.timezone.utc), county_name(parameters.get("inbox"), parameters.get("reference")))
    except Exception as exc:  # noqa: BLE001  (the hook reports and returns)
        logging.getLogger("evalprep").error("失败通知没有发出：%s", redact_text(repr(exc)))


@flow(name="weekly-county-run", task_runner=county_task_runner(), on_failure=[failure_hook])
def weekly_county_run(inbox: str | None = None, week: str | None = None, out: str | None = None, profile: str = DEFAULT_PROFILE,
                      as_of: str | None = None, townships: list[str] | None = None, villages: list[str] | None = None,
                      reference: str | None = None) -> str:
    """One week of township submissions (the inbox's newest unless given) → readiness tables and documents
    under OUT/<week>/ (OUT/<week>-inspection-<codes>/ when narrowed to some townships or villages)."""
    config = t.resolve(inbox, week, out, profile, as_of, townships or (), villages or (), reference)
    # what killed runs left (dead staging folders, .part files); in this process, not a task: its locks are the run's
    sweep_stale(config.out_dir, config.settings.archive_dir, config.settings.history_dir)
    ingested = t.ingest(config)
    assessed = t.assess(config, ingested)
    compared = t.compare(config, ingested, assessed)
    run = t.metadata(config, ingested.week.submissions)
    stage = t.staging(config.out_dir, config.folder, run["run_id"])
    with discarded_on_failure(stage) as writing:  # a failed run leaves neither its staging folder nor history
        t.write_tables(config, stage, ingested, assessed, compared)
        batches = t.plan_dossiers(config, ingested, assessed, compared)
        dossiers = t.render_dossiers.map(batches, unmapped(stage), config.profile.name, unmapped(run),
                                         config.settings.render_processes, unmapped(t.progress(batches)),
                                         unmapped(t.count_dossiers(batches)))
        writing.append(dossiers)
        # the batches' results, or the first batch's error (a full disk ends the run here, before publishing)
        rendering = t.render_summaries(config, stage, run, dossiers.result(), ingested, assessed, compared)
        published = t.publish(stage, config.out_dir, config.folder)
        t.record(config, assessed, compared)
        t.artifacts(config.week, compared.rollups["readiness/townships.csv"], compared.changes,
                    compared.last_week_known, published, rendering)
        if county_wide(config):
            t.deliver(published, config.out_dir, config.week)
        return str(published)
