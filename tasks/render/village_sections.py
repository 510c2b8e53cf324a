"""View models of the dossier's later sections: housing, 双七 projects, data quality and the weekly trend.

Each builder takes one village's slice of a canonical or readiness frame and returns a plain dict: the rows
the PDF prints (the worst first, a few), the complete list for the spreadsheet next to the PDF, and counts.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from evalprep.idcard import mask, mask_phone
from evalprep.template import vocabularies
from evalprep.weeks import parse_week
from evalprep.redaction import redact_text
from expectations.catalogue import Profile
from expectations.vocabulary import HOUSING_DONE
from tasks.assess import GRADE_FAIL
from tasks.render.charts import line_panel
from tasks.render.formatting import (
    GRADE_SYMBOL, NOT_NAMED, REGISTERED, as_date, as_flag, as_int, clean_text, codes_of, format_date, format_pct,
    format_threshold, is_missing, labels_of,
)

MAX_PROJECT_ROWS = 12
MAX_ISSUE_ROWS = 15
MAX_SITE_ROWS = 8

NO_NEED = "无需"            # housing_solution: the house is safe, nothing to build
NOT_STARTED = "未开工"       # housing_progress and build_status
FINISHED_BUILDS = ("已完工", "已验收")
NOT_FILLED = "未填"
OWNER_FIELDS = {"department": "主责部门", "lead": "工作主抓人", "responsible_person": "工作责任人"}
SEVERITY_WORDS = {"error": "✘ 须更正", "warning": "△ 请核实"}
SUBMISSION_WORDS = {"accepted": "✔ 已接收", "accepted_with_issues": "△ 已接收（有问题）", "rejected": "✘ 被退回",
                    "missing": "✘ 未报送"}


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(pd.NA, index=frame.index, dtype="object")


# ------------------------------------------------------------------------------------------------- housing

def housing_section(profile: Profile, households: pd.DataFrame) -> dict[str, Any]:
    """Households by 住房解决方式 × 工程进度, the unresolved count, and resettlement sites not started."""
    solutions = [s for s in vocabularies()["housing_solution"] if s != NO_NEED]
    progress = list(vocabularies()["housing_progress"])
    frame = households.assign(
        _solution=_column(households, "housing_solution").map(lambda v: clean_text(v, NOT_FILLED)),
        _progress=_column(households, "housing_progress").map(lambda v: clean_text(v, NOT_FILLED)),
        _site=_column(households, "resettlement_site").map(clean_text),
    )
    building = frame[frame["_solution"] != NO_NEED]
    counts = building.groupby(["_solution", "_progress"]).size()
    columns = [*progress, NOT_FILLED]
    known = [s for s in solutions if s in set(building["_solution"])] + sorted(set(building["_solution"]) - set(solutions))
    rows = []
    for solution in known:
        cells = [int(counts.get((solution, p), 0)) for p in columns]
        rows.append({"solution": solution, "cells": cells, "total": sum(cells),
                     "not_started": int(counts.get((solution, NOT_STARTED), 0))})
    criterion = profile.criterion("H-HOUSING") if "H-HOUSING" in profile.codes else None
    failing = frame[frame["failing_criteria"].map(lambda c: criterion is not None and criterion.code in codes_of(c))]
    cohort = failing["in_exit_cohort"].map(as_flag).astype(bool) if len(failing) else pd.Series(dtype=bool)
    sites = _sites(frame[frame["_site"] != ""])
    return {
        "label": criterion.label if criterion else "",
        "households": len(frame),
        "no_need": int((frame["_solution"] == NO_NEED).sum()),
        "building": len(building),
        "columns": columns,
        "rows": rows,
        "totals": [sum(r["cells"][i] for r in rows) for i in range(len(columns))],
        "not_started": int((building["_progress"] == NOT_STARTED).sum()),
        "unresolved": len(failing),
        "unresolved_cohort": int(cohort.sum()),
        "sites": sites[:MAX_SITE_ROWS],
        "sites_total": len(sites),
        "sites_not_started": sum(s["not_started"] > 0 for s in sites),
        "more_sites": max(0, len(sites) - MAX_SITE_ROWS),
        "complete": [_housing_row(h) for h in building.sort_values("household_id").to_dict("records")],
    }


def _sites(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Resettlement sites of the village: households, how many not started, and a word + symbol status."""
    sites = []
    for name, group in frame.groupby("_site", sort=True):
        households = len(group)
        not_started = int((group["_progress"] == NOT_STARTED).sum())
        done = int(group["_progress"].isin(HOUSING_DONE).sum())
        if not_started == households:
            status = "✘ 未开工"
        elif not_started:
            status = f"◐ {not_started} 户未开工"
        elif done == households:
            status = "✔ 已竣工或入住"
        else:
            status = "… 在建"
        sites.append({"site": name, "households": households, "not_started": not_started,
                      "building": households - not_started - done, "done": done, "status": status})
    return sorted(sites, key=lambda s: (-(s["not_started"] == s["households"]), -s["not_started"], s["site"]))


