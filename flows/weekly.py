"""The weekly county run: ingest → validate → assess → render → publish."""
from __future__ import annotations

import evalprep  # noqa: F401  (telemetry off before Prefect is imported)
from prefect import flow, unmapped

from flows.run_config import resolve_run, run_metadata
from flows.runners import county_task_runner
from expectations.catalogue import DEFAULT_PROFILE
from tasks import stage_task
from tasks.artifacts import artifacts_task
from tasks.assess import assess_task
from tasks.criteria_frames import criteria_frames_task
from tasks.answers import attach_answers_task, dossier_answers, record_answers_task
from tasks.departments import answered_list_task, problem_list_task
from tasks.document_store import prune_task
from tasks.dossiers import (
    dossier_count, render_batch_task, render_rollups_task, rendering_report, township_batches, trend_task,
)
from tasks.feedback import feedback_task
from tasks.history import changes_task, previous_ledger_task, previous_task, record_ledger_task, record_week_task
from tasks.index_page import index_page_task
from tasks.ingest import ingest_task
from tasks.ingest.department_answers import department_answers_task, read_department_files_task
from tasks.ledger import ledger_task, order_problems_task, write_ledger_task
from tasks.outliers import outliers_task
from tasks.outbox import deliver_task, failure_hook, outbox_task
from tasks.progress import start_progress_task
from tasks.quality_issues import merge_issues_task
from tasks.rollups import rollups_task
from tasks.simulate import simulate_task
from tasks.publish import (
    discarded_on_failure, publish_task, staging_dir, sweep_stale, write_json_task, write_rendering_task,
    write_tables_task, write_validation_task,
)
from tasks.validate import validate_task

resolve_task = stage_task(resolve_run, name="resolve-run")
metadata_task = stage_task(run_metadata, name="run-metadata")
staging_task = stage_task(staging_dir, name="staging")
batches_task = stage_task(township_batches, name="plan-dossiers")
report_task = stage_task(rendering_report, name="rendering-report")
total_task = stage_task(dossier_count, name="count-dossiers")


@flow(name="weekly-county-run", task_runner=county_task_runner(), on_failure=[failure_hook])
def weekly_county_run(inbox: str | None = None, week: str | None = None, out: str | None = None, profile: str = DEFAULT_PROFILE,
                      as_of: str | None = None, townships: list[str] | None = None, villages: list[str] | None = None,
                      reference: str | None = None) -> str:
    """One week of township submissions (the inbox's newest unless given) → readiness tables and documents
    under OUT/<week>/ (OUT/<week>-inspection-<codes>/ when narrowed to some townships or villages)."""
    config = resolve_task(inbox, week, out, profile, as_of, townships or (), villages or (), reference)
    week = config.week
    # what killed runs left (dead staging folders, .part files); in this process, not a task: its locks are the run's
    sweep_stale(config.out_dir, config.settings.archive_dir, config.settings.history_dir)
    ingest = ingest_task(config.week_dir, week, config.settings.archive_dir, config.register,
                         config.settings.max_file_bytes, config.townships, config.deadline)
    county_wide = config.rollups == "county"  # departments' answers, the ledger and mail: county runs only
    department_files = read_department_files_task(config.week_dir, week, config.settings.archive_dir,
                                                  config.settings.max_file_bytes, county_wide)
    frames = criteria_frames_task(ingest.tables, config.as_of, config.profile,
                                  county_rural_income=config.county_rural_income,
                                  previous_income_ratio=config.previous_income_ratio)
    validation = validate_task(frames, config.profile)
    readiness = assess_task(frames, validation.failures, config.profile, config.design)
    issues = merge_issues_task(ingest.issues, frames, validation.failures, ingest.headers)
    rollups = rollups_task(readiness, config.profile.year, config.targets)
    history = config.settings.history_dir
    last_villages, last_households = previous_task(history, config.profile.name, week)
    warnings = outliers_task(readiness.households, readiness.villages, last_households, last_villages)
    changes = changes_task(last_villages, readiness.villages)
    simulation = simulate_task(readiness, frames["surveys"], config.profile, ingest.tables["missed"], design=config.design)
    problems = problem_list_task(readiness, frames["projects"], config.profile)
    answers = department_answers_task(department_files, problems, history, config.profile, week)
    problems = answered_list_task(problems, answers.current, config.profile)  # unanswered items first
    ledger = ledger_task(previous_ledger_task(history, config.profile.name, week), problems, issues, frames,
                         ingest.headers, ingest.submissions, config.profile, week, config.as_of, config.evaluation_date)
    problems = order_problems_task(problems, ledger)  # overdue items before those
    run = metadata_task(config, ingest.submissions)
    stage = staging_task(config.out_dir, config.folder, run["run_id"])
    with discarded_on_failure(stage) as writing:  # a failed run leaves neither its staging folder nor history
        write_tables_task(stage, ingest.submissions, issues, readiness,
                          {**rollups, "outliers.csv": warnings, "readiness/changes.csv": changes,
                           **({"departments.csv": answers.files, "department_issues.csv": answers.issues}
                              if county_wide else {})})
        feedback_task(stage, week, ingest.submissions, issues, config.settings.archive_dir, config.settings.max_file_bytes)
        write_validation_task(stage, validation.results)
        write_json_task(stage / "readiness" / "simulation.json", simulation)
        trend = trend_task(history, config.profile.name, week, readiness)
        batches = batches_task(readiness, config.villages, frames["projects"], issues, trend, ingest.submissions,
                               dossier_answers(problems))
        processes = config.settings.render_processes
        progress = start_progress_task(batches)
        dossiers = render_batch_task.map(batches, unmapped(stage), config.profile.name, unmapped(run), processes,
                                         unmapped(progress), unmapped(total_task(batches)))
        writing.append(dossiers)
        write_ledger_task(stage, attach_answers_task(ledger, answers.current), run, config.townships, config.villages)
        rollups_rendered = render_rollups_task(readiness, ingest.submissions, issues, simulation, problems, stage,
                                               config.profile.name, run, processes, config.rollups, ledger)
        rendering = report_task(dossiers, rollups_rendered)
        write_rendering_task(stage, rendering)
        index_page_task(stage, readiness, rollups, problems, rendering, run, config.profile.name, ingest.submissions)
        if county_wide:  # an inspection's lists are partial: only a county run mails them; staged, sent after publishing
            outbox_task(stage, config, run, rendering, problems, readiness.villages, issues)
        published = publish_task(stage, config.out_dir, config.folder)
        record_week_task(history, config.profile.name, week, readiness)  # after publishing: a failed run leaves no history
        if county_wide:  # an inspection shows the ledger and the answers, never advances them
            record_ledger_task(history, config.profile.name, week, ledger)
            record_answers_task(history, config.profile.name, week, answers.new)
        prune_task(config.out_dir, config.settings.document_store_days, wait_for=[published])
        artifacts_task(week, rollups["readiness/townships.csv"], changes, last_villages is not None, published, rendering)
        if county_wide:
            deliver_task(published, config.out_dir, week)
        return str(published)
