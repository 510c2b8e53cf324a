"""The evaluators' view of issue 11 in words: the water pipeline backlog against the county's figure, power
projects that have not started (or do not exist), and villages whose satisfaction triggers accountability.

Pass or fail always comes from the readiness tables (the GX criteria suites decided it); these builders only
word it. Labels, the county's backlog figure and its source come from the catalogue.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from evalprep.redaction import redact_text
from expectations.catalogue import Profile, raw_catalogue
from tasks.render.formatting import (
    NOT_NAMED, as_flag, clean_text, codes_of, format_pct, format_threshold, is_missing,
)

WATER, POWER, SATISFACTION = "V-WATER", "V-POWER", "V-SATISFACTION"
MAX_WATER_ROWS = 40


def _km(value: Any) -> str:
    """Kilometres to a tenth, without a trailing .0: 2.5 公里, 300 公里."""
    text = f"{float(value):,.1f}"
    return f"{text[:-2] if text.endswith('.0') else text} 公里"


def _failing(village: Mapping[str, Any], code: str) -> bool:
    return code in codes_of(village.get("failing_criteria"))


# ------------------------------------------------------------------------------------------------ water

def water_village(profile: Profile, village: Mapping[str, Any]) -> dict[str, Any] | None:
    """One village's water facts: coverage, its share of the pipeline backlog (allocated or not) and whether a
    water project is scheduled; None when the profile has no V-WATER."""
    if WATER not in profile.codes:
        return None
    km = village.get("pipeline_backlog_km")
    allocated = as_flag(village.get("water_backlog_allocated")) if "water_backlog_allocated" in village \
        else not is_missing(km)
    coverage = village.get("safe_water_coverage")
    return {
        "label": profile.criterion(WATER).label,
        "coverage": "—" if is_missing(coverage) else format_pct(float(coverage) / 100, digits=0),
        "allocated": bool(allocated),
        # passing without an allocated figure means coverage is complete (the rule allows nothing else)
        "backlog": (f"待建供水管网 {_km(km)}（已分解到村）" if allocated
                    else "待建供水管网未填（未分解到村）" if _failing(village, WATER) else "无待建供水管网"),
        "scheduled": as_flag(village.get("water_project_scheduled")),
        "project": ("有已批复、有计划完工日期的供水项目" if as_flag(village.get("water_project_scheduled"))
                    else "无已批复、有计划完工日期的供水项目"),
        "failing": _failing(village, WATER),
    }


def water_backlog(profile: Profile, villages: pd.DataFrame) -> dict[str, Any] | None:
    """The county's pipeline backlog as the villages report it, against the figure the speech gives
    (V-WATER.pipeline_backlog), and every village with a backlog or failing V-WATER: allocated or not."""
    if WATER not in profile.codes or not profile.criterion(WATER).params.get("pipeline_backlog"):
        return None
    backlog = profile.criterion(WATER).params["pipeline_backlog"]
    county_km = float(backlog["county_km"])
    km = pd.to_numeric(villages["pipeline_backlog_km"], errors="coerce") if "pipeline_backlog_km" in villages \
        else pd.Series(float("nan"), index=villages.index)
    allocated_km = float(km[km >= 0].sum())
    rows = []
    for village in villages.assign(_km=km).sort_values("village_code").to_dict("records"):
        value = village["_km"]
        facts = water_village(profile, village)
        has_km = not is_missing(value) and value > 0
        if not (has_km or facts["failing"]):
            continue
        rows.append({
            "township": clean_text(village.get("township_name")), "village": clean_text(village.get("village_name")),
            "village_code": clean_text(village.get("village_code")),
            "key_village": "重点村" if as_flag(village.get("is_key_village")) else "",
            "coverage": facts["coverage"], "km": _km(value) if facts["allocated"] else "✘ 未分解",
            "allocated": facts["allocated"], "project": "✔ 已安排" if facts["scheduled"] else "✘ 未安排",
            "status": "✘ 未达标" if facts["failing"] else "✔ 达标",
            "failing": facts["failing"],
        })
    rows.sort(key=lambda r: (not r["failing"], r["allocated"], r["village_code"]))
    gap = county_km - allocated_km
    return {
        "label": profile.criterion(WATER).label,
        "county_km": _km(county_km),
        "source": raw_catalogue()["sources"][backlog["source"]],
        "allocated_km": _km(allocated_km),
        "gap": f"尚有 {_km(gap)}未分解到村" if gap > 0 else "已全部分解到村",
        "villages_with_backlog": sum(1 for v in km if not is_missing(v) and v > 0),
        "failing": sum(r["failing"] for r in rows),
        "not_allocated": sum(r["failing"] and not r["allocated"] for r in rows),
        "rows": rows[:MAX_WATER_ROWS],
        "more": max(0, len(rows) - MAX_WATER_ROWS),
        "complete": rows,
    }


# ------------------------------------------------------------------------------------------------ power

def power_village(profile: Profile, village: Mapping[str, Any]) -> dict[str, str] | None:
    """The village's power project in words: started, not started, or none at all."""
    if POWER not in profile.codes:
        return None
    started = profile.criterion(POWER).params.get("started_build_statuses", ())
    if as_flag(village.get("power_project_started")):
        text = f"电力项目已启动（{'、'.join(started)}之一）"
    elif as_flag(village.get("power_project_exists")):
        text = "电力项目尚未启动（项目不启动，考核是不可能通过的）"
    else:
        text = "无任何电力项目"
    return {"label": profile.criterion(POWER).label, "text": text}