def _housing_row(h: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "household_id": clean_text(h.get("household_id")),
        "head_name": clean_text(h.get("head_name")),
        "head_id": mask(h.get("head_id_number")),
        "exit_status": clean_text(h.get("exit_status")),
        "housing_safety": clean_text(h.get("housing_safety")),
        "solution": h["_solution"],
        "progress": h["_progress"],
        "site": h["_site"],
        "helper": clean_text(h.get("helper_name"), NOT_NAMED),
        "helper_phone": mask_phone(h.get("helper_phone")),
    }


# ------------------------------------------------------------------------------------------------ projects

def project_problems(project: Mapping[str, Any], evaluation_date: dt.date) -> dict[str, Any]:
    """What is wrong with one 双七 project: owner fields missing, not started, due after the evaluation."""
    missing = [word for field, word in OWNER_FIELDS.items() if not clean_text(project.get(field))]
    build = clean_text(project.get("build_status"))
    finished = build in FINISHED_BUILDS
    due = project.get("planned_completion")
    late = not finished and not is_missing(due) and as_date(due) > evaluation_date
    undated = not finished and is_missing(due)
    words = [f"缺{word}" for word in missing]
    if build == NOT_STARTED:
        words.append(NOT_STARTED)
    if late:
        words.append("计划完工晚于评估日")
    if undated:
        words.append("未填计划完工日期")
    return {"owner_gap": bool(missing), "not_started": build == NOT_STARTED, "late": late, "undated": undated,
            "problems": words}


def projects_section(profile: Profile, projects: pd.DataFrame) -> dict[str, Any]:
    """The village's 双七 projects, those with problems first: owner gaps, not started, late."""
    rows = []
    for p in projects.to_dict("records"):
        problems = project_problems(p, profile.evaluation_date)
        code = clean_text(p.get("criterion_code"))
        progress = p.get("progress_pct")
        rows.append({
            "project_id": clean_text(p.get("project_id")),
            "name": clean_text(p.get("project_name")),
            "criterion": labels_of(profile, [code])[0] if code else "—",
            "department": clean_text(p.get("department"), NOT_NAMED),
            "lead": clean_text(p.get("lead"), NOT_NAMED),
            "responsible": clean_text(p.get("responsible_person"), NOT_NAMED),
            "approval": clean_text(p.get("approval_status"), "—"),
            "build": clean_text(p.get("build_status"), "—"),
            "progress": "—" if is_missing(progress) else f"{float(progress):.0f}%",
            "due": format_date(p.get("planned_completion")),
            "problem_text": "、".join(problems["problems"]),
            **problems,
        })
    rows.sort(key=lambda r: (not r["owner_gap"], not r["not_started"], not (r["late"] or r["undated"]), r["project_id"]))
    return {
        "total": len(rows),
        "owner_gaps": sum(r["owner_gap"] for r in rows),
        "not_started": sum(r["not_started"] for r in rows),
        "late": sum(r["late"] for r in rows),
        "undated": sum(r["undated"] for r in rows),
        "with_problems": sum(bool(r["problems"]) for r in rows),
        "evaluation_date": format_date(profile.evaluation_date),
        "rows": rows[:MAX_PROJECT_ROWS],
        "more": max(0, len(rows) - MAX_PROJECT_ROWS),
        "complete": rows,
    }


# -------------------------------------------------------------------------------------------- data quality

def data_quality_section(issues: pd.DataFrame, submissions: pd.DataFrame, township_code: str) -> dict[str, Any]:
    """This village's issues.csv rows in plain words, errors first; the township's submission this week."""
    village_rows = []
    for i in issues.to_dict("records"):
        severity = clean_text(i.get("severity"))
        village_rows.append({
            "severity": severity,
            "severity_text": SEVERITY_WORDS.get(severity, severity),
            "file": clean_text(i.get("file")),
            "sheet": clean_text(i.get("sheet"), "—"),
            "row": "—" if is_missing(i.get("row")) else str(int(i["row"])),
            "column": clean_text(i.get("column"), "—"),
            "rule": clean_text(i.get("rule")),
            "message": redact_text(clean_text(i.get("message"))),
        })
    village_rows.sort(key=lambda r: (r["severity"] != "error", r["sheet"], int(r["row"]) if r["row"].isdigit() else 0))
    return {
        "rows": village_rows[:MAX_ISSUE_ROWS],
        "total": len(village_rows),
        "errors": sum(r["severity"] == "error" for r in village_rows),
        "warnings": sum(r["severity"] != "error" for r in village_rows),
        "more": max(0, len(village_rows) - MAX_ISSUE_ROWS),
        "complete": village_rows,
        "submission": township_submission(submissions, township_code),
    }


