"""Department problem lists (部门问题清单): every failing item a responsible department owns, across villages.

Village criterion failures go to the criterion's department and co-departments (catalogue); a 双七 project
without a department, lead or responsible person goes to the project's 主责部门, or, when that is blank or
not a department of the catalogue, to the department of the criterion the project serves. Items are ordered
so that a department reads its most urgent work first: key villages with no project at all where the criterion
asks for that (V-POWER), items the department has not yet answered with a 解决办法 and a 工作责任人 (its answers,
tasks/answers.py), items nobody owns yet, then those that alone keep a
village from 合格, then the rest of the veto failures (fewest other blockers first), then the others; key
villages first within each. Once the rectification ledger is known (tasks/ledger.py), overdue items move
before all of these (overdue_first).
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from expectations.catalogue import BAND_EXCELLENT, Profile
from tasks.answers import ATTACHED_COLUMNS, attach_answers, unanswered
from tasks.assess import FAIL, GRADE_FAIL, PASS, Readiness
from tasks.ledger_ids import project_item, village_item
from tasks.render.formatting import as_flag, clean_text, codes_of

OWNER_CODE = "P-OWNER"
SATISFACTION_CODE = "V-SATISFACTION"
KIND_CRITERION, KIND_PROJECT = "criterion", "project"
IMPACT_DECISIVE, IMPACT_ONE_OF_SEVERAL, IMPACT_OTHER = 0, 1, 2
ITEM_COLUMNS = [
    "item_id", "department", "township_code", "township_name", "village_code", "village_name", "is_key_village", "grade",
    "kind", "code", "veto", "failing_count", "project_id", "project_name", "project_criterion", "owner_gaps",
    "lead", "responsible_person", "status", "unknown_reason", "no_project_first", "owner_missing", "blockers", "impact",
    "decisive", *ATTACHED_COLUMNS, "unanswered",
]
_BUILT_COLUMNS = ITEM_COLUMNS[:ITEM_COLUMNS.index("owner_missing")]
PROJECT_OWNER_FIELDS = ("department", "lead", "responsible_person")


def village_blockers(villages: pd.DataFrame, profile: Profile) -> pd.Series:
    """Per village code: the criteria that keep it from 合格 — failing veto criteria, and satisfaction when its
    band (GX's verdict, tasks/assess.py) is not pass or excellent, even if the profile does not mark it veto."""
    vetoes = {c.code for c in profile.criteria if c.veto}
    graded = SATISFACTION_CODE in profile.codes
    out = {}
    for village in villages.to_dict("records"):
        blockers = {code for code in codes_of(village.get("failing_criteria")) if code in vetoes}
        if graded and village.get("satisfaction_band") not in (PASS, BAND_EXCELLENT):
            blockers.add(SATISFACTION_CODE)
        out[village["village_code"]] = frozenset(blockers)
    return pd.Series(out, dtype="object")


def _no_project_first(criterion, village: dict[str, Any], with_project: set[tuple[str, str]]) -> bool:
    """A key village failing a criterion marked key_villages_without_project_first (V-POWER: "45个重点村有的
    至今还没有项目") that has no project at all for it: named before everything else in the list."""
    return (bool(criterion.params.get("key_villages_without_project_first")) and village["is_key_village"]
            and (village["village_code"], criterion.code) not in with_project)


def _routed_department(project: dict[str, Any], profile: Profile, known: set[str]) -> str:
    named = clean_text(project.get("department"))
    if named in known:
        return named
    code = clean_text(project.get("criterion_code"))
    return profile.criterion(code).department if code in profile.codes else profile.criterion(OWNER_CODE).department


def department_problem_list(readiness: Readiness, projects: pd.DataFrame, profile: Profile,
                            answers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (department, failing item): ITEM_COLUMNS, in reading order per department, with the
    departments' answers in force (tasks/answers.py) when given."""
    villages = readiness.villages.set_index("village_code", drop=False)
    blockers = village_blockers(readiness.villages, profile)
    known = set(profile.departments) | {d for c in profile.criteria for d in c.departments}
    rows: list[dict[str, Any]] = []

    def village_fields(code: str) -> dict[str, Any]:
        v = villages.loc[code]
        return {"township_code": v["township_code"], "township_name": v.get("township_name", ""),
                "village_code": code, "village_name": v["village_name"],
                "is_key_village": as_flag(v["is_key_village"]), "grade": v["grade"]}

    criteria = readiness.village_criteria
    # unknown (无法判定) counts as failing: the department is asked for what is missing
    failing = criteria[(criteria["status"] != PASS) & criteria["village_code"].isin(villages.index)]
    with_project = set(zip(projects["village_code"], projects["criterion_code"])) if len(projects) else set()
    for row in failing.to_dict("records"):
        if row["code"] not in profile.codes or (row["code"] == OWNER_CODE and len(projects)):
            continue  # project owner gaps are listed per project below
        criterion = profile.criterion(row["code"])
        lead, responsible = clean_text(row.get("lead")), clean_text(row.get("responsible_person"))
        for department in dict.fromkeys(criterion.departments):
            rows.append({
                "item_id": village_item(criterion.code, row["village_code"]),
                "department": department, **village_fields(row["village_code"]),
                "kind": KIND_CRITERION, "code": criterion.code, "veto": criterion.veto,
                "failing_count": row.get("failing_count"), "project_id": "", "project_name": "",
                "project_criterion": "", "owner_gaps": "", "lead": lead, "responsible_person": responsible,
                "no_project_first": _no_project_first(criterion, village_fields(row["village_code"]),
                                                      with_project),
                "status": row["status"], "unknown_reason": clean_text(row.get("unknown_reason")),
            })

    if OWNER_CODE in profile.codes and len(projects):
        owner = profile.criterion(OWNER_CODE)
        for project in projects[projects["village_code"].isin(villages.index)].to_dict("records"):
            gaps = [f for f in PROJECT_OWNER_FIELDS if not clean_text(project.get(f))]
            if not gaps:
                continue
            rows.append({
                "item_id": project_item(owner.code, project["village_code"], clean_text(project.get("project_id"))),
                "department": _routed_department(project, profile, known), **village_fields(project["village_code"]),
                "kind": KIND_PROJECT, "code": owner.code, "veto": owner.veto, "failing_count": 1,
                "project_id": clean_text(project.get("project_id")),
                "project_name": clean_text(project.get("project_name")),
                "project_criterion": clean_text(project.get("criterion_code")),
                "owner_gaps": ";".join(gaps),
                "lead": clean_text(project.get("lead")),
                "responsible_person": clean_text(project.get("responsible_person")),
                "no_project_first": False,
                "status": FAIL, "unknown_reason": "",
            })

    items = pd.DataFrame(rows, columns=_BUILT_COLUMNS)
    if not len(items):
        return pd.DataFrame(columns=ITEM_COLUMNS)
    items["owner_missing"] = (items["lead"] == "") | (items["responsible_person"] == "")
    village_blocks = items["village_code"].map(blockers)
    items["blockers"] = village_blocks.map(len).astype(int)
    items["decisive"] = [
        grade == GRADE_FAIL and blocks == frozenset({code})
        for grade, blocks, code in zip(items["grade"], village_blocks, items["code"])
    ]
    items["impact"] = [
        IMPACT_DECISIVE if decisive else IMPACT_ONE_OF_SEVERAL if code in blocks else IMPACT_OTHER
        for decisive, blocks, code in zip(items["decisive"], village_blocks, items["code"])
    ]
    return with_answers(items, answers, profile)


def with_answers(items: pd.DataFrame, answers: pd.DataFrame | None, profile: Profile) -> pd.DataFrame:
    """A problem list with the departments' answers in force attached, in reading order: after the key villages
    without any project, the items still without a 解决办法 or 工作责任人 from their department come first."""
    if not len(items):
        return pd.DataFrame(columns=ITEM_COLUMNS)
    items = attach_answers(items, answers)
    items["unanswered"] = unanswered(items)
    order = {code: n for n, code in enumerate(profile.codes)}
    items["_order"] = items["code"].map(order)
    items["_blockers"] = items["blockers"].where(items["impact"] == IMPACT_ONE_OF_SEVERAL, 0)
    items = items.sort_values(
        ["department", "no_project_first", "unanswered", "owner_missing", "impact", "_blockers", "is_key_village",
         "township_code", "village_code", "_order", "project_id"],
        ascending=[True, False, False, False, True, True, False, True, True, True, True], kind="stable",
    )
    return items[ITEM_COLUMNS].reset_index(drop=True)


def department_names(profile: Profile, items: pd.DataFrame) -> list[str]:
    """The catalogue's departments, then any other owner with items (镇政府), in catalogue order."""
    extra = [d for c in profile.criteria for d in c.departments if d not in profile.departments]
    present = set(items["department"]) if len(items) else set()
    return [*profile.departments, *(d for d in dict.fromkeys(extra) if d in present)]


def fixes_that_turn_villages(items: pd.DataFrame) -> pd.DataFrame:
    """Per criterion of one department's items: villages failing, key villages, villages this fix alone turns
    to 合格, households or projects concerned — the fixes that turn most villages first."""
    columns = ["code", "villages", "key_villages", "decisive", "failing_count"]
    if not len(items):
        return pd.DataFrame(columns=columns)
    villages = items.drop_duplicates(["code", "village_code"])
    table = villages.groupby("code", sort=False).agg(
        villages=("village_code", "size"),
        key_villages=("is_key_village", "sum"),
        decisive=("decisive", "sum"),
    )
    table["failing_count"] = items.groupby("code", sort=False)["failing_count"].sum(min_count=1)
    table = table.reset_index()
    table["failing_count"] = table["failing_count"].map(lambda v: None if v is None or math.isnan(v) else int(v))
    return table.sort_values(["decisive", "villages", "code"], ascending=[False, False, True], kind="stable")[columns]


def villages_turned_by(items: pd.DataFrame, blockers: pd.Series) -> list[str]:
    """Villages that are 未达标 only for criteria this department owns: fixing its own items turns them to 合格."""
    owned = items.groupby("village_code")["code"].agg(set) if len(items) else pd.Series(dtype="object")
    return sorted(code for code, codes in owned.items()
                  if blockers.get(code) and blockers[code] <= codes)


def overdue_first(items: pd.DataFrame, overdue: set[tuple[str, str]]) -> pd.DataFrame:
    """The items with an `overdue` column — (item_id, department) in the rectification ledger's overdue set
    (deadline passed, not fixed: tasks/ledger.py) — overdue ones first in each department, the list's order
    otherwise."""
    out = items.copy()
    out["overdue"] = [(i, d) in overdue for i, d in zip(out["item_id"], out["department"])]
    return out.sort_values(["department", "overdue"], ascending=[True, False], kind="stable").reset_index(drop=True)
