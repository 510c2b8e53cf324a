"""Messy mode: the same county, sent the way townships really send it (spec/submissions.md, "What real
submissions look like"), with the exact expected outcome of every file and every issue in the manifest.

The plan is deterministic from the seed. Townships come in pairs (A, B), one pair in the small county and
one per seven townships in the full one; every other township sends one file a week in one of the forms
that must be accepted cleanly. A pair's four steps, the first in W37, the last in W36 (rotated one week
further for each further pair, so that the shapes fall in different weeks; the first pair's last week, W39,
has every township):

  A  step 1  workbook with title rows, merged two-level header, 序号, blank rows, 合计, header variants,
             every value form, sheets in another order            → accepted
             then an empty file (0 bytes)                          → rejected DQ-FILE-EMPTY
     step 2  row-level problems (set1), Saturday                  → accepted_with_issues
             then a workbook without a required column             → rejected DQ-COLUMN-MISSING
     step 3  an early file with problems                           → accepted_with_issues (not used)
             then the corrected one, 蜀河镇9月第3周报表(修改版).xlsx  → accepted (the newest accepted wins)
     step 4  nothing
  B  step 1  a folder of GBK CSVs                                  → accepted
             then a truncated copy of a workbook                    → rejected DQ-FILE-CORRUPT
     step 2  a .zip of UTF-8-with-BOM CSVs                         → accepted
             then a web page renamed .xlsx                          → rejected DQ-FILE-TYPE
     step 3  a workbook after the deadline (Monday 15:30)          → accepted, late
             then a password-protected workbook                     → rejected DQ-FILE-ENCRYPTED
     step 4  row-level problems (set2) in a file named after A     → accepted_with_issues (DQ-TOWNSHIP …)
             then a workbook without 双七项目                        → rejected DQ-SHEET-MISSING

Keeping the grade truth simple: every cell a problem empties and every row a problem drops belongs to a
household outside the exit cohort (注销 first, else remaining poor), to a survey answer 不了解, to a project
no criterion reads (not V-ROAD/V-POWER/V-WATER, owners complete), or to a column no xunyang-2016 criterion
reads. The truth is nevertheless computed (truth.py) from exactly the rows and values that reach validation:
the newest accepted file of each township, its dropped rows gone, its emptied cells empty.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from evalprep import idcard
from evalprep.template import sheets, vocabularies
from expectations.catalogue import raw_catalogue

from .county import SHEET_KEYS, County, canonical_frame
from .draw import Draw
from .forms import (SheetGrid, encrypted_workbook, not_excel_bytes, write_csv_folder, write_csv_zip,
                    write_grid_workbook)
from .grid import SheetPatch, build_cover, build_sheet
from .layout import read_townships
from .manifest import bounds, defect_entry, file_name, sorted_defects
from .table import Table
from .weeks import WEEKS, as_of, monday, number, submitted_on
from .workbook import Style, township_rows

OFFICE_TZ = ZoneInfo("Asia/Shanghai")
DEADLINE_TIME = dt.time(12, 0)  # the Monday after the week
ACCEPTED, WITH_ISSUES, REJECTED = "accepted", "accepted_with_issues", "rejected"
DATA_KEYS = ("households", "members", "villages", "surveys", "projects")
QUALITY_TABLES = ("households", "members", "villages", "projects", "surveys")
COHORT = ("预脱贫", "已脱贫")
REMAINING = ("新识别", "未脱贫", "返贫")
CRITERION_PROJECTS = ("V-ROAD", "V-POWER", "V-WATER")  # projects a criterion reads (data-model.md §2)
ASCII_ID = r"^[0-9]{17}[0-9X]$"

ALPHA = Style(name="alpha", title_rows=2, two_level=True, seq_column=True, blank_every=9, total_row=True,
              headers="variants1", bools=(("是", "否"), ("有", "无"), ("Y", "N"), ("√", "×"), (1, 0), ("y", "n")),
              dates=("serial", "iso", "dots", "chinese", "slash"), numbers="text", ids="mixed", village_codes="number",
              loose=True, order=("households", "members", "villages", "surveys", "projects", "cover"), cover="pairs")
BETA = Style(name="beta", title_rows=1, seq_column=True, total_row=True, headers="variants2",
             bools=(("Y", "N"), ("√", "×"), ("是", "否")), dates=("dots", "chinese", "date"), numbers="fullwidth",
             ids="lower_x", order=("cover", "villages", "households", "members", "projects", "surveys"),
             sheet_names=(("households", "贫困户花名册"), ("members", "家庭成员名单")))
GAMMA = Style(name="gamma", title_rows=1, two_level=True, blank_every=13, bools=((1, 0), ("是", "否"), ("有", "无")),
              dates=("serial",), order=("projects", "surveys", "villages", "members", "households", "cover"))
CSV = Style(name="csv")
STYLES = {s.name: s for s in (ALPHA, BETA, GAMMA, CSV)}


# ---- the plan ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSpec:
    """One received file (or folder) as the plan wants it."""

    township_code: str  # whose content it carries (or, for unreadable files, whose name it bears)
    name: str
    form: str  # xlsx | csv_dir | csv_zip | empty | corrupt | not_excel | encrypted
    at: dt.datetime  # submission time (aware, Asia/Shanghai): the file's modification time
    style: Style = CSV
    problems: str = ""  # "" | set1 | set2 | early
    drop_sheet: str = ""  # a required sheet left out
    drop_column: tuple[str, str] | None = None  # (sheet key, column) of a required column left out
    shapes: tuple[str, ...] = ()


def _when(week: str, day: int, hhmm: str) -> dt.datetime:
    """`day` days after the Monday that follows the week (−2: Saturday of the week), at HH:MM office time."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    date = submitted_on(week) + dt.timedelta(days=day)
    return dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=OFFICE_TZ)


