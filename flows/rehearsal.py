"""模拟评估 (rehearsal): the weekly flow's stages from an inbox week to readiness, then ONE evaluators' sample
drawn by the simulator's design and its pack (rehearsal.pdf, visits.csv) under OUT/rehearsal/<week>-seed<N>/.
Thin over tasks/rehearsal.py."""
from __future__ import annotations

from typing import Any

import evalprep  # noqa: F401  (telemetry off before Prefect is imported)
from prefect import flow

from expectations.catalogue import DEFAULT_PROFILE
from flows.weekly import metadata_task, resolve_task
from tasks import stage_task
from tasks.assess import assess_task
from tasks.criteria_frames import criteria_frames_task
from tasks.evaluation_design import load_design
from tasks.ingest import ingest_task
from tasks.publish import sweep_stale
from tasks.rehearsal import DEFAULT_SEED, draw_rehearsal, pack_folder, rehearsal_context, visits_table, write_pack
from tasks.validate import validate_task

design_task = stage_task(load_design, name="evaluation-design")
draw_task = stage_task(draw_rehearsal, name="draw-rehearsal")
context_task = stage_task(rehearsal_context, name="rehearsal-view-model")
visits_task = stage_task(visits_table, name="rehearsal-visits")
folder_task = stage_task(pack_folder, name="rehearsal-folder")
write_pack_task = stage_task(write_pack, name="render-rehearsal")


@flow(name="rehearsal")
def rehearsal_run(inbox: str | None = None, week: str | None = None, seed: int = DEFAULT_SEED, out: str | None = None,
                  profile: str = DEFAULT_PROFILE, reference: str | None = None,
                  design: dict[str, Any] | None = None) -> str:
    """One week of township submissions (the inbox's newest unless given) → readiness → one evaluators'
    sample (seeded) → OUT/rehearsal/<week>-seed<N>/rehearsal.pdf and visits.csv. Returns that folder.
    `design`: fields of the catalogue's evaluation design to override (a `name`, `villages`, `households`),
    as load_design takes them; default the run's design (the catalogue's, with the county's overrides from
    reference/county.yaml), which the simulator uses."""
    config = resolve_task(inbox, week, out, profile, None, (), (), reference)
    # joins the live runs (their .part files are never swept) and sweeps what killed runs left
    sweep_stale(config.out_dir, config.settings.archive_dir, config.settings.history_dir)
    ingest = ingest_task(config.week_dir, config.week, config.settings.archive_dir, config.register,
                         config.settings.max_file_bytes, config.townships, config.deadline)
    frames = criteria_frames_task(ingest.tables, config.as_of, config.profile,
                                  county_rural_income=config.county_rural_income,
                                  previous_income_ratio=config.previous_income_ratio)
    validation = validate_task(frames, config.profile)
    chosen = config.design if design is None else design_task(None, design)
    readiness = assess_task(frames, validation.failures, config.profile, chosen)
    draw = draw_task(readiness, chosen, int(seed), ingest.tables["missed"])
    run = metadata_task(config, ingest.submissions)
    context = context_task(draw, readiness, frames["members"], frames["surveys"], config.profile, run)
    visits = visits_task(draw, readiness)
    folder = write_pack_task(context, visits, folder_task(config.out_dir, config.week, int(seed)))
    return str(folder)
