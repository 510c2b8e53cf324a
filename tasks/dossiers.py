"""Every document of a run rendered in long-lived worker processes: village dossiers batched per township,
then the roll-ups (county summary, township summaries, department problem lists) in the same pool."""
from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from evalprep import stopping
from expectations.catalogue import Profile, load_profile
from tasks.assess import Readiness
from tasks.document_store import DocumentStore, RowHashed, Slice, digest, document_key, slice_digests
from evalprep.runlog import run_logger
from evalprep.files import disk_error
from tasks.departments import department_names, village_blockers, villages_turned_by
from tasks.history import village_trend
from tasks.render.paths import (  # noqa: F401  (dossier_path and safe_name are part of this module's API)
    COUNTY_SUMMARY, attachment_path, department_list_path, dossier_path, safe_name, township_summary_path,
)

VILLAGE, COUNTY, TOWNSHIP, DEPARTMENT = "village", "county", "township", "department"
TREND_FIELDS = ["village_code", "grade", "failing_criteria", "satisfaction_rate", "poverty_incidence",
                "households_failing"]

_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()
_RETRY_POOL: ProcessPoolExecutor | None = None
_RETRY_LOCK = threading.Lock()
WORKER_DIED = "渲染进程意外退出（可能是内存不足），重试一次仍未成功"


@dataclass(frozen=True)
class DocumentJob:
    """One document to render: its kind, where it goes (relative to the run folder), its view model's inputs."""

    kind: str
    path: str
    args: dict[str, Any] = field(hash=False, compare=False)
    village_code: str = ""
    inputs: str = ""  # digest of args, when planning computed it county-wide (document_store.slice_digests)


@dataclass(frozen=True)
class Rendered:
    """What rendering one document gave."""

    path: str
    village_code: str
    ok: bool
    seconds: float
    error: str = ""
    attachment: str = ""
    document_id: str = ""
    reused: bool = False


# ------------------------------------------------------------------------------------------------- planning

def weekly_trend(history_dir: Path, profile: str, week: str, readiness: Readiness) -> pd.DataFrame:
    """Every village's figures per week: the recorded earlier weeks plus this run's (recorded only at the end
    of the run), one row per village and week."""
    past = village_trend(history_dir, profile, week)
    past = past.loc[past["week"] != week, ["week", *TREND_FIELDS]]
    now = readiness.villages[TREND_FIELDS].assign(week=week)[["week", *TREND_FIELDS]]
    return pd.concat([frame for frame in (past, now) if len(frame)], ignore_index=True) if len(now) else past


def _by(frame: pd.DataFrame | None, column: str) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """A frame split by one column, and an empty frame of the same columns for the keys it lacks."""
    if frame is None or column not in frame:
        return {}, pd.DataFrame()
    return dict(tuple(frame.groupby(column, sort=False))), frame.iloc[0:0]


def township_batches(readiness: Readiness, villages: tuple[str, ...] = (), projects: pd.DataFrame | None = None,
                     issues: pd.DataFrame | None = None, trend: pd.DataFrame | None = None,
                     submissions: pd.DataFrame | None = None,
                     answers: pd.DataFrame | None = None) -> list[list[DocumentJob]]:
    """Dossier jobs grouped by township (one Prefect task each), optionally only some villages; each job carries
    its village's slice of the readiness tables, 双七 projects, issues and trend, and its township's submissions."""
    table = readiness.villages
    if villages:
        table = table[table["village_code"].isin(villages)]
    frames = {"criteria": readiness.village_criteria, "households": readiness.households, "projects": projects,
              "issues": issues, "trend": trend}
    if answers is not None:  # the village's items on the department lists, with their answers (tasks/answers.py)
        frames["answers"] = answers
    slices = {name: _by(frame, "village_code") for name, frame in frames.items()}
    digests = {name: slice_digests(frame, "village_code") for name, frame in frames.items()}
    by_township, no_submissions = _by(submissions, "township_code")
    submission_digests = slice_digests(submissions, "township_code")
    batches: dict[str, list[DocumentJob]] = {}
    for village in table.sort_values("village_code").to_dict("records"):
        code, township = village["village_code"], village["township_code"]
        args = {name: groups.get(code, empty) for name, (groups, empty) in slices.items()}
        args["submissions"] = by_township.get(township, no_submissions)
        inputs = digest(village, {name: digests[name].get(code, "") for name in frames},
                        submission_digests.get(township, ""))
        job = DocumentJob(VILLAGE, dossier_path(village), {"village": village, **args}, code, inputs)
        batches.setdefault(township, []).append(job)
    return [batches[t] for t in sorted(batches)]