def deadline(week: str) -> dt.datetime:
    d = submitted_on(week)
    return dt.datetime.combine(d, DEADLINE_TIME, tzinfo=OFFICE_TZ)


def _month_week(week: str) -> str:
    """2016-W38 → 9月第3周 (the week of the month its Monday falls in), as clerks name their files."""
    m = monday(week)
    return f"{m.month}月第{(m.day - 1) // 7 + 1}周"


CLEAN_SHAPES = ("title rows", "merged two-level header", "序号 column", "blank rows", "合计 row", "header variants",
                "value forms", "sheets in another order")


def _pair_files(scenario: int, week: str, a: tuple[str, str], b: tuple[str, str]) -> list[FileSpec]:
    (ac, an), (bc, bn) = a, b
    mw = _month_week(week)
    if scenario == 0:
        return [
            FileSpec(ac, file_name(ac, an, week), "xlsx", _when(week, 0, "09:10"), ALPHA,
                     shapes=CLEAN_SHAPES + ("cover as label/value pairs", "village codes typed as numbers")),
            FileSpec(ac, f"{an}周报表.xlsx", "empty", _when(week, 0, "11:20"), shapes=("empty file",)),
            FileSpec(bc, file_name(bc, bn, week).removesuffix(".xlsx"), "csv_dir", _when(week, 0, "08:45"), CSV,
                     shapes=("folder of GBK CSVs",)),
            FileSpec(bc, file_name(bc, bn, week), "corrupt", _when(week, 0, "10:30"), GAMMA,
                     shapes=("truncated xlsx",)),
        ]
    if scenario == 1:
        return [
            FileSpec(ac, file_name(ac, an, week), "xlsx", _when(week, -2, "16:40"), BETA, problems="set1",
                     shapes=("row-level problems", "renamed sheets", "full-width digits")),
            FileSpec(ac, f"{an}_{week}_补报.xlsx", "xlsx", _when(week, 0, "10:05"), GAMMA,
                     drop_column=("members", "insured_critical"), shapes=("required column missing",)),
            FileSpec(bc, f"{bn}_{week}.zip", "csv_zip", _when(week, -1, "20:15"), CSV, shapes=("zip of UTF-8-BOM CSVs",)),
            FileSpec(bc, f"{bn}{mw}报表.xlsx", "not_excel", _when(week, 0, "09:50"), shapes=("web page renamed .xlsx",)),
        ]
    if scenario == 2:
        return [
            FileSpec(ac, file_name(ac, an, week), "xlsx", _when(week, 0, "08:30"), GAMMA, problems="early",
                     shapes=("resubmitted: earlier file with problems",)),
            FileSpec(ac, f"{an}{mw}报表(修改版).xlsx", "xlsx", _when(week, 0, "10:40"), ALPHA,
                     shapes=("resubmitted: corrected file", "file name off the convention") + CLEAN_SHAPES),
            FileSpec(bc, f"{bn}{mw}报表.xlsx", "xlsx", _when(week, 0, "15:30"), GAMMA,
                     shapes=("after the deadline", "file name off the convention")),
            FileSpec(bc, f"{bn}{mw}报表(加密).xlsx", "encrypted", _when(week, 0, "16:10"),
                     shapes=("password-protected xlsx",)),
        ]
    return [  # A sends nothing
        FileSpec(bc, file_name(ac, an, week), "xlsx", _when(week, 0, "09:05"), ALPHA, problems="set2",
                 shapes=("row-level problems", "file name names another township")),
        FileSpec(bc, f"{bn}_{week}(缺双七项目).xlsx", "xlsx", _when(week, 0, "10:20"), BETA, drop_sheet="projects",
                 shapes=("required sheet missing",)),
    ]


