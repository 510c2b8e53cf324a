"""The deterministic demo county: weekly township submissions, reference data and the manifest (truth).

    from demo import generate_demo
    manifest = generate_demo(Path("data/demo"), seed=2016, small=False)
    manifest = generate_demo(Path("data/messy"), seed=2016, small=True, messy=True)

Same seed → byte-identical files (and the same modification times). Clean mode: one clean workbook per
township and week. Messy mode (messy.py): the submissions as they really arrive, each file's expected outcome
and every expected issue in the manifest. See manifest.py for the manifest's shape.
"""
from __future__ import annotations

import datetime as dt
import csv
import json
import multiprocessing as mp
import os
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import yaml

from evalprep.template import sheets

from .county import PROFILE, County, build_county, created_at
from .draw import Draw
from .manifest import bounds, counts, file_name, week_block, write_manifest
from .messy import (OFFICE_TZ, build_file, deadline, effective_frames, file_entry, fill_slices, issue_order,
                    located_defects, plan, quality_issues, reported_ingest_issues, set_mtime, winners, write_file)
from .truth import assess
from .weeks import WEEKS, as_of
from .workbook import CLEAN, SHEET_ORDER, township_rows, write_workbook

__all__ = ["generate_demo", "build_county", "County", "WEEKS"]

_GENERATED = re.compile(r"^\d{9}_.+_\d{4}-W\d{2}\.xlsx$")


def generate_demo(out: Path, seed: int = 2016, small: bool = False, processes: int | None = None,
                  messy: bool = False, scale: int = 1) -> dict:
    """Write the demo county under `out` (inbox/<week>/, reference/, manifest.json); return the manifest.

    `processes`: workbook-writing processes (default: 2 for the full county when 2+ CPUs, else 1). The
    output does not depend on it. `messy`: the townships send their submissions the way real ones arrive
    (messy.py); the manifest then holds every file's expected outcome and every expected issue. `scale`: a
    county `scale` times as large (benchmarks).
    Every file's modification time is its submission time (clean: 填报日期 09:00, Asia/Shanghai).
    """
    out = Path(out)
    county = build_county(seed, small, scale)
    _clear_previous(out)
    if messy:
        blocks = messy_blocks(out, county, seed)
        _write_reference(out, county)
        manifest = {"seed": seed, "small": small, "messy": True, "profile": PROFILE, "weeks": list(WEEKS),
                    "targets": county.layout.targets, "counts": counts(county), "by_week": blocks}
        write_manifest(out / "manifest.json", manifest)
        return manifest
    if processes is None:
        processes = 1 if small else min(2, os.cpu_count() or 1)
    spec = sheets()
    columns = {key: spec[key].column_names for key in SHEET_ORDER}

    blocks = {}
    written: list[tuple[Path, str]] = []
    with _writer(processes) as submit:
        for week in WEEKS:
            week_dir = out / "inbox" / week
            _clear_generated(week_dir)
            tables = county.tables(week)
            spans = {key: bounds(tables[key]) for key in SHEET_ORDER}
            files = []
            for code, name in county.townships:
                path = week_dir / file_name(code, name, week)
                data = {key: township_rows(tables[key], columns[key], *spans[key].get(code, (0, 0)))
                        for key in SHEET_ORDER}
                submit(path, data, created_at(week))
                files.append(path.relative_to(out).as_posix())
                written.append((path, week))
            # the truth is computed while the workers write the week's workbooks
            truth = assess(county.frames(week, tables), county.profile, as_of(week))
            blocks[week] = week_block(county, week, tables, truth, CLEAN, files)
    for path, week in written:  # received on 填报日期 at 09:00, before the deadline
        set_mtime([path], created_at(week).replace(tzinfo=OFFICE_TZ))

    _write_reference(out, county)
    manifest = {
        "seed": seed,
        "small": small,
        "profile": PROFILE,
        "weeks": list(WEEKS),
        "targets": county.layout.targets,
        "counts": counts(county),
        "by_week": blocks,
    }
    write_manifest(out / "manifest.json", manifest)
    return manifest


# 全县农村居民人均可支配收入 (元) and last year's exit-income ratio per profile year, for the demo county only:
# round figures in the range of Xunyang's published 2016 figure (about 8,000–9,000 元); the demo's exit cohort
# earns about 4,500 元 per person, a ratio a little above the one given for last year.
DEMO_RURAL_INCOME = {2016: 8500, 2017: 9300}
DEMO_PREVIOUS_INCOME_RATIO = {2016: 0.5, 2017: 0.45}
# The evaluation day the rectification ledger's deadlines count back from: the year's end, as data/reference/
# (the speech of 2016-09-26: 年终第三方评估, 决战最后不到100天).
DEMO_EVALUATION_DATE = {2016: dt.date(2016, 12, 31), 2017: dt.date(2017, 12, 31)}


