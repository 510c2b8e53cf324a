"""index.html at the root of a run folder: the county scoreboard, linking every PDF, spreadsheet and table.

First on the page, what the office looks for first: the townships whose submission this week is missing, late or
was rejected, each with its status in words and a link to its township summary when there is one.
Links are relative (the folder can be copied or zipped as a whole) and point only at files that exist in the
run folder; a document that failed to render is shown as such. No personal data is printed at all.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from expectations.catalogue import Profile, load_profile
from tasks.assess import Readiness
from tasks.departments import department_names
from evalprep.files import write_atomic
from tasks.render.formatting import (
    GRADE_CLASS, GRADE_SYMBOL, GRADES, as_date, as_flag, clean_text, codes_of, format_date, format_pct, labels_of,
)
from tasks.render.paths import (
    COUNTY_SUMMARY, INDEX_PAGE, attachment_path, department_list_path, dossier_path, township_summary_path,
)

TABLE_SUFFIXES = (".csv", ".xlsx", ".pdf")
LINKED_JSON = ("readiness/simulation.json",)  # validation/*.json are GX results for machines: not linked
PRIVATE_FOLDERS = ("feedback/",)  # each township's own workbook, unmasked (tasks/feedback.py): for it alone
FILE_WORDS = {
    "submissions.csv": "本周收到的报表及处理结果", "issues.csv": "数据问题（逐条，给镇上更正）",
    "outliers.csv": "异常值提醒（请核实）", "rendering.csv": "各文档生成情况",
    "readiness/villages.csv": "各村评定", "readiness/households.csv": "各户达标情况",
    "readiness/townships.csv": "各镇汇总", "readiness/county.csv": "全县汇总",
    "readiness/changes.csv": "较上周变化的村", "readiness/simulation.json": "第三方评估抽样模拟",
    "ledger.csv": "整改台账（每个问题的责任单位、期限、状态）", "ledger.xlsx": "整改台账（含各部门、各镇整改率，可打印）",
    "departments.csv": "本周各部门交回的问题清单", "department_issues.csv": "部门交回清单中未能采用的单元格",
}


def run_files(stage: Path) -> list[str]:
    """Every file of a run folder, relative, POSIX-style; hidden (temporary) files left out."""
    return sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(stage).parts))


FAILED, NOT_IN_RUN = "failed", "absent"


def _link(path: str, files: set[str], failed: set[str]) -> dict[str, str]:
    """A relative href for a file of the run; else whether it failed to render or was not part of the run
    (an inspection run renders only some villages)."""
    if path in files:
        return {"href": quote(path), "state": "ok"}
    return {"href": "", "state": FAILED if path in failed else NOT_IN_RUN}


MISSING_WORD, REJECTED_WORD, LATE_WORD = "本周未报送", "被退回", "逾期报送"
ALERT_ORDER = (MISSING_WORD, REJECTED_WORD, LATE_WORD)
REASON_CHARS = 40  # "the reason in a few words": the first clause of the rejection reason, at most this long


def short_reason(reason: Any) -> str:
    """The first clause of a rejection reason (what was wrong, without the how-to), at most REASON_CHARS."""
    text = clean_text(reason)
    for stop in ("；", "。", ";"):
        text = text.split(stop, 1)[0]
    text = text.strip("，, ")
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1] + "…"


def _moment(value: Any) -> str:
    """2016-10-03T14:05:00+08:00 → 10月3日 14:05 (the office's clock, as received_at and deadline are written)."""
    text = clean_text(value)
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        return text or "—"
    return f"{at.month}月{at.day}日 {at:%H:%M}"


def submission_alerts(submissions: pd.DataFrame) -> list[dict[str, Any]]:
    """One line per township this week's submission is missing, rejected or late (submissions.csv's rows):
    本周未报送 when nothing came; 被退回 when its newest file was rejected (with the reason, and whether an
    earlier accepted file of the week is used instead); 逾期报送 when the file used came after the deadline.
    Most urgent first (missing, rejected, late), then by township code."""
    alerts = []
    for code, group in submissions.groupby("township_code", sort=True):
        used = group[group["used"].map(as_flag).astype(bool)]
        files = group[group["status"] != "missing"]
        name = clean_text(group["township_name"].iloc[0]) or clean_text(code)
        words, details = [], []
        if not len(files):
            words.append(MISSING_WORD)
            details.append("本周未收到报表")
        elif files.iloc[-1]["status"] == "rejected":
            words.append(REJECTED_WORD)
            details.append(short_reason(files.iloc[-1]["reason"]) or "无法读取")
            details.append("沿用本周较早的报表" if len(used) else "本周没有可用的报表")
        if len(used) and not as_flag(used.iloc[-1]["on_time"]):
            words.append(LATE_WORD)
            details.append(f"{_moment(used.iloc[-1]['received_at'])} 收到（截止 {_moment(used.iloc[-1]['deadline'])}）")
        if words:
            alerts.append({"code": clean_text(code), "name": name or "（未能识别乡镇）", "status": "、".join(words),
                           "reason": "；".join(details), "rank": ALERT_ORDER.index(words[0])})
    return sorted(alerts, key=lambda a: (a["rank"], a["code"] == "", a["code"]))


def _share(done: int, target: int) -> str:
    return format_pct(done / target) if target else "—"


def index_page_context(profile: Profile, run: Mapping[str, Any], villages: pd.DataFrame, townships: pd.DataFrame,
                       county: pd.DataFrame, problems: pd.DataFrame, files: Sequence[str],
                       rendering: pd.DataFrame | None = None,
                       submissions: pd.DataFrame | None = None) -> dict[str, Any]:
    """The scoreboard and every link of the index page, from the readiness roll-ups, the run's files and the
    rendering report (documents that failed); with the week's submissions, the box of townships to chase."""
    present = set(files)
    failed = set(rendering.loc[~rendering["ok"].astype(bool), "path"]) if rendering is not None and len(rendering) else set()
    linked: set[str] = {INDEX_PAGE}

    def link(path: str) -> dict[str, str]:
        linked.add(path)
        return _link(path, present, failed | {attachment_path(f) for f in failed})

    total = county.iloc[0].to_dict() if len(county) else {}
    counts = villages["grade"].value_counts()
    grades = [{"grade": g, "symbol": GRADE_SYMBOL[g], "css": GRADE_CLASS[g], "count": int(counts.get(g, 0))}
              for g in GRADES]
    key_ready, key_target = int(total.get("key_villages_ready", 0)), int(total.get("target_key_villages", 0))
    exit_ready = int(total.get("planned_exit_households_ready", 0))
    exit_target = int(total.get("target_exit_households", 0))

    by_township = dict(tuple(villages.sort_values("village_code").groupby("township_code", sort=True)))
    town_rows, town_sections = [], []
    for t in townships.sort_values("township_code").to_dict("records"):
        code, name = t["township_code"], t["township_name"]
        town_rows.append({
            "code": code, "name": name, "villages": int(t["villages"]),
            "grade_counts": [int(t[f"villages_{g}"]) for g in GRADES],
            "key": f"{int(t['key_villages_ready'])} / {int(t['key_villages'])}",
            "exits": f"{int(t['planned_exit_households_ready'])} / {int(t['planned_exit_households'])}",
            "summary": link(township_summary_path(code, name)),
        })
        rows = []
        for v in by_township.get(code, villages.iloc[0:0]).to_dict("records"):
            pdf = dossier_path(v)
            grade = clean_text(v["grade"])
            rows.append({
                "code": v["village_code"], "name": clean_text(v["village_name"]),
                "key_village": "重点村" if as_flag(v["is_key_village"]) else "",
                "grade": grade, "grade_symbol": GRADE_SYMBOL.get(grade, ""), "css": GRADE_CLASS.get(grade, ""),
                "failing": "、".join(labels_of(profile, codes_of(v["failing_criteria"]))) or "—",
                "pdf": link(pdf), "xlsx": link(attachment_path(pdf)),
            })
        town_sections.append({"code": code, "name": name, "villages": rows})

    departments = []
    for name in department_names(profile, problems):
        own = problems[problems["department"] == name] if len(problems) else problems
        path = department_list_path(name)
        departments.append({
            "name": name, "item_count": len(own), "owner_missing": int(own["owner_missing"].sum()) if len(own) else 0,
            "decisive": int(own["decisive"].sum()) if len(own) else 0,
            "pdf": link(path), "xlsx": link(attachment_path(path)),
        })
    county_link = link(COUNTY_SUMMARY)
    chase = None
    if submissions is not None:
        alerts = submission_alerts(submissions)
        names = dict(zip(townships["township_code"], townships["township_name"]))
        for alert in alerts:
            name = names.get(alert["code"])
            alert["summary"] = link(township_summary_path(alert["code"], name)) if name else _link("", set(), set())
        chase = {"alerts": alerts, "expected": int(submissions["township_code"].replace("", pd.NA).nunique())}
    tables = [{"path": path, "href": quote(path), "what": FILE_WORDS.get(path, "")}
              for path in files if path not in linked and not path.startswith(PRIVATE_FOLDERS)
              and (path.endswith(TABLE_SUFFIXES) or path in LINKED_JSON)]
    as_of = as_date(run["as_of"])
    return {
        "title": f"{run['county']}脱贫退出迎评 · {run['week']}",
        "run": {"county": run["county"], "week": run["week"], "as_of": format_date(as_of), "run_id": run["run_id"],
                "generated_on": format_date(run.get("generated_on")),
                "profile": profile.label, "evaluation_date": format_date(profile.evaluation_date),
                "days_left": (profile.evaluation_date - as_of).days},
        "grades": grades,
        "villages": len(villages),
        "key": {"done": key_ready, "target": key_target, "share": _share(key_ready, key_target)},
        "exits": {"done": exit_ready, "target": exit_target, "share": _share(exit_ready, exit_target),
                  "year": profile.year},
        "county_summary": county_link,
        "chase": chase,
        "townships": town_rows,
        "township_sections": town_sections,
        "departments": departments,
        "tables": tables,
    }


def render_index_page(context: Mapping[str, Any]) -> str:
    """The index page's HTML (autoescaped, like every template)."""
    from tasks.render.html import render_html

    return render_html("index.html.j2", context)


def write_index_page(stage: Path, readiness: Readiness, rollups: Mapping[str, pd.DataFrame], problems: pd.DataFrame,
                     rendering: pd.DataFrame | None, run: Mapping[str, Any], profile_name: str,
                     submissions: pd.DataFrame | None = None) -> Path:
    """Write index.html into the run folder, linking the files written so far (call it last)."""
    context = index_page_context(load_profile(profile_name), run, readiness.villages,
                                 rollups["readiness/townships.csv"], rollups["readiness/county.csv"], problems,
                                 run_files(stage), rendering, submissions)
    path = stage / INDEX_PAGE
    write_atomic(path, render_index_page(context).encode("utf-8"))
    return path
