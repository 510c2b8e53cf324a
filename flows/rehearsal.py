"""模拟评估 (rehearsal): the weekly flow's stages from an inbox week to readiness, then ONE evaluators' sample
drawn by the simulator's design and its pack (rehearsal.pdf, visits.csv) under OUT/rehearsal/<week>-seed<N>/.
Thin over tasks/rehearsal.py."""
from __future__ import annotations

from typing import Any

import evalprep  # noqa: F401  (telemetry off before Prefect is imported)
from prefect import flow

from expectations.catalogue import DEFAULT_PROFILE
from flows import prefect_tasks as t
from tasks.publish import sweep_stale
from tasks.rehearsal import DEFAULT_SEED


@flow(name="rehearsal")
def rehearsal_run(inbox: str | None = None, week: str | None = None, seed: int = DEFAULT_SEED, out: str | None = None,
                  profile: str = DEFAULT_PROFILE, reference: str | None = None,
                  design: dict[str, Any] | None = None) -> str:
    """One week of township submissions (the inbox's newest unless given) → readiness → one evaluators'
    sample (seeded) → OUT/rehearsal/<week>-seed<N>/rehearsal.pdf and visits.csv. Returns that folder.
    `design`: fields of the catalogue's evaluation design to override (a `name`, `villages`, `households`),
    as load_design takes them; default the run's design (the catalogue's, with the county's overrides from
    reference/county.yaml), which the simulator uses."""
    config = t.resolve(inbox, week, out, profile, None, (), (), reference)
    # joins the live runs (their .part files are never swept) and sweeps what killed runs left
    sweep_stale(config.out_dir, config.settings.archive_dir, config.settings.history_dir)
    ingested = t.ingest(config, departments=False)  # the departments' answers are the weekly run's
    chosen = config.design if design is None else t.design(None, design)
    assessed = t.assess(config, ingested, chosen)
    draw = t.draw(assessed.readiness, chosen, int(seed), ingested.week.tables["missed"])
    run = t.metadata(config, ingested.week.submissions)
    context = t.rehearsal_view(draw, assessed.readiness, assessed.frames["members"], assessed.frames["surveys"],
                               config.profile, run)
    folder = t.write_rehearsal(context, t.visits(draw, assessed.readiness), t.pack(config.out_dir, config.week, int(seed)))
    return str(folder)