def power_without_project(profile: Profile, villages: pd.DataFrame) -> list[dict[str, Any]]:
    """Key villages failing V-POWER with no power project at all, named first (the speech: "2016年脱贫的45个
    重点村有的至今还没有项目")."""
    if POWER not in profile.codes or "power_project_exists" not in villages:
        return []
    rows = []
    for village in villages.sort_values(["township_code", "village_code"]).to_dict("records"):
        if as_flag(village.get("is_key_village")) and _failing(village, POWER) \
                and not as_flag(village.get("power_project_exists")):
            rows.append({"township": clean_text(village.get("township_name")),
                         "village": clean_text(village.get("village_name")),
                         "village_code": clean_text(village.get("village_code"))})
    return rows


# --------------------------------------------------------------------------------------- accountability

def accountability(profile: Profile, village: Mapping[str, Any]) -> dict[str, Any] | None:
    """启动问责 for a village whose satisfaction fails the pass band (readiness column `accountability`), with
    who answers for it: the township, the 第一书记 and the 驻村工作队长 (names only, any number masked)."""
    if SATISFACTION not in profile.codes or not as_flag(village.get("accountability")):
        return None
    criterion = profile.criterion(SATISFACTION)
    return {
        "label": criterion.params.get("accountability", ""),
        "criterion": criterion.label,
        "rate": format_pct(village.get("satisfaction_rate")),
        "threshold": format_threshold(criterion.params["fail_below"]),
        "township": redact_text(clean_text(village.get("township_name"), NOT_NAMED)),
        "village": redact_text(clean_text(village.get("village_name"))),
        "first_secretary": redact_text(clean_text(village.get("first_secretary"), NOT_NAMED)),
        "team_leader": redact_text(clean_text(village.get("team_leader"), NOT_NAMED)),
        "key_village": "重点村" if as_flag(village.get("is_key_village")) else "",
    }


def accountable_villages(profile: Profile, villages: pd.DataFrame) -> dict[str, Any] | None:
    """Every village flagged for accountability, township and village order, with the label and the line."""
    if SATISFACTION not in profile.codes:
        return None
    criterion = profile.criterion(SATISFACTION)
    flagged = villages[villages["accountability"].map(as_flag).astype(bool)] if "accountability" in villages \
        else villages.iloc[0:0]
    ordered = flagged.sort_values(["township_code", "village_code"]).to_dict("records")
    return {"label": criterion.params.get("accountability", ""), "criterion": criterion.label,
            "threshold": format_threshold(criterion.params["fail_below"]),
            "rows": [a for a in (accountability(profile, v) for v in ordered) if a is not None]}