def _write_reference(out: Path, county: County) -> None:
    """reference/: townships.csv, the village register villages.csv, county.yaml (targets), contacts.csv."""
    names = dict(county.townships)
    ref = out / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    with open(ref / "townships.csv", "w", encoding="utf-8", newline="") as fh:  # this county's townships only
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["township_code", "township_name"])
        writer.writerows(county.townships)
    with open(ref / "villages.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["village_code", "village_name", "township_code", "township_name", "is_key_village"])
        for v in county.layout.villages:
            writer.writerow([v.code, v.name, v.township_code, names[v.township_code], "是" if v.key else "否"])
    county_facts = {"county_name": "旬阳县", "county_code": "610928", "targets": {year: dict(county.layout.targets) for year in DEMO_RURAL_INCOME},
                     # V-INCOME-GROWTH inputs by profile year: demo values (docs/decisions.md), not statistics
                     "rural_income": dict(DEMO_RURAL_INCOME), "previous_income_ratio": dict(DEMO_PREVIOUS_INCOME_RATIO),
                     "evaluation_date": dict(DEMO_EVALUATION_DATE)}
    (ref / "county.yaml").write_text(yaml.safe_dump(county_facts, allow_unicode=True, sort_keys=True), encoding="utf-8")
    _write_contacts(ref / "contacts.csv", county.townships)


def _write_contacts(path: Path, townships) -> None:
    """contacts.csv (who receives the week's outbox): every catalogue department, every township and the office,
    at fictional addresses under example.org (RFC 2606: reserved, never a real mailbox)."""
    from expectations.catalogue import raw_catalogue

    rows = [("县脱贫攻坚指挥部办公室", "办公室联络员", "office@xunyang.example.org")]
    rows += [(name, f"{name}联络员", f"dept{n:02d}@xunyang.example.org")
             for n, name in enumerate(raw_catalogue()["departments"], start=1)]
    rows += [(name, f"{name}联络员", f"town{code}@xunyang.example.org") for code, name in townships]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["unit", "name", "email"])
        writer.writerows(rows)


@contextmanager
def _writer(processes: int):
    """A submit(path, data, created) function: in-process, or to a pool of `processes` workers."""
    if processes <= 1:
        yield write_workbook
        return
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    futures = []
    with ProcessPoolExecutor(max_workers=processes, mp_context=mp.get_context(method)) as pool:
        yield lambda *job: futures.append(pool.submit(write_workbook, *job))
        for future in futures:
            future.result()


def _clear_previous(out: Path) -> None:
    """Remove what an earlier messy generation left in the inbox (the files its manifest lists), nothing else."""
    try:
        old = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    inbox = (out / "inbox").resolve()
    for block in old.get("by_week", {}).values() if isinstance(old, dict) else ():
        for entry in block.get("files", ()):
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                continue
            target = (out / entry["path"]).resolve()
            if target.parent.parent != inbox:  # inbox/<week>/<name>, nothing else
                continue
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()


def messy_blocks(out: Path, county: County, seed: int) -> dict:
    """Write every week's messy inbox; return the manifest's by_week blocks (messy.py)."""
    the_plan, _ = plan(county, seed)
    names = dict(county.townships)
    order = [code for code, _ in county.townships]
    first_village: dict[str, str] = {}
    for v in county.layout.villages:
        first_village.setdefault(v.township_code, v.code)
    foreign = {code: first_village[order[(i + 1) % len(order)]] for i, code in enumerate(order)}
    draw = Draw(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1001,))))
    blocks = {}
    for week in WEEKS:
        week_dir = out / "inbox" / week
        _clear_generated(week_dir)
        week_dir.mkdir(parents=True, exist_ok=True)
        tables = county.tables(week)
        slices = {code: fill_slices(tables, code) for code in order}
        built = [build_file(spec, slices[spec.township_code], names, week, draw, foreign[spec.township_code])
                 for spec in the_plan[week]]
        for b in built:
            set_mtime(write_file(b, week_dir / b.spec.name, seed, week, names[b.spec.township_code]), b.spec.at)
        won = winners(built)
        reported = reported_ingest_issues(built, won)
        frames = effective_frames(built, won, order)
        headers = {(b.spec.name, key, column): text for b in built if b.tables
                   for key, grid in b.grids.items() for column, text in grid.written.items()}
        cells = {(i["file"], i["sheet"], i["row"], i["column"]) for i in reported}
        issues = sorted(reported + quality_issues(frames, headers, cells), key=issue_order)
        truth = assess(frames, county.profile, as_of(week))
        found = located_defects(county, week, tables, built, won)
        used = set(won.values())
        files = [file_entry(b, i in used, week) for i, b in enumerate(built)]
        block = week_block(county, week, tables, truth, CLEAN, files, found=found)
        block["deadline"] = deadline(week).isoformat()
        block["missing_townships"] = sorted(set(order) - {b.spec.township_code for b in built})
        block["issues"] = issues
        blocks[week] = block
    return blocks


def _clear_generated(week_dir: Path) -> None:
    """Remove workbooks an earlier generation left (another seed or size), nothing else."""
    if week_dir.is_dir():
        for p in week_dir.iterdir():
            if p.is_file() and _GENERATED.match(p.name):
                p.unlink()
