"""The weekly run's composite stages: ingest → assess → compare with last week → write and render → publish and
record. Plain functions over the run's RunConfig (flows/run_config.py), each calling the pure stage functions
of tasks/ in order; flows/prefect_tasks.py declares them as Prefect tasks, flows/weekly.py calls them in order, and
the tests and benchmarks call them directly (`run_week`). No Prefect here."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from flows.run_config import RunConfig, run_metadata
from tasks.answers import attach_answers, dossier_answers, record_answers
from tasks.assess import Readiness, assess_readiness
from tasks.criteria_frames import criteria_frames
from tasks.departments import department_problem_list, with_answers
from tasks.document_store import prune_store
from tasks.dossiers import render_jobs, render_rollups, rendering_report, township_batches, weekly_trend
from tasks.feedback import write_feedback
from tasks.history import changes_since, previous_figures, previous_ledger, record_ledger, record_week
from tasks.index_page import write_index_page
from tasks.ingest.department_answers import DepartmentAnswers, department_answers, read_department_files
from tasks.ingest.week import WeekIngest, ingest_week
from tasks.ledger import ordered_problems, week_ledger, write_ledger
from tasks.outbox import deliver_week, week_outbox
from tasks.outliers import outliers
from tasks.publish import (
    discarded_on_failure, publish_run, staging_dir, sweep_stale, write_json, write_rendering, write_run_tables,
    write_validation_results,
)
from tasks.quality_issues import merged_issues
from tasks.rollups import readiness_rollups
from tasks.simulate import simulate_evaluation
from tasks.validate import Validation, validate_profile


@dataclass(frozen=True)
class Ingested:
    """The week's township submissions (archived, read, the winners' tables) and the departments' answer files."""

    week: WeekIngest
    department_files: list


@dataclass(frozen=True)
class Assessed:
    """The criteria frames, their validation, every verdict (readiness) and every data problem (issues)."""

    frames: dict[str, pd.DataFrame]
    validation: Validation
    readiness: Readiness
    issues: pd.DataFrame


@dataclass(frozen=True)
class Compared:
    """What needs the whole county or last week: roll-ups, changes, plausibility warnings, the evaluators'
    simulation, the departments' lists with their answers, the rectification ledger, the villages' trends."""

    rollups: dict[str, pd.DataFrame]
    last_week_known: bool
    changes: pd.DataFrame
    outliers: pd.DataFrame
    simulation: dict[str, Any]
    problems: pd.DataFrame  # unanswered, then overdue items first
    answers: DepartmentAnswers
    ledger: pd.DataFrame
    trend: pd.DataFrame


def county_wide(config: RunConfig) -> bool:
    """Departments' answers, the ledger's record and mail belong to county runs; an inspection only shows them."""
    return config.rollups == "county"


def ingest(config: RunConfig, departments: bool = True) -> Ingested:
    """Every received file archived first, then read; one bad file never stops the others."""
    settings = config.settings
    week = ingest_week(config.week_dir, config.week, settings.archive_dir, config.register, settings.max_file_bytes,
                       config.townships, config.deadline)
    files = read_department_files(config.week_dir, config.week, settings.archive_dir, settings.max_file_bytes,
                                  departments and county_wide(config))
    return Ingested(week, files)


def assess(config: RunConfig, ingested: Ingested, design: Any = None) -> Assessed:
    """Criteria frames → one GX validation county-wide → every criterion's verdict → the data problems."""
    tables = ingested.week.tables
    frames = criteria_frames(tables, config.as_of, config.profile, county_rural_income=config.county_rural_income,
                             previous_income_ratio=config.previous_income_ratio)
    validation = validate_profile(frames, config.profile)
    readiness = assess_readiness(frames, validation.failures, config.profile, config.design if design is None else design)
    issues = merged_issues(ingested.week.issues, frames, validation.failures, ingested.week.headers)
    return Assessed(frames, validation, readiness, issues)


def compare(config: RunConfig, ingested: Ingested, assessed: Assessed) -> Compared:
    """Against the history: last week's figures, the ledger from the newest earlier week's, the answers in force."""
    profile, week, history = config.profile, config.week, config.settings.history_dir
    readiness, frames = assessed.readiness, assessed.frames
    last_villages, last_households = previous_figures(history, profile.name, week)
    problems = department_problem_list(readiness, frames["projects"], profile)
    answers = department_answers(ingested.department_files, problems, history, profile, week)
    problems = with_answers(problems, answers.current, profile)  # unanswered items first
    ledger = week_ledger(previous_ledger(history, profile.name, week), problems, assessed.issues, frames,
                         ingested.week.headers, ingested.week.submissions, profile, week, config.as_of,
                         config.evaluation_date)
    return Compared(
        rollups=readiness_rollups(readiness, profile.year, config.targets),
        last_week_known=last_villages is not None,
        changes=changes_since(last_villages, readiness.villages),
        outliers=outliers(readiness.households, readiness.villages, last_households, last_villages),
        simulation=simulate_evaluation(readiness, frames["surveys"], profile, ingested.week.tables["missed"],
                                       design=config.design),
        problems=ordered_problems(problems, ledger),  # overdue items before those
        answers=answers,
        ledger=ledger,
        trend=weekly_trend(history, profile.name, week, readiness),
    )