def plan(county: County, seed: int) -> tuple[dict[str, list[FileSpec]], list[tuple[str, str]]]:
    """week → the files received; and the (A, B) township pairs."""
    d = Draw(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1000,))))
    towns = d.shuffled(county.townships)
    n_pairs = max(1, len(towns) // 7)
    pairs = [(towns[2 * k], towns[2 * k + 1]) for k in range(n_pairs)]
    others = towns[2 * n_pairs:]
    out: dict[str, list[FileSpec]] = {}
    for w, week in enumerate(WEEKS):
        files: list[FileSpec] = []
        for k, (a, b) in enumerate(pairs):
            files += _pair_files((w - 1 - k) % len(WEEKS), week, a, b)
        for code, name in others:
            choice = d.pick(("alpha", "beta", "gamma", "gamma", "csv_dir", "csv_zip"))
            at = _when(week, d.pick((-2, -1, 0, 0, 0)), f"{d.int(7, 11):02d}:{d.int(0, 59):02d}")
            if choice == "csv_dir":
                files.append(FileSpec(code, file_name(code, name, week).removesuffix(".xlsx"), "csv_dir", at, CSV,
                                      shapes=("folder of GBK CSVs",)))
            elif choice == "csv_zip":
                files.append(FileSpec(code, f"{name}_{week}.zip", "csv_zip", at, CSV, shapes=("zip of UTF-8-BOM CSVs",)))
            else:
                named = file_name(code, name, week) if d.chance(0.6) else f"{name}{_month_week(week)}报表.xlsx"
                files.append(FileSpec(code, named, "xlsx", at, STYLES[choice], shapes=CLEAN_SHAPES))
        out[week] = sorted(files, key=lambda f: (f.at, f.name))
    return out, pairs


# ---- problems ------------------------------------------------------------------------------------------------


@dataclass
class Problems:
    """Cell and row problems of one file: what is written, what ingestion reports, what reaches the tables."""

    patches: dict[str, SheetPatch] = field(default_factory=dict)
    issues: list[tuple[str, int | None, str | None, str]] = field(default_factory=list)  # key, position, column, rule
    empty: list[tuple[str, int, str]] = field(default_factory=list)  # cells that arrive empty
    values: list[tuple[str, int, str, object]] = field(default_factory=list)  # cells that arrive as another value
    dropped: list[tuple[str, int]] = field(default_factory=list)  # rows not imported
    extra_columns: list[tuple[str, str]] = field(default_factory=list)  # (key, header) of unknown columns

    def patch(self, key: str) -> SheetPatch:
        return self.patches.setdefault(key, SheetPatch())

    def cell(self, key: str, position: int, column: str, raw: object, rules: tuple[str, ...], effect: str,
             value: object = None) -> None:
        self.patch(key).cells[(position, column)] = raw
        self.issues += [(key, position, column, rule) for rule in rules]
        if effect == "empty":
            self.empty.append((key, position, column))
        elif effect == "value":
            self.values.append((key, position, column, value))
        elif effect == "drop":
            self.dropped.append((key, position))


def _harmless_households(hh: Table, d: Draw) -> list[int]:
    """Positions of households outside the exit cohort, cancelled (注销) ones first, in a seeded order."""
    status = hh["exit_status"]
    cancelled = [i for i, s in enumerate(status) if s == "注销"]
    remaining = [i for i, s in enumerate(status) if s in REMAINING]
    return d.shuffled(cancelled) + d.shuffled(remaining)


def _harmless_projects(pp: Table) -> list[int]:
    return [i for i in range(len(pp)) if pp.get(i, "criterion_code") not in CRITERION_PROJECTS
            and all(pp.get(i, c) for c in ("department", "lead", "responsible_person"))]


def _digit_id(ids: list[str], candidates: list[int]) -> int | None:
    """A candidate whose ID ends in a digit (one ending in X cannot be typed as a number)."""
    return next((i for i in candidates if ids[i] and ids[i][-1].isdigit()), None)


def make_problems(kind: str, t: dict[str, Table], d: Draw, township: str, foreign_village: str) -> Problems:
    """The problems of one file: set1 / set2 (the winning file of its week) or early (a superseded file)."""
    p = Problems()
    hh, mm, vv, ss, pp = (t[k] for k in DATA_KEYS)
    members_of: dict[str, list[int]] = {}
    for i, hid in enumerate(mm["household_id"]):
        members_of.setdefault(hid, []).append(i)
    pool = _harmless_households(hh, d)
    unknown_village = f"{township}1{d.int(0, 99):02d}"  # village numbers are 200–399: never in the register

    if kind == "early":
        h = pool[0]
        p.cell("households", h, "income_per_capita", "三千二", ("DQ-NUMBER",), "empty")
        p.cell("households", h, "head_name", None, ("DQ-REQUIRED",), "empty")
        return p

    if kind == "set1":
        h1, h2, h3 = pool[:3]
        p.cell("households", h1, "household_type", "一般户", ("DQ-DICT",), "empty")
        p.cell("households", h1, "income_per_capita", f"约{int(hh.get(h1, 'income_per_capita') or 0)}", ("DQ-NUMBER",), "empty")
        p.cell("households", h1, "safe_water", "不清楚", ("DQ-BOOL",), "empty")
        p.cell("households", h1, "village_name", None, ("DQ-REQUIRED",), "empty")
        p.cell("households", h2, "village_code", foreign_village, ("DQ-VILLAGE-CODE",), "drop")
        # a duplicated household row, appended under the data: reported at the copy, imported once
        copy = len(hh)
        p.patch("households").extra_rows.append(tuple(hh[c.name][h3] for c in sheets()["households"].columns))
        p.issues.append(("households", copy, "household_id", "DQ-DUPLICATE"))
        people = [m for h in pool[:6] for m in members_of.get(hh.get(h, "household_id"), [])]
        typed = _digit_id(mm["id_number"], people)
        p.cell("members", typed, "id_number", float(mm.get(typed, "id_number")), ("DQ-ID-SCIENTIFIC",), "empty")
        other = next(m for m in people if m != typed)
        good = mm.get(other, "id_number")
        wrong = good[:17] + next(c for c in idcard.CHECK_CHARS if c != good[17] and c != idcard.check_char(good[:17]))
        p.cell("members", other, "id_number", wrong, (), "value", wrong)  # found by GX: DQ-ID-CHECK
        s = d.int(0, len(ss) - 1)
        p.cell("surveys", s, "surveyed_on", f"{ss.get(s, 'surveyed_on').month}月{ss.get(s, 'surveyed_on').day}号",
               ("DQ-DATE",), "empty")
        projects = _harmless_projects(pp)
        if projects:
            p.cell("projects", d.pick(projects), "village_code", unknown_village, ("DQ-VILLAGE-UNKNOWN",), "drop")
        return p

    if kind == "set2":
        heads = [h for h in pool if hh.get(h, "head_id_number")[-1].isdigit()]
        h1 = heads[0]
        h2 = next(h for h in pool if h != h1)
        p.cell("households", h1, "head_id_number", float(hh.get(h1, "head_id_number")), ("DQ-ID-SCIENTIFIC",), "empty")
        p.cell("households", h1, "income_per_capita", "不详", ("DQ-NUMBER",), "empty")
        relatives = members_of[hh.get(h1, "household_id")]
        p.cell("members", relatives[-1], "relation", "儿子", ("DQ-DICT",), "empty")
        p.cell("members", members_of[hh.get(h2, "household_id")][0], "person_id", None,
               ("DQ-REQUIRED", "DQ-ROW-NO-KEY"), "drop")
        p.cell("households", pool[4], "village_code", unknown_village, ("DQ-VILLAGE-UNKNOWN",), "drop")
        v = d.int(0, len(vv) - 1)
        p.cell("villages", v, "collective_income", "约5万", ("DQ-NUMBER",), "empty")
        dated = [i for i in _harmless_projects(pp) if pp.get(i, "planned_completion") is not None]
        if dated:
            p.cell("projects", d.pick(dated), "planned_completion", "十月底", ("DQ-DATE",), "empty")
        unknowns = [i for i, a in enumerate(ss["satisfaction"]) if a == "不了解"]
        if unknowns:
            p.cell("surveys", d.pick(unknowns), "village_code", foreign_village, ("DQ-VILLAGE-CODE",), "drop")
        notes = {pool[2]: "低保兜底", pool[3]: "已搬迁入住", 0: "村委会核实"}
        p.patch("households").extra_column = ("备注", notes)
        p.extra_columns.append(("households", "备注"))
        return p
    raise ValueError(kind)


# ---- building one file ---------------------------------------------------------------------------------------


@dataclass
class Built:
    """One file of the plan, laid out, with its expected outcome."""

    spec: FileSpec
    status: str
    rule: str | None
    issues: list[dict]  # ingestion issues {file, sheet, row, column, rule}
    grids: dict[str, SheetGrid] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)  # the rows that reach the canonical tables
    kept: dict[str, list[int]] = field(default_factory=dict)  # data positions imported, per sheet key