def township_submission(submissions: pd.DataFrame, township_code: str) -> dict[str, Any]:
    """The township's files this week: which one was used, on time or not, and any rejected with its reason."""
    if not len(submissions) or "township_code" not in submissions:
        return {"files": [], "used": None, "rejected": 0}
    own = submissions[submissions["township_code"].astype(str) == str(township_code)]
    files = []
    for s in own.to_dict("records"):
        status = clean_text(s.get("status"))
        used = as_flag(s.get("used"))
        on_time = s.get("on_time")
        files.append({
            "file": clean_text(s.get("file"), "—"),
            "status": status,
            "status_text": SUBMISSION_WORDS.get(status, status),
            "used": used,
            "used_text": "本档案所用" if used else "",
            "timing": ("" if status == "missing" or is_missing(on_time)
                       else "按时" if as_flag(on_time) else "✘ 逾期"),
            "reason": redact_text(clean_text(s.get("reason"), "—")),
        })
    used = next((f for f in files if f["used"]), None)
    return {"files": files, "used": used, "rejected": sum(f["status"] in ("rejected", "missing") for f in files)}


# --------------------------------------------------------------------------------------------------- trend

def week_label(week: str) -> str:
    """2016-W39 → W39."""
    return week.split("-")[-1]


def _trend_series(profile: Profile) -> list[dict[str, Any]]:
    """The figures the trend follows: satisfaction and incidence with their thresholds, failing households."""
    series = []
    if "V-SATISFACTION" in profile.codes:
        sat = profile.criterion("V-SATISFACTION")
        bands = (sat.params["fail_below"], sat.params["excellent_from"])
        series.append({"title": sat.label, "column": "satisfaction_rate", "percent": True,
                       "references": [(b, format_threshold(b)) for b in bands]})
    if "V-INCIDENCE" in profile.codes:
        inc = profile.criterion("V-INCIDENCE")
        series.append({"title": inc.label, "column": "poverty_incidence", "percent": True,
                       "references": [(inc.params["max"], format_threshold(inc.params["max"]))]})
    series.append({"title": f"不达标{REGISTERED}", "column": "households_failing", "percent": False, "references": [], "unit": "户"})
    return series


def trend_section(profile: Profile, trend: pd.DataFrame) -> dict[str, Any]:
    """The village's grade and key figures per recorded week, oldest first, with one small line chart each."""
    series = _trend_series(profile)
    ordered = trend.sort_values("week", key=lambda w: w.map(parse_week), kind="stable") if len(trend) else trend
    rows, previous = [], None
    for w in ordered.to_dict("records"):
        grade = clean_text(w.get("grade"), GRADE_FAIL)
        failing = codes_of(w.get("failing_criteria"))
        rows.append({
            "week": clean_text(w.get("week")),
            "grade": grade,
            "grade_symbol": GRADE_SYMBOL.get(grade, ""),
            "figures": [format_pct(w.get(s["column"])) if s["percent"]
                        else ("—" if is_missing(w.get(s["column"])) else f"{as_int(w.get(s['column']))} {s.get('unit', '')}")
                        for s in series],
            "criteria_failing": len(failing),
            "fixed": "、".join(labels_of(profile, [c for c in previous if c not in failing])) if previous is not None else "",
            "new": "、".join(labels_of(profile, [c for c in failing if c not in previous])) if previous is not None else "",
        })
        previous = failing
    labels = [week_label(r["week"]) for r in rows]
    charts = [line_panel(s["title"], labels, list(_column(ordered, s["column"])), percent=s["percent"],
                         references=s["references"], unit=s.get("unit", "")) for s in series] if rows else []
    return {"rows": rows, "weeks": len(rows), "titles": [s["title"] for s in series], "charts": charts,
            "first": rows[0]["week"] if rows else "", "last": rows[-1]["week"] if rows else ""}


# ------------------------------------------------------------------------------------- department answers

MAX_ANSWER_TEXT = 40  # characters of a 解决办法 printed in the dossier; the department list has more


def department_answers_section(profile: Profile, items: pd.DataFrame | None) -> dict[str, Any]:
    """The village's items on the department problem lists with their departments' answers (tasks/answers.py):
    one short line per answered item — who is responsible, what solution, by when — and one line naming the
    departments that have not answered yet."""
    if items is None or not len(items):
        return {"rows": [], "unanswered": ""}
    rows, waiting = [], []
    for item in items.sort_values(["department", "item_id"], kind="stable").to_dict("records"):
        code = clean_text(item.get("code"))
        label = profile.criterion(code).label if code in profile.codes else code
        what = f"项目「{clean_text(item.get('project_name'))}」" if clean_text(item.get("project_id")) else label
        where = f"{clean_text(item.get('department'))}（{what}）"
        solution, responsible = clean_text(item.get("solution")), clean_text(item.get("answer_responsible"))
        if not solution and not responsible:
            waiting.append(where)
            continue
        text = solution if len(solution) <= MAX_ANSWER_TEXT else solution[:MAX_ANSWER_TEXT] + "…"
        due = clean_text(item.get("due_date"))
        rows.append({"text": f"{where}：解决办法 {text or NOT_FILLED}；工作主抓人 "
                             f"{clean_text(item.get('answer_lead'), NOT_FILLED)}，工作责任人 {responsible or NOT_FILLED}"
                             + (f"；计划 {due} 完成" if due else "")})
    return {"rows": rows, "unanswered": "、".join(dict.fromkeys(waiting))}