def write_tables(config: RunConfig, stage: Path, ingested: Ingested, assessed: Assessed, compared: Compared) -> None:
    """The week's tables, the townships' feedback workbooks, the GX results and the simulation, staged."""
    more = {**compared.rollups, "outliers.csv": compared.outliers, "readiness/changes.csv": compared.changes}
    if county_wide(config):
        more |= {"departments.csv": compared.answers.files, "department_issues.csv": compared.answers.issues}
    submissions = ingested.week.submissions
    write_run_tables(stage, submissions, assessed.issues, assessed.readiness, more)
    write_feedback(stage, config.week, submissions, assessed.issues, config.settings.archive_dir,
                   config.settings.max_file_bytes)
    write_validation_results(stage, assessed.validation.results)
    write_json(stage / "readiness" / "simulation.json", compared.simulation)


def plan_dossiers(config: RunConfig, ingested: Ingested, assessed: Assessed, compared: Compared) -> list[list]:
    """The village dossiers to render, in batches of one township each."""
    return township_batches(assessed.readiness, config.villages, assessed.frames["projects"], assessed.issues,
                            compared.trend, ingested.week.submissions, dossier_answers(compared.problems))


def render_summaries(config: RunConfig, stage: Path, run: dict, dossiers: list, ingested: Ingested,
                     assessed: Assessed, compared: Compared) -> pd.DataFrame:
    """After the dossiers: the ledger files, the roll-up documents, rendering.csv, index.html and (county runs)
    the outbox. Returns the rendering report (every document, whether it rendered)."""
    submissions, readiness = ingested.week.submissions, assessed.readiness
    write_ledger(stage, attach_answers(compared.ledger, compared.answers.current), run, config.townships,
                 config.villages)
    rollups = render_rollups(readiness, submissions, assessed.issues, compared.simulation, compared.problems, stage,
                             config.profile.name, run, config.settings.render_processes, config.rollups,
                             compared.ledger)
    rendering = rendering_report(dossiers, rollups)
    write_rendering(stage, rendering)
    write_index_page(stage, readiness, compared.rollups, compared.problems, rendering, run, config.profile.name,
                     submissions)
    if county_wide(config):  # an inspection's lists are partial: only a county run mails them
        week_outbox(stage, config, run, rendering, compared.problems, readiness.villages, assessed.issues)
    return rendering


def record(config: RunConfig, assessed: Assessed, compared: Compared) -> None:
    """After publishing (a failed run leaves no history): the week's figures; a county run also its ledger and
    the departments' new answers (an inspection shows them, never advances them); the stores pruned."""
    history, profile = config.settings.history_dir, config.profile.name
    record_week(history, profile, config.week, assessed.readiness)
    if county_wide(config):
        record_ledger(history, profile, config.week, compared.ledger)
        record_answers(history, profile, config.week, compared.answers.new)
    for store_root in (config.out_dir, config.settings.archive_dir):  # the documents, the feedback workbooks
        prune_store(store_root, config.settings.document_store_days)


def run_week(config: RunConfig, timings: dict[str, float] | None = None) -> Path:
    """The weekly flow's stages in the flow's order as plain calls (no Prefect API, dossier batches in threads as
    Prefect's default runner does): the benchmarks' baseline and the tests' fast path. tests/flows/
    test_direct_calls.py pins that it gives the Prefect run's files byte for byte. `timings`: seconds per stage."""
    from concurrent.futures import ThreadPoolExecutor

    timings = {} if timings is None else timings

    def timed(name: str, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - started

    sweep_stale(config.out_dir, config.settings.archive_dir, config.settings.history_dir)
    ingested = timed("ingest", ingest, config)
    assessed = timed("assess", assess, config, ingested)
    compared = timed("compare", compare, config, ingested, assessed)
    run = run_metadata(config, ingested.week.submissions)
    stage = staging_dir(config.out_dir, config.folder, run["run_id"])
    with discarded_on_failure(stage):
        timed("write-tables", write_tables, config, stage, ingested, assessed, compared)
        batches = plan_dossiers(config, ingested, assessed, compared)
        processes = config.settings.render_processes

        def render(batch: list) -> list:
            return render_jobs(batch, stage, config.profile.name, run, processes)

        with ThreadPoolExecutor(max(len(batches), 1)) as pool:
            dossiers = timed("render-dossiers", lambda: list(pool.map(render, batches)))
        timed("render-summaries", render_summaries, config, stage, run, dossiers, ingested, assessed, compared)
        published = timed("publish", publish_run, stage, config.out_dir, config.folder)
        timed("record", record, config, assessed, compared)
    if county_wide(config):
        deliver_week(published, config.out_dir, config.week)
    return published