def _issue(spec: FileSpec, rule: str, sheet: str = "", row: int | None = None, column: str = "") -> dict:
    return {"township_code": spec.township_code, "file": spec.name, "sheet": sheet, "row": row, "column": column,
            "rule": rule}


def build_file(spec: FileSpec, slices: dict[str, Table], names: dict[str, str], week: str, d: Draw,
               foreign_village: str) -> Built:
    """Lay out one file and predict what ingestion makes of it (`names`: the county's townships)."""
    if spec.form in ("empty", "not_excel", "encrypted"):
        rule = {"empty": "DQ-FILE-EMPTY", "not_excel": "DQ-FILE-TYPE", "encrypted": "DQ-FILE-ENCRYPTED"}[spec.form]
        return Built(spec, REJECTED, rule, [_issue(spec, rule)])
    columns = {k: sheets()[k].column_names for k in SHEET_KEYS}
    problems = make_problems(spec.problems, slices, d, spec.township_code, foreign_village) if spec.problems else Problems()
    if spec.drop_column:
        key, column = spec.drop_column
        problems.patch(key).drop_columns += (column,)
    township_name = names[spec.township_code]
    grids: dict[str, SheetGrid] = {}
    for key in spec.style.order:
        if key == spec.drop_sheet:
            continue
        rows = township_rows(slices[key], columns[key], 0, len(slices[key]))
        if key == "cover":
            grids[key] = build_cover(rows[0], spec.style, township_name)
        else:
            grids[key] = build_sheet(key, rows, spec.style, problems.patches.get(key), township_name, as_of(week))
    if spec.form == "corrupt":
        return Built(spec, REJECTED, "DQ-FILE-CORRUPT", [_issue(spec, "DQ-FILE-CORRUPT")], grids)

    issues = []
    for key, position, column, rule in problems.issues:
        grid = grids[key]
        issues.append(_issue(spec, rule, grid.name, grid.row_of[position], grid.written[column]))
    for key, header in problems.extra_columns:
        issues.append(_issue(spec, "DQ-UNKNOWN-COLUMN", grids[key].name, None, header))
    fatal = []
    if spec.drop_sheet:
        fatal.append(_issue(spec, "DQ-SHEET-MISSING", sheets()[spec.drop_sheet].name))
    if spec.drop_column:
        key, column = spec.drop_column
        fatal.append(_issue(spec, "DQ-COLUMN-MISSING", grids[key].name, None, sheets()[key].column(column).header))
    if fatal:
        # rejected: the cell issues found while reading come with the reason; the checks after reading
        # (township, village codes, duplicate keys) are not reached
        late = ("DQ-VILLAGE-CODE", "DQ-VILLAGE-UNKNOWN", "DQ-DUPLICATE")
        return Built(spec, REJECTED, fatal[0]["rule"], fatal + [i for i in issues if i["rule"] not in late], grids)
    named = _township_in_name(spec.name)
    if named and named != spec.township_code:
        issues.append(_issue(spec, "DQ-TOWNSHIP"))

    dropped = {(k, pos) for k, pos in problems.dropped}
    tables, kept = {}, {}
    for key in SHEET_KEYS:
        grid = grids[key]
        source = slices[key]
        keep = [pos for pos in range(len(source)) if (key, pos) not in dropped]
        table = source.take(keep)
        at = {pos: i for i, pos in enumerate(keep)}
        for k, pos, column in problems.empty:
            if k == key and pos in at:
                table.set(at[pos], column, None)
        for k, pos, column, value in problems.values:
            if k == key and pos in at:
                table.set(at[pos], column, value)
        table.cols["_row"] = [grid.row_of[pos] for pos in keep]
        table.cols["_file"] = [spec.name] * len(keep)
        table.cols["_sheet"] = [grid.name] * len(keep)
        tables[key], kept[key] = table, keep
    status = WITH_ISSUES if issues else ACCEPTED
    return Built(spec, status, None, issues, grids, tables, kept)


