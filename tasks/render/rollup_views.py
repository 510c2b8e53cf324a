"""View models of the roll-ups beside the county summary: the township summary and the department problem list."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from evalprep.idcard import mask, mask_phone
from expectations.catalogue import Profile
from tasks.answers import ANSWER_FIELDS, ANSWER_HEADERS
from tasks.departments import IMPACT_DECISIVE, IMPACT_ONE_OF_SEVERAL, KIND_PROJECT, fixes_that_turn_villages
from tasks.assess import UNKNOWN
from tasks.render.formatting import (
    COHORT, COUNT_UNIT, GRADE_SYMBOL, NOT_NAMED, PASSING_GRADES, VETO_MARK, as_date, as_flag, as_int, clean_text, codes_of, format_date,
    labels_of,
)
from tasks.render.evaluators_view import POWER, WATER, water_backlog, water_village
from tasks.render.paths import attachment_name, department_list_path
from tasks.render.village_sections import OWNER_FIELDS, township_submission
from tasks.render.view_models import (
    county_summary_context, criteria_legend, criteria_overview, document_furniture, grade_cards, progress_toward,
    ranked_villages, source_numbers, unknown_note, unknown_summary, wrong_exit_split,
)
from tasks.ledger import FIXED, NEW, OPEN_STATUSES, REOPENED, closure, rate_text

MAX_DEPARTMENT_ROWS = 50
MAX_ANSWER_CHARS = 60  # per answer field in the PDF's line; the spreadsheet has the whole text
MAX_NAMED_VILLAGES = 12
MISSING_OWNER = f"✘ {NOT_NAMED}"
OVERDUE_MARK = "【逾期】"


# ------------------------------------------------------------------------------------------- township

def township_summary_context(
    profile: Profile,
    villages: pd.DataFrame,
    households: pd.DataFrame,
    village_criteria: pd.DataFrame,
    run: Mapping[str, Any],
    submissions: pd.DataFrame | None = None,
    issues: pd.DataFrame | None = None,
    ledger: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """One township's summary: villages by grade, key villages and exit households ready, every village worst
    first, the criteria failing most, this week's submission and the data problems per village, and its
    rectification ledger's closure (its overdue items named)."""
    first = villages.iloc[0] if len(villages) else {}
    code, name = clean_text(first.get("township_code")), clean_text(first.get("township_name"))
    as_of = as_date(run["as_of"])
    key = villages["is_key_village"].map(as_flag).astype(bool)
    cohort = households[households["in_exit_cohort"].map(as_flag).astype(bool)]
    ready = int(cohort["meets_all"].map(as_flag).sum())
    planned = households[households["planned_exit_year"] == profile.year] if "planned_exit_year" in households else None
    issues = issues if issues is not None else pd.DataFrame(columns=["village_code", "severity"])
    per_village = issues.groupby("village_code").size() if len(issues) else pd.Series(dtype=int)
    rows, failing = ranked_villages(profile, villages, limit=None, failing_only=False)
    for row in rows:
        row["issues"] = int(per_village.get(row["village_code"], 0))
    return {
        "document": document_furniture(profile, run, "乡镇迎评汇总", [name]),
        "overview": {
            "county": run["county"], "township": name, "township_code": code, "week": run["week"],
            "as_of": format_date(as_of), "profile": profile.label,
            "evaluation_date": format_date(profile.evaluation_date),
            "days_left": (profile.evaluation_date - as_of).days,
            "villages": len(villages), "failing_villages": failing,
        },
        "grades": grade_cards(villages),
        "progress": {
            "key_villages": progress_toward(int((key & villages["grade"].isin(PASSING_GRADES)).sum()), int(key.sum())),
            "exit_households": progress_toward(ready, len(cohort)),
            "planned": None if planned is None else {
                **progress_toward(int(planned["meets_all"].map(as_flag).sum()), len(planned)), "year": profile.year},
        },
        "villages": rows,
        "wrong_exit": wrong_exit_split(profile, villages),
        "criteria": criteria_overview(profile, villages, village_criteria),
        "unknown_notes": unknown_summary(profile, villages, village_criteria),
        "legend": criteria_legend(profile, source_numbers(profile)),
        "submission": township_submission(submissions if submissions is not None else pd.DataFrame(), code),
        "issues": {"total": len(issues), "errors": int((issues["severity"] == "error").sum()) if len(issues) else 0,
                   "villages": len(per_village)},
        "ledger": ledger_closure(ledger, "township"),
    }


