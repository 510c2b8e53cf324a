"""The manifest: the truth of every week (grades, failing criteria, failing households) and every injected
defect located as the clerk sees it (file, sheet, Excel row, header).

manifest.json (UTF-8, sorted keys):
  seed, small, [messy: true], profile, weeks [2016-W36 … 2016-W39], targets {key_villages, exit_households},
  counts {townships, villages, key_villages, households, households_cancelled, people, exit_households, …},
  by_week {<week>: {
    as_of, submitted_on, files [inbox/<week>/<code>_<name>_<week>.xlsx …],
    summary {grades, key_village_grades, villages_failing_by_criterion, exit_households_failing, defects_by_code},
    villages {<village_code>: {grade, failing_criteria [sorted], satisfaction_rate, poverty_incidence,
              wrong_exit_rate, households, households_failing, exit_households, exit_households_failing,
              satisfaction_answers, satisfaction_yes, remaining_poor_people, rural_population, exit_people,
              is_key_village, township_code}},
    households_failing {<household_id>: [sorted codes]}   (every non-注销 household failing something),
    defects [{kind, code, township_code, file, sheet, row, column, village_code, fixed_in,
              household_id / person_id / project_id where applicable, value where telling}]}}

Messy mode (messy.py) changes `files` and adds to each week:
    files [{file, path, township_code, form, style, shapes, expected_status (accepted | accepted_with_issues |
            rejected), expected_rule (the rejection's data rule or null), mtime (ISO, +08:00), on_time, used,
            issues [this file's ingestion issues], rows {sheet key: rows imported} and headers {sheet: {column:
            header as written}} for files not rejected}]   (in the order received: mtime, then name)
    deadline (ISO), missing_townships [codes of county townships that sent nothing],
    issues [{township_code, file, sheet, row, column, rule}]: every issue the week's run reports (ingestion
            issues of the used files and of rejected files newer than their township's used file, plus the
            data-quality issues of the rows that reach validation, one per cell), sorted
  and its truth (villages, households_failing, summary) and defects are those of the rows that reach
  validation: the newest accepted file of each township, dropped rows gone, emptied cells empty.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from evalprep.template import sheets

from .county import County
from .table import Table
from .truth import GRADE_EXCELLENT, GRADE_FAIL, GRADE_PASS, Assessment
from .weeks import as_of, label, number, submitted_on
from .workbook import SHEET_ORDER, Style

TABLE_KEYS = ("households", "members", "villages", "surveys", "projects")


def file_name(township_code: str, township_name: str, week: str) -> str:
    return f"{township_code}_{township_name}_{week}.xlsx"


def bounds(table: Table) -> dict[str, tuple[int, int]]:
    """Township code → [start, stop) of its rows (tables are grouped by township)."""
    out: dict[str, tuple[int, int]] = {}
    for i, code in enumerate(table["_township_code"]):
        start, _ = out.get(code, (i, i))
        out[code] = (start, i + 1)
    return out


def excel_rows(tables: dict[str, Table], style: Style) -> dict[str, dict[int, int]]:
    """Table key → {row index in the gap's source table: Excel row in its township's sheet}."""
    out = {}
    for key in TABLE_KEYS:
        table = tables[key]
        source = table["_base"] if "_base" in table.cols else range(len(table))
        seen: Counter = Counter()
        rows = {}
        for idx, code in zip(source, table["_township_code"]):
            rows[idx] = style.data_row(seen[code])
            seen[code] += 1
        out[key] = rows
    return out


def defect_entry(gap, w: int, file: str, sheet: str, row: int, column: str, sheet_order: int) -> dict:
    """One injected defect as the manifest lists it (with a sort key `_order` that sorted_defects removes)."""
    entry = {"kind": gap.kind, "code": gap.code, "township_code": gap.township_code, "file": file, "sheet": sheet,
             "row": row, "column": column, "village_code": gap.village_code, "fixed_in": label(gap.fix_week)}
    for field in ("household_id", "person_id", "project_id"):
        if getattr(gap, field):
            entry[field] = getattr(gap, field)
    if w in gap.value:
        entry["value"] = gap.value[w]
    entry["_order"] = sheet_order
    return entry


def sorted_defects(entries: list[dict]) -> list[dict]:
    """Defects by file, sheet order, row, column, kind and code."""
    entries.sort(key=lambda e: (e["file"], e["_order"], e["row"], e["column"], e["kind"], e["code"]))
    for e in entries:
        del e["_order"]
    return entries


def defects(county: County, week: str, tables: dict[str, Table], style: Style) -> list[dict]:
    w = number(week)
    names = dict(county.townships)
    rows = excel_rows(tables, style)
    spec = sheets()
    order = {key: i for i, key in enumerate(SHEET_ORDER)}
    out = []
    for gap in county.gaps:
        if w not in gap.where:
            continue
        key, idx, column = gap.where[w]
        out.append(defect_entry(gap, w, file_name(gap.township_code, names[gap.township_code], week), spec[key].name,
                                rows[key][idx], spec[key].column(column).header, order[key]))
    return sorted_defects(out)


def week_block(county: County, week: str, tables: dict[str, Table], truth: Assessment, style: Style,
               files: list, found: list[dict] | None = None) -> dict:
    """One week of the manifest; `found` (the located defects) is computed for the clean layout unless given."""
    hh = truth.households
    failing = {hid: sorted(codes) for hid, codes, live in zip(hh.index, hh["failing"], hh["live"]) if live and codes}
    if found is None:
        found = defects(county, week, tables, style)
    grades = Counter(v["grade"] for v in truth.villages.values())
    key_grades = Counter(v["grade"] for v in truth.villages.values() if v["is_key_village"])
    by_criterion = Counter(c for v in truth.villages.values() for c in v["failing_criteria"])
    cohort = hh[hh["in_cohort"]]
    return {
        "as_of": as_of(week).isoformat(),
        "submitted_on": submitted_on(week).isoformat(),
        "files": files,
        "summary": {
            "grades": {g: grades.get(g, 0) for g in (GRADE_FAIL, GRADE_PASS, GRADE_EXCELLENT)},
            "key_village_grades": {g: key_grades.get(g, 0) for g in (GRADE_FAIL, GRADE_PASS, GRADE_EXCELLENT)},
            "villages_failing_by_criterion": dict(by_criterion),
            "exit_households_failing": int(sum(1 for codes in cohort["failing"] if codes)),
            "defects_by_code": dict(Counter(d["code"] for d in found)),
        },
        "villages": truth.villages,
        "households_failing": failing,
        "defects": found,
    }


def counts(county: County) -> dict:
    hh = county.register.households
    return {
        "townships": len(county.townships),
        "villages": len(county.villages),
        "key_villages": sum(1 for k in county.villages["is_key_village"] if k),
        "households": len(hh),
        "households_cancelled": sum(1 for s in hh["exit_status"] if s == "注销"),
        "people": len(county.register.members),
        "exit_households": sum(1 for y in hh["planned_exit_year"] if y == county.profile.year),
        "projects": len(county.projects),
        "surveys": len(county.surveys.respondents),
    }


def write_manifest(path: Path, manifest: dict) -> None:
    text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")