def dossier_count(batches: list[list[DocumentJob]]) -> int:
    return sum(len(batch) for batch in batches)


def rollup_jobs(readiness: Readiness, submissions: pd.DataFrame, issues: pd.DataFrame, simulation: dict[str, Any],
                problems: pd.DataFrame, profile: Profile, scope: str = "county",
                ledger: pd.DataFrame | None = None) -> list[DocumentJob]:
    """The county summary, one summary per township and one problem list per department (scope "county");
    only the township summaries ("townships"); nothing ("none"), see RunConfig.rollups. Each county-wide frame
    is hashed once (document_store.RowHashed) and each job carries the digest of its parts."""
    if scope == "none":
        return []
    villages, households = RowHashed(readiness.villages), RowHashed(readiness.households)
    criteria, sent = RowHashed(readiness.village_criteria), RowHashed(submissions)
    ledger_rows = None if ledger is None else RowHashed(ledger)
    jobs = [_rollup(COUNTY, COUNTY_SUMMARY, villages=villages.whole(), households=households.whole(),
                    village_criteria=criteria.whole(), submissions=sent.whole(), simulation=simulation,
                    **_ledger_part(ledger_rows, None, None))]
    households_by, sent_by = households.groups("township_code"), sent.groups("township_code")
    issues_by, no_issues = _by(issues, "township_code")
    for (code, name), township in sorted(villages.groups(["township_code", "township_name"]).items()):
        in_township = criteria.frame["village_code"].isin(township.frame["village_code"])
        jobs.append(_rollup(TOWNSHIP, township_summary_path(code, name), villages=township,
                            households=households_by.get(code) or households.where(False),
                            village_criteria=criteria.where(in_township),
                            submissions=sent_by.get(code) or sent.where(False), issues=issues_by.get(code, no_issues),
                            **_ledger_part(ledger_rows, "township_code", code)))
    if scope == "townships":
        return jobs[1:]
    blockers = village_blockers(readiness.villages, profile)
    items_by, no_items = _by(problems, "department")
    # The water and power departments word their items with the villages' facts (issue 11); V-WATER's
    # department also sets the county's pipeline backlog against the villages' figures.
    facts = [c for c in ("V-WATER", "V-POWER") if c in profile.codes]
    for department in department_names(profile, problems):
        items = items_by.get(department, no_items)
        wants_villages = any(department in profile.criterion(c).departments for c in facts)
        its_villages = households.frame["village_code"].isin(set(items["village_code"])) if len(items) else False
        jobs.append(_rollup(DEPARTMENT, department_list_path(department), department=department, items=items,
                            **({"villages": villages.whole()} if wants_villages else {}),
                            households=households.where(its_villages), turned=villages_turned_by(items, blockers),
                            **_ledger_part(ledger_rows, "department", department)))
    return jobs


def _rollup(kind: str, path: str, **parts: Any) -> DocumentJob:
    """A roll-up job; a part given as a Slice enters the view model as its frame and the job's key as its
    digest, so the job's inputs digest equals digest(args) without hashing the frame again."""
    args = {name: part.frame if isinstance(part, Slice) else part for name, part in parts.items()}
    keyed = {name: part.digest if isinstance(part, Slice) else part for name, part in parts.items()}
    return DocumentJob(kind, path, args, inputs=digest(keyed))


