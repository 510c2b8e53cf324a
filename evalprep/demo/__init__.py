"""The deterministic demo county: weekly township submissions, reference data and the manifest (truth).

    from evalprep.demo import generate_demo
    manifest = generate_demo(Path("data/demo"), seed=2016, small=False)

Same seed → byte-identical files. See manifest.py for the manifest's shape.
"""
from __future__ import annotations

import csv
import multiprocessing as mp
import os
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import yaml

from evalprep.template import sheets

from .county import PROFILE, County, build_county, created_at
from .layout import TOWNSHIPS_CSV
from .manifest import bounds, counts, file_name, week_block, write_manifest
from .truth import assess
from .weeks import WEEKS, as_of
from .workbook import CLEAN, SHEET_ORDER, township_rows, write_workbook

__all__ = ["generate_demo", "build_county", "County", "WEEKS"]

_GENERATED = re.compile(r"^\d{9}_.+_\d{4}-W\d{2}\.xlsx$")


def generate_demo(out: Path, seed: int = 2016, small: bool = False, processes: int | None = None) -> dict:
    """Write the demo county under `out` (inbox/<week>/, reference/, manifest.json); return the manifest.

    `processes`: workbook-writing processes (default: 2 for the full county when 2+ CPUs, else 1). The
    output does not depend on it.
    """
    out = Path(out)
    county = build_county(seed, small)
    if processes is None:
        processes = 1 if small else min(2, os.cpu_count() or 1)
    spec = sheets()
    columns = {key: spec[key].column_names for key in SHEET_ORDER}
    names = dict(county.townships)

    blocks = {}
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
            # the truth is computed while the workers write the week's workbooks
            truth = assess(county.frames(week, tables), county.profile, as_of(week))
            blocks[week] = week_block(county, week, tables, truth, CLEAN, files)

    ref = out / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TOWNSHIPS_CSV, ref / "townships.csv")
    with open(ref / "villages.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["village_code", "village_name", "township_code", "township_name", "is_key_village"])
        for v in county.layout.villages:
            writer.writerow([v.code, v.name, v.township_code, names[v.township_code], "是" if v.key else "否"])
    county_facts = {"county_name": "旬阳县", "county_code": "610928", "targets": {2016: dict(county.layout.targets)}}
    (ref / "county.yaml").write_text(yaml.safe_dump(county_facts, allow_unicode=True, sort_keys=True), encoding="utf-8")

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


def _clear_generated(week_dir: Path) -> None:
    """Remove workbooks an earlier generation left (another seed or size), nothing else."""
    if week_dir.is_dir():
        for p in week_dir.iterdir():
            if p.is_file() and _GENERATED.match(p.name):
                p.unlink()