def _township_in_name(name: str) -> str:
    """The township a file name names among all the county's registered townships (townships.csv), by its
    9-digit code, else by its name (with or without 镇), the first in register order."""
    names = dict(read_townships())
    for code in names:
        if code in name:
            return code
    for code, town in names.items():
        if town in name or town.removesuffix("镇") in name:
            return code
    return ""


def write_file(built: Built, path: Path, seed: int, week: str, township_name: str) -> list[Path]:
    """Write one file or folder; returns every path whose modification time is to be set (folder last)."""
    spec = built.spec
    created = spec.at.replace(tzinfo=None)
    grids = list(built.grids.values())
    if spec.form == "xlsx":
        write_grid_workbook(path, grids, created)
    elif spec.form == "corrupt":
        write_grid_workbook(path, grids, created)
        whole = path.read_bytes()
        path.write_bytes(whole[: len(whole) // 2])  # the attachment arrived cut off
    elif spec.form == "csv_dir":
        return write_csv_folder(path, grids, "gbk") + [path]
    elif spec.form == "csv_zip":
        write_csv_zip(path, grids, "utf-8-sig", created)
    elif spec.form == "empty":
        path.write_bytes(b"")
    elif spec.form == "not_excel":
        path.write_bytes(not_excel_bytes(township_name, "扶贫周报表"))
    elif spec.form == "encrypted":
        path.write_bytes(encrypted_workbook(f"{seed}|{week}|{spec.name}"))
    else:
        raise ValueError(spec.form)
    return [path]


def set_mtime(paths: list[Path], at: dt.datetime) -> None:
    stamp = at.timestamp()
    for p in paths:
        os.utime(p, (stamp, stamp))


# ---- the week's expected outcome ---------------------------------------------------------------------------


def winners(built: list[Built]) -> dict[str, int]:
    """Township → index (in received order) of its newest accepted file."""
    out = {}
    for i, b in enumerate(built):
        if b.status != REJECTED:
            out[b.spec.township_code] = i
    return out


def reported_ingest_issues(built: list[Built], won: dict[str, int]) -> list[dict]:
    """Ingestion issues the week reports: the winning files', and those of rejected files newer than their
    township's winner (or of a township without one). Superseded files keep theirs in `files[].issues`."""
    out = []
    for i, b in enumerate(built):
        w = won.get(b.spec.township_code)
        if i == w or b.status == REJECTED and (w is None or i > w):
            out += b.issues
    return out


def effective_frames(built: list[Built], won: dict[str, int], order: list[str]) -> dict[str, pd.DataFrame]:
    """The canonical frames that reach validation: the winners' imported rows, townships in county order."""
    frames = {}
    for key in SHEET_KEYS:
        parts = [built[won[code]].tables[key] for code in order if code in won]
        table = Table(())
        table.cols = {c: [v for part in parts for v in part[c]] for c in (parts[0].cols if parts else ())}
        if not parts:
            frames[key] = canonical_frame(key, _empty_table(key))
            continue
        frame = canonical_frame(key, table)
        for meta in ("_file", "_sheet"):
            frame[meta] = pd.Series(table[meta], dtype="str")
        frame["_row"] = pd.Series(table["_row"], dtype="int64")
        frames[key] = frame
    return frames


def _empty_table(key: str) -> Table:
    return Table([c.name for c in sheets()[key].columns] + ["_township_code", "_file", "_sheet", "_row"])


def quality_issues(frames: dict[str, pd.DataFrame], written: dict[tuple[str, str, str], str],
                   reported: set[tuple]) -> list[dict]:
    """The data-quality rules of the submission template over the frames that reach validation, written
    here independently of expectations/suites.py: required cells, ID format and check character,
    dictionaries, unique keys county-wide, village codes of the township; a cell ingestion already
    reported is not reported again."""
    vocab = vocabularies()
    criteria = set(raw_catalogue()["criteria"])
    villages = frames["villages"]
    known = {f"{t}|{c}" for t, c in zip(villages["township_code"], villages["village_code"]) if isinstance(c, str)}
    out = []
    for key in QUALITY_TABLES:
        frame = frames[key]
        spec = sheets()[key]
        if not len(frame):
            continue
        failing: list[tuple[pd.Series, str, str]] = []  # (row mask, rule, column)
        for col in spec.columns:
            values = frame[col.name]
            text = values.astype("string")
            if col.required:
                failing.append((values.isna(), "DQ-REQUIRED", col.name))
            if col.kind == "id_number":
                shaped = text.str.fullmatch(ASCII_ID).fillna(False).astype(bool)
                failing.append((values.notna() & ~shaped, "DQ-ID-FORMAT", col.name))
                valid = text.map(lambda v: isinstance(v, str) and idcard.is_valid(v)).astype(bool)
                failing.append((shaped & ~valid, "DQ-ID-CHECK", col.name))
            if col.vocabulary:
                failing.append((values.notna() & ~values.isin(vocab[col.vocabulary]), "DQ-DICT", col.name))
            if col.kind == "carriers":
                names = "|".join(vocab["carriers"])
                ok = text.str.fullmatch(f"无|(?:{names})(?:、(?:{names}))*").fillna(False).astype(bool)
                failing.append((values.notna() & ~ok, "DQ-DICT", col.name))
        if key == "projects":
            failing.append((frame["criterion_code"].notna() & ~frame["criterion_code"].isin(criteria), "DQ-DICT",
                            "criterion_code"))
        if spec.row_key:
            k = frame[spec.row_key]
            failing.append((k.notna() & k.duplicated(keep=False), "DQ-DUPLICATE", spec.row_key))
        if "village_code" in spec.column_names:
            code, town = frame["village_code"], frame["township_code"]
            inside = code.astype("string").str[:9] == town.astype("string")
            if key != "villages":
                inside = inside & (town.astype("string") + "|" + code.astype("string")).isin(known)
            failing.append((code.notna() & ~inside.fillna(False).astype(bool), "DQ-VILLAGE-CODE", "village_code"))
        failing += _consistency_failures(key, frame, frames)
        for mask, rule, column in failing:
            for i in np.flatnonzero(mask.to_numpy(dtype=bool)):
                file, sheet, row = frame["_file"].iat[i], frame["_sheet"].iat[i], int(frame["_row"].iat[i])
                header = written.get((file, key, column), spec.column(column).header)
                if (file, sheet, row, header) in reported:
                    continue
                out.append({"township_code": frame["township_code"].iat[i], "file": file, "sheet": sheet, "row": row,
                            "column": header, "rule": rule})
    return out


def _consistency_failures(key: str, frame: pd.DataFrame, frames: dict[str, pd.DataFrame]) -> list[tuple[pd.Series, str, str]]:
    """Rules across columns and sheets: members of no listed household, a person listed twice, sex against
    the ID, household size against member rows, income components and per-capita income against the total."""
    rules = raw_catalogue()["data_rules"]
    if key == "members":
        listed = frame["household_id"].isin(set(frames["households"]["household_id"].dropna()))
        ids = frame["id_number"].astype("string")
        shaped = ids.str.fullmatch(ASCII_ID).fillna(False).astype(bool)
        odd = (pd.to_numeric(ids.str[16], errors="coerce") % 2 == 1).fillna(False).to_numpy(dtype=bool)
        id_sex = pd.Series(np.where(odd, "男", "女"), index=frame.index)
        sex_wrong = shaped & frame["sex"].notna() & (frame["sex"] != id_sex)
        twice = frame["id_number"].notna() & frame["id_number"].duplicated(keep=False)
        return [(~listed, "DQ-MEMBER-ORPHAN", "household_id"), (twice, "DQ-PERSON-TWICE", "id_number"),
                (sex_wrong.fillna(False), "DQ-ID-SEX", "sex")]
    if key == "households":
        members = frames["members"]["household_id"].value_counts()
        rows = frame["household_id"].map(members).fillna(0)
        size = frame["household_size"]
        parts = frame[["income_wage", "income_business", "income_property", "income_transfer"]]
        total = parts.fillna(0).sum(axis=1)
        sum_gap = (frame["net_income"] - total).abs().where(parts.notna().any(axis=1))
        per_head = (frame["income_per_capita"] - frame["net_income"] / size.where(size > 0)).abs()
        return [(size.notna() & (size != rows), "DQ-HOUSEHOLD-SIZE", "household_size"),
                ((sum_gap > rules["DQ-INCOME-SUM"]["tolerance"]).fillna(False), "DQ-INCOME-SUM", "net_income"),
                ((per_head > rules["DQ-INCOME-PER-CAPITA"]["tolerance"]).fillna(False), "DQ-INCOME-PER-CAPITA",
                 "income_per_capita")]
    return []


def issue_order(issue: dict) -> tuple:
    return (issue["township_code"], issue["file"], issue["sheet"], -1 if issue["row"] is None else issue["row"],
            issue["column"], issue["rule"])


def located_defects(county: County, week: str, tables: dict[str, Table], built: list[Built],
                    won: dict[str, int]) -> list[dict]:
    """The injected gaps and ID defects of the week (manifest.defects) located in the winning files."""
    w = number(week)
    starts = {key: {code: span[0] for code, span in bounds(tables[key]).items()} for key in DATA_KEYS}
    base_pos = {idx: i for i, idx in enumerate(tables["projects"]["_base"])}
    order = {key: i for i, key in enumerate(("cover",) + DATA_KEYS)}
    out = []
    for gap in county.gaps:
        if w not in gap.where or gap.township_code not in won:
            continue
        b = built[won[gap.township_code]]
        key, idx, column = gap.where[w]
        position = (base_pos[idx] if key == "projects" else idx) - starts[key][gap.township_code]
        if position not in set(b.kept[key]):
            continue
        grid = b.grids[key]
        out.append(defect_entry(gap, w, b.spec.name, grid.name, grid.row_of[position], grid.written[column], order[key]))
    return sorted_defects(out)


def file_entry(b: Built, used: bool, week: str) -> dict:
    spec = b.spec
    entry = {
        "file": spec.name, "path": f"inbox/{week}/{spec.name}", "township_code": spec.township_code,
        "form": spec.form, "style": spec.style.name if spec.form in ("xlsx", "corrupt") else None,
        "shapes": list(spec.shapes), "expected_status": b.status, "expected_rule": b.rule,
        "mtime": spec.at.isoformat(), "on_time": spec.at <= deadline(week), "used": used,
        "issues": sorted(b.issues, key=issue_order),
    }
    if b.status != REJECTED:
        entry["rows"] = {k: len(t) for k, t in b.tables.items()}
        entry["headers"] = {b.grids[k].name: dict(sorted(b.grids[k].written.items())) for k in DATA_KEYS}
    return entry


def fill_slices(tables: dict[str, Table], code: str) -> dict[str, Table]:
    """One township's rows of every sheet of the week."""
    out = {}
    for key in SHEET_KEYS:
        start, stop = bounds(tables[key]).get(code, (0, 0))
        out[key] = tables[key].take(list(range(start, stop)))
    return out