def _ledger_part(ledger: RowHashed | None, column: str | None, value: str | None) -> dict[str, Slice]:
    """The rectification ledger's rows a roll-up shows (tasks/ledger.py); nothing when the run has none."""
    if ledger is None:
        return {}
    return {"ledger": ledger.whole() if column is None else ledger.where(ledger.frame[column] == value)}


# ------------------------------------------------------------------------------------------------ rendering

def _warm_up() -> None:
    """Worker start: import WeasyPrint, check HarfBuzz subsetting, parse print.css once, then freeze the heap
    so garbage collection does not rescan it on every dossier (measured ≈ 0.1 s per dossier)."""
    import signal

    from tasks.render.pdf import PRINT_CSS, check_harfbuzz_subset, stylesheet

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the run's process kills us
    check_harfbuzz_subset()
    stylesheet(PRINT_CSS)
    gc.collect()
    gc.freeze()


def _give_back_memory() -> None:
    """Return the heap freed by the last document to the system (glibc keeps it otherwise, and a worker
    grew from ≈ 250 to ≈ 410 MB over a county run)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _new_pool(processes: int) -> ProcessPoolExecutor:
    stopping.check()  # a stopped run starts no worker
    return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_warm_up)


def render_pool(processes: int) -> ProcessPoolExecutor:
    """One long-lived pool per process (spawned: a fork of a process with Prefect's threads can hang)."""
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:  # two runs in one process (a weekly run and an inspection) share the pool
        if _POOL is None or _POOL_SIZE != processes:
            if _POOL is not None:
                _POOL.shutdown()
            _POOL = _new_pool(processes)
            _POOL_SIZE = processes
        return _POOL


def _discard_pool(broken: ProcessPoolExecutor) -> None:
    """Forget the shared pool after one of its workers died, so that the next batch starts a new one (other
    batches that met the same dead pool find it gone already)."""
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL is broken:
            _POOL, _POOL_SIZE = None, 0
    broken.shutdown(wait=False, cancel_futures=True)


def _retry_alone(job: DocumentJob, key: str, store_root: Path, profile_name: str, run: dict[str, Any]) -> Rendered:
    """A document whose worker died, rendered once more alone in a process of its own (one retry at a time,
    county-wide: the likely cause is memory pressure, and a document that kills its process again then
    takes no other document with it); reported failed if that process dies too."""
    global _RETRY_POOL
    started = time.perf_counter()
    with _RETRY_LOCK:
        if _RETRY_POOL is None:
            _RETRY_POOL = _new_pool(1)
        try:
            return _RETRY_POOL.submit(render_job, job, store_root, key, profile_name, run).result()
        except BrokenProcessPool:
            _RETRY_POOL.shutdown(wait=False, cancel_futures=True)
            _RETRY_POOL = None
            return Rendered(job.path, job.village_code, False, time.perf_counter() - started, WORKER_DIED,
                            document_id=key[:12])
        except Exception as exc:  # e.g. its data could not be sent to the worker
            if disk_error(exc):
                raise
            return Rendered(job.path, job.village_code, False, time.perf_counter() - started, _reason(exc),
                            document_id=key[:12])


def _render_in_pool(todo: list[tuple[DocumentJob, str]], store_root: Path, profile_name: str, run: dict[str, Any],
                    processes: int) -> list[Rendered]:
    """The documents rendered in the shared pool; if a worker dies (the whole pool is then broken), the pool is
    rebuilt for the next batches and every document of this batch that had not finished is retried once."""
    pool = render_pool(processes)
    futures: dict[str, Future] = {}
    for job, key in todo:
        try:
            futures[job.path] = pool.submit(render_job, job, store_root, key, profile_name, run)
        except (BrokenProcessPool, RuntimeError):  # broken, or discarded by another batch meanwhile
            break
    fresh, unfinished = [], []
    for job, key in todo:
        try:
            if job.path not in futures:
                raise BrokenProcessPool("not submitted")
            fresh.append(futures[job.path].result())
        except BrokenProcessPool:
            unfinished.append((job, key))
        except Exception as exc:  # e.g. its data could not be sent to the worker: this document's failure only
            if disk_error(exc):
                raise
            fresh.append(Rendered(job.path, job.village_code, False, 0.0, _reason(exc), document_id=key[:12]))
    if unfinished:
        _discard_pool(pool)
        stopping.check()  # the workers were killed by a stop (evalprep/stopping.py): no retry
        run_logger().warning("渲染进程意外退出（可能是内存不足）：已重建进程池，%d 份未完成的文档逐份重试一次。", len(unfinished))
        fresh += [_retry_alone(job, key, store_root, profile_name, run) for job, key in unfinished]
    return fresh


def _views() -> dict[str, tuple[Any, str, Any]]:
    """Per kind of document: view-model builder, template and spreadsheet builder (or None)."""
    from tasks.attachments import department_attachment, village_attachment
    from tasks.render import pdf
    from tasks.render.rollup_views import county_summary_with_ledger, department_list_context, township_summary_context
    from tasks.render.view_models import village_dossier_context

    return {
        VILLAGE: (village_dossier_context, pdf.VILLAGE_DOSSIER, village_attachment),
        COUNTY: (county_summary_with_ledger, pdf.COUNTY_SUMMARY, None),
        TOWNSHIP: (township_summary_context, pdf.TOWNSHIP_SUMMARY, None),
        DEPARTMENT: (department_list_context, pdf.DEPARTMENT_LIST, department_attachment),
    }


ATTACHED = (VILLAGE, DEPARTMENT)  # kinds with a spreadsheet beside the PDF


def _suffixes(job: DocumentJob) -> tuple[str, ...]:
    return (".pdf", ".xlsx") if job.kind in ATTACHED else (".pdf",)


def render_job(job: DocumentJob, store_root: Path, key: str, profile_name: str, run: dict[str, Any]) -> Rendered:
    """View model → HTML → PDF (and the spreadsheet beside it) into the document store under `key`; the
    document prints the first 12 digits of its key as its id (the run id would change it with any
    township's resubmission)."""
    from tasks.attachments import xlsx_bytes
    from tasks.render.pdf import render_document

    started = time.perf_counter()
    store = DocumentStore(store_root)
    run = {**run, "document_id": key[:12]}
    try:
        build, template, sheets = _views()[job.kind]
        context = build(load_profile(profile_name), run=run, **job.args)
        pdf = render_document(template, context)
        attachment = xlsx_bytes(sheets(context), context["document"], run["as_of"]) if sheets is not None else None
        if attachment is not None:
            store.put(key, ".xlsx", attachment)
        store.put(key, ".pdf", pdf)
    except Exception as exc:  # one document's failure is reported; the others go on
        if disk_error(exc):
            raise  # the disk is full or not writable: no other document can be stored either
        return Rendered(job.path, job.village_code, False, time.perf_counter() - started, _reason(exc),
                        document_id=key[:12])
    del pdf, attachment, context
    _give_back_memory()
    return Rendered(job.path, job.village_code, True, time.perf_counter() - started, document_id=key[:12])


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _place(job: DocumentJob) -> str:
    """Township · village (or the roll-up's name) for log lines."""
    village = job.args.get("village")
    if isinstance(village, dict):
        return f"{village.get('township_name', '')} · {village.get('village_name', '')}（{job.village_code}）"
    return job.path


def render_jobs(jobs: list[DocumentJob], stage: Path, profile_name: str, run: dict[str, Any],
                processes: int) -> list[Rendered]:
    """Render a batch of documents whose content hash is not in the store yet, in the shared worker pool
    (processes=0: in this process, as on a Dask worker whose processes are the pool), then link every
    document of the batch from the store into the run's staging folder. The store sits beside the staging
    folder, in the output folder, so every run writing there shares it."""
    store_root = stage.parent
    store = DocumentStore(store_root)
    log = run_logger()
    keyed = [(job, document_key(job.kind, job.path, job.args, profile_name, run, job.inputs)) for job in jobs]
    todo = [(job, key) for job, key in keyed if not store.has(key, _suffixes(job))]
    for job, key in todo:
        for damaged in store.damaged(key, _suffixes(job)):
            log.warning("%s：文档库中的 %s 已损坏（大小或校验值与保存时不符），重新生成；之前发布的各周中同一文件"
                        "（硬链接）同样损坏，需要时请重新运行那几周。", _place(job), damaged)
    if processes <= 0:
        fresh = [render_job(job, store_root, key, profile_name, run) for job, key in todo]
    else:
        fresh = _render_in_pool(todo, store_root, profile_name, run, processes)
    rendered = {r.path: r for r in fresh}
    results = []
    for job, key in keyed:
        result = rendered.get(job.path) or Rendered(job.path, job.village_code, True, 0.0, document_id=key[:12], reused=True)
        if result.ok:
            result = _linked(store, job, key, stage, result)
        if result.ok:
            log.info("%s：%s", _place(job), "未变化，沿用上次生成的文档" if result.reused else f"已生成（{result.seconds:.1f} 秒）")
        else:
            log.error("%s：生成失败，%s", _place(job), result.error)
        results.append(result)
    return results


def _linked(store: DocumentStore, job: DocumentJob, key: str, stage: Path, result: Rendered) -> Rendered:
    """The stored document (and its spreadsheet) linked into the staging folder; a document that cannot be
    is reported failed, the others go on (a full or read-only disk ends the run)."""
    try:
        store.link(key, ".pdf", stage / job.path)
        if job.kind in ATTACHED:
            result = replace(result, attachment=attachment_path(job.path))
            store.link(key, ".xlsx", stage / result.attachment)
        return result
    except Exception as exc:
        if disk_error(exc):
            raise
        with contextlib.suppress(OSError):
            (stage / job.path).unlink(missing_ok=True)
        return replace(result, ok=False, attachment="", error=_reason(exc))


def render_rollups(readiness: Readiness, submissions: pd.DataFrame, issues: pd.DataFrame, simulation: dict[str, Any],
                   problems: pd.DataFrame, stage: Path, profile_name: str, run: dict[str, Any],
                   processes: int, scope: str = "county", ledger: pd.DataFrame | None = None) -> list[Rendered]:
    """County summary, township summaries and department problem lists (as far as `scope` goes), in the
    shared worker pool."""
    jobs = rollup_jobs(readiness, submissions, issues, simulation, problems, load_profile(profile_name), scope, ledger)
    return render_jobs(jobs, stage, profile_name, run, processes)


def rendering_report(*results: list[Rendered] | list[list[Rendered]]) -> pd.DataFrame:
    """One row per document: path, village, ok, seconds, error, attachment (the spreadsheet beside it),
    document id (its content hash) and whether it was reused from the store."""
    flat: list[Rendered] = []

    def collect(item: Any) -> None:
        if isinstance(item, Rendered):
            flat.append(item)
        else:
            for inner in item:
                collect(inner)

    collect(results)
    report = pd.DataFrame([r.__dict__ for r in flat], columns=["path", "village_code", "ok", "seconds", "error",
                                                                "attachment", "document_id", "reused"])
    run_logger().info(rendering_summary(report).splitlines()[0])
    return report


def rendering_summary(report: pd.DataFrame) -> str:
    """What the run did with its documents, in Markdown: one line of counts, then the documents it rendered
    anew and those that failed (a rerun with unchanged inputs says that it rendered nothing)."""
    fresh = report[report["ok"] & ~report["reused"].astype(bool)]
    failed = report[~report["ok"]]
    reused = int(report["reused"].sum())
    if fresh.empty and failed.empty:
        return f"输入未变化：{reused} 份文档全部沿用上次生成的文件，本次没有重新生成任何文档。\n"
    lines = [f"本次新生成 {len(fresh)} 份文档，未变化沿用 {reused} 份，生成失败 {len(failed)} 份。", ""]
    lines += [f"- 新生成：{path}" for path in sorted(fresh["path"])]
    lines += [f"- 失败：{row.path}（{row.error}）" for row in failed.sort_values("path").itertuples()]
    return "\n".join(lines) + "\n"