# ----------------------------------------------------------------------------------------- department

def _problem(profile: Profile, item: Mapping[str, Any], villages: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    criterion = profile.criterion(item["code"])
    village = (villages or {}).get(item["village_code"])
    if item["kind"] != KIND_PROJECT and criterion.code == POWER and as_flag(item.get("no_project_first")):
        return f"{criterion.label}未达标：重点村，无任何电力项目（项目不启动，考核是不可能通过的）"
    if item["kind"] != KIND_PROJECT and criterion.code == WATER and village is not None:
        water = water_village(profile, village)
        return f"{criterion.label}未达标：覆盖率 {water['coverage']}，{water['backlog']}，{water['project']}"
    if item["kind"] == KIND_PROJECT:
        gaps = "、".join(OWNER_FIELDS[f] for f in codes_of(item["owner_gaps"]))
        serves = labels_of(profile, [item["project_criterion"]])[0] if item["project_criterion"] else "—"
        return f"项目「{item['project_name']}」（{serves}）缺{gaps}"
    if item.get("status") == UNKNOWN:
        return unknown_note(criterion, item.get("unknown_reason"))
    count = as_int(item.get("failing_count"))
    if criterion.level == "household" and count:
        return f"{criterion.label}：{COHORT} {count} 户未达标"
    if criterion.level in COUNT_UNIT and count:
        return f"{criterion.label}：{count} {COUNT_UNIT[criterion.level]}未达标"
    return f"{criterion.label}未达标"


def _impact(item: Mapping[str, Any]) -> str:
    if item["impact"] == IMPACT_DECISIVE:
        return "✘ 唯一否决项，解决即可合格"
    if item["impact"] == IMPACT_ONE_OF_SEVERAL:
        return f"◆ 否决项之一（共 {int(item['blockers'])} 项）"
    return "非否决项（影响评优）"


def department_item_rows(profile: Profile, items: pd.DataFrame,
                         villages: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Printable rows of a department's items, in the items' order (villages: the readiness rows by code, for
    the water and power facts)."""
    return [
        {
            "number": number,
            "township": clean_text(item["township_name"]),
            "village": clean_text(item["village_name"]),
            "village_code": clean_text(item["village_code"]),
            "key_village": "重点村" if as_flag(item["is_key_village"]) else "",
            "grade": clean_text(item["grade"]),
            "grade_symbol": GRADE_SYMBOL.get(clean_text(item["grade"]), ""),
            "problem": (OVERDUE_MARK if item.get("overdue", False) else "") + _problem(profile, item, villages),
            "veto_mark": VETO_MARK if item["veto"] else "",
            "impact": _impact(item),
            "decisive": bool(item["decisive"]),
            "owner_missing": bool(item["owner_missing"]),
            "overdue": bool(item.get("overdue", False)),
            "lead": clean_text(item["lead"], MISSING_OWNER),
            "responsible": clean_text(item["responsible_person"], MISSING_OWNER),
            "item_id": clean_text(item.get("item_id")),
            **{name: clean_text(item.get(name)) for name in ANSWER_FIELDS},
            "unanswered": bool(item.get("unanswered", True)),
            "answer_line": answer_line(item),
        }
        for number, item in enumerate(items.to_dict("records"), start=1)
    ]


def _short(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def answer_line(item: Mapping[str, Any]) -> str:
    """The department's answer to one item in one line (full text in the spreadsheet), or what is missing."""
    given = {name: clean_text(item.get(name)) for name in ANSWER_FIELDS}
    if not any(given.values()):
        return "✘ 部门未回复（在附表黄色列填写）"
    parts = [f"{ANSWER_HEADERS[name]}：{_short(value)}" for name, value in given.items() if value]
    missing = [ANSWER_HEADERS[name] for name in ("solution", "answer_responsible") if not given[name]]
    week = clean_text(item.get("answer_week"))
    return ("✘ 缺" + "、".join(missing) + "；" if missing else "") + "；".join(parts) + (f"（{week} 回复）" if week else "")


def _households_of(profile: Profile, department: str, items: pd.DataFrame, households: pd.DataFrame) -> list[dict[str, Any]]:
    """Every household behind the department's household-criterion items (masked), for the spreadsheet."""
    owned = {c.code for c in profile.by_level("household") if department in c.departments}
    villages = set(items.loc[items["code"].isin(owned), "village_code"]) if len(items) else set()
    if not owned or not villages or not len(households):
        return []
    frame = households[households["village_code"].isin(villages)]
    rows = []
    for h in frame.sort_values(["village_code", "household_id"]).to_dict("records"):
        codes = [c for c in codes_of(h["failing_criteria"]) if c in owned]
        if not codes or not as_flag(h.get("in_exit_cohort")):
            continue
        rows.append({
            "village_code": clean_text(h["village_code"]), "household_id": clean_text(h["household_id"]),
            "head_name": clean_text(h.get("head_name")), "head_id": mask(h.get("head_id_number")),
            "exit_status": clean_text(h.get("exit_status")), "failing": "、".join(labels_of(profile, codes)),
            "note": clean_text(h.get("members_note")),
            "helper": clean_text(h.get("helper_name"), NOT_NAMED), "helper_phone": mask_phone(h.get("helper_phone")),
        })
    return rows


def department_list_context(
    profile: Profile,
    department: str,
    items: pd.DataFrame,
    run: Mapping[str, Any],
    households: pd.DataFrame | None = None,
    turned: list[str] | None = None,
    villages: pd.DataFrame | None = None,
    ledger: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """One department's problem list: what it owns, the fixes that turn most villages, every item (the worst
    MAX_DEPARTMENT_ROWS printed, all in the spreadsheet), households behind its household criteria."""
    as_of = as_date(run["as_of"])
    by_code = ({v["village_code"]: v for v in villages.to_dict("records")} if villages is not None and len(villages)
               else {})
    rows = department_item_rows(profile, items, by_code)
    owns_water = WATER in profile.codes and department in profile.criterion(WATER).departments
    water = water_backlog(profile, villages) if owns_water and villages is not None else None
    fixes = []
    for fix in fixes_that_turn_villages(items).to_dict("records"):
        criterion = profile.criterion(fix["code"])
        count = fix["failing_count"]
        fixes.append({
            "label": criterion.label, "code": criterion.code, "veto_mark": VETO_MARK if criterion.veto else "",
            "villages": int(fix["villages"]), "key_villages": int(fix["key_villages"]),
            "decisive": int(fix["decisive"]), "rule": criterion.rule,
            "failing_count": f"{count} {COUNT_UNIT[criterion.level]}" if criterion.level in COUNT_UNIT and count else "—",
        })
    owned = [c.label for c in profile.criteria if department in c.departments]
    villages = items.drop_duplicates("village_code") if len(items) else items
    turned = turned or []
    names = {code: clean_text(town) + clean_text(name, str(code))  # a village sent without a name: its code
             for code, town, name in zip(items["village_code"], items["township_name"], items["village_name"])}
    return {
        "document": document_furniture(profile, run, "部门问题清单", [department]),
        "overview": {
            "department": department, "county": run["county"], "week": run["week"], "as_of": format_date(as_of),
            "profile": profile.label, "evaluation_date": format_date(profile.evaluation_date),
            "days_left": (profile.evaluation_date - as_of).days,
            "owned": "、".join(owned) or "无（仅列出本部门主责的“双七”项目）",
            "item_count": len(rows),
            "owner_missing": sum(r["owner_missing"] for r in rows),
            "unanswered": sum(r["unanswered"] for r in rows),
            "decisive": sum(r["decisive"] for r in rows),
            "villages": len(villages),
            "key_villages": int(villages["is_key_village"].map(as_flag).sum()) if len(villages) else 0,
            "turned": len(turned),
            "turned_names": "、".join(names.get(code, code) for code in turned[:MAX_NAMED_VILLAGES])
                            + (f" 等 {len(turned)} 个" if len(turned) > MAX_NAMED_VILLAGES else ""),
            "attachment": attachment_name(department_list_path(department)),
        },
        "fixes": fixes,
        "water": water,
        "rows": rows[:MAX_DEPARTMENT_ROWS],
        "more": max(0, len(rows) - MAX_DEPARTMENT_ROWS),
        "complete": rows,
        "households": _households_of(profile, department, items, households if households is not None else pd.DataFrame()),
        "ledger": ledger_closure(ledger, "department"),
    }


# -------------------------------------------------------------------------------- rectification ledger

MAX_OVERDUE_NAMED = 5


def ledger_closure(ledger: pd.DataFrame | None, scope: str) -> dict[str, Any] | None:
    """The ledger section of a roll-up (report_templates/_ledger_closure.html.j2): items ever seen, fixed (the
    closure rate), open, new and reopened this week, overdue; a township names its first overdue items, the
    county has the closure tables by department and by township (the accountability view). None without a
    ledger (an inspection of villages, a test that gives none) or without an item here."""
    if ledger is None or not len(ledger):
        return None
    status = ledger["status"]
    fixed = int((status == FIXED).sum())
    out: dict[str, Any] = {
        "scope": scope, "items": len(ledger), "fixed": fixed, "rate": rate_text(fixed, len(ledger)),
        "open": int(status.isin(OPEN_STATUSES).sum()), "new": int((status == NEW).sum()),
        "reopened": int((status == REOPENED).sum()), "overdue": int(ledger["overdue"].astype(bool).sum()),
        "since": min(ledger["first_seen"]),
    }
    if scope == "township":
        overdue = ledger[ledger["overdue"].astype(bool)]
        out["overdue_rows"] = [
            {"department": clean_text(r["department"]), "village": clean_text(r["village_name"]),
             "problem": clean_text(r["problem"]), "deadline": format_date(r["deadline"]), "weeks": int(r["weeks_open"])}
            for r in overdue.sort_values(["deadline", "item_id"]).head(MAX_OVERDUE_NAMED).to_dict("records")]
        out["overdue_more"] = max(0, len(overdue) - MAX_OVERDUE_NAMED)
    if scope == "county":
        out["departments"] = _closure_rows(ledger, "department")
        out["townships"] = _closure_rows(ledger, "township_name")
    return out


def _closure_rows(ledger: pd.DataFrame, by: str) -> list[dict[str, Any]]:
    return [{"name": clean_text(r[by]), "items": int(r["items"]), "open": int(r["open"]), "fixed": int(r["fixed"]),
             "reopened": int(r["reopened"]), "overdue": int(r["overdue"]), "rate": rate_text(int(r["fixed"]), int(r["items"]))}
            for r in closure(ledger, by).to_dict("records")]


def county_summary_with_ledger(profile: Profile, run: Mapping[str, Any], ledger: pd.DataFrame | None = None,
                               **inputs: Any) -> dict[str, Any]:
    """The county summary's view model (view_models.county_summary_context) with the ledger's closure tables."""
    return {**county_summary_context(profile, run=run, **inputs), "ledger": ledger_closure(ledger, "county")}
