"""Every Prefect task of the project, declared once over a plain function: the composite stages of the weekly
run (flows/stages.py), the steps that only talk to Prefect (progress, artifacts), the inspection's scope and
the rehearsal's steps. No input hashing (NO_CACHE): the inputs are large DataFrames, and incremental reruns are
keyed by content hashes of their own (tasks/document_store.py)."""
from __future__ import annotations

from typing import Any, Callable

import evalprep  # noqa: F401  (telemetry off before Prefect is imported)
from prefect import task
from prefect.cache_policies import NO_CACHE

from evalprep.inspection import inspection_scope
from flows import stages
from flows.artifacts import publish_artifacts
from flows.progress import render_batch, start_progress
from flows.run_config import resolve_run, run_metadata
from tasks.dossiers import dossier_count
from tasks.evaluation_design import load_design
from tasks.outbox import deliver_week
from tasks.publish import publish_run, staging_dir
from tasks.rehearsal import draw_rehearsal, pack_folder, rehearsal_context, visits_table, write_pack


def _task(fn: Callable[..., Any], name: str, **options: Any) -> Any:
    return task(fn, name=name, cache_policy=NO_CACHE, **options)


# the weekly county run (flows/weekly.py), in its order
resolve = _task(resolve_run, "resolve-run")
ingest = _task(stages.ingest, "ingest")
assess = _task(stages.assess, "assess")
compare = _task(stages.compare, "compare-with-last-week")
metadata = _task(run_metadata, "run-metadata")
staging = _task(staging_dir, "staging")
write_tables = _task(stages.write_tables, "write-tables")
plan_dossiers = _task(stages.plan_dossiers, "plan-dossiers")
count_dossiers = _task(dossier_count, "count-dossiers")
progress = _task(start_progress, "start-progress")
render_dossiers = _task(render_batch, "render-township-dossiers")
render_summaries = _task(stages.render_summaries, "render-summaries")
publish = _task(publish_run, "publish", retries=2, retry_delay_seconds=1)
record = _task(stages.record, "record-history", retries=2, retry_delay_seconds=1)
artifacts = _task(publish_artifacts, "artifacts", retries=2, retry_delay_seconds=2)
deliver = _task(deliver_week, "deliver-outbox")

# the inspection (flows/inspection.py)
scope = _task(inspection_scope, "inspection-scope")

# the rehearsal (flows/rehearsal.py)
design = _task(load_design, "evaluation-design")
draw = _task(draw_rehearsal, "draw-rehearsal")
rehearsal_view = _task(rehearsal_context, "rehearsal-view-model")
visits = _task(visits_table, "rehearsal-visits")
pack = _task(pack_folder, "rehearsal-folder")
write_rehearsal = _task(write_pack, "render-rehearsal")
