"""View models: the plain dicts the dossier and summary templates print, built from the readiness frames.

Every label, threshold, veto flag, department and source comes from the profile (the criteria catalogue);
rates in the readiness frames are fractions (0–1), like the catalogue's thresholds.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from evalprep.idcard import mask, mask_phone
from expectations.catalogue import Criterion, Profile
from tasks.assess import FAIL, GRADE_EXCELLENT, GRADE_FAIL, GRADE_PASS, PASS

GRADES = (GRADE_FAIL, GRADE_PASS, GRADE_EXCELLENT)
PASSING_GRADES = frozenset({GRADE_PASS, GRADE_EXCELLENT})
GRADE_SYMBOL = {GRADE_FAIL: "✘", GRADE_PASS: "✔", GRADE_EXCELLENT: "★"}
GRADE_CLASS = {GRADE_FAIL: "fail", GRADE_PASS: "pass", GRADE_EXCELLENT: "excellent"}
STATUS_TEXT = {PASS: "✔ 达标", FAIL: "✘ 未达标"}
NO_DATA_TEXT = "✘ 无数据"
VETO_MARK = "◆ 否决"
NOT_NAMED = "未明确"
COUNT_UNIT = {"household": "户", "project": "个项目"}
MAX_GAP_ROWS = 40
MAX_WORST_VILLAGES = 20


# ---------------------------------------------------------------------------------------------- formatting

def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _text(value: Any, default: str = "") -> str:
    return default if _missing(value) or str(value).strip() == "" else str(value).strip()


def _int(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _flag(value: Any) -> bool:
    return False if _missing(value) else bool(value)


def _as_date(value: Any) -> dt.date:
    return value if type(value) is dt.date else pd.Timestamp(value).date()


def format_date(value: Any) -> str:
    """2016-09-25 → 2016年9月25日."""
    day = _as_date(value)
    return f"{day.year}年{day.month}月{day.day}日"


def format_pct(rate: Any, digits: int = 1) -> str:
    """A fraction as a percentage with fixed digits: 0.72 → 72.0%; missing → —."""
    return "—" if _missing(rate) else f"{float(rate) * 100:.{digits}f}%"


def format_threshold(rate: float) -> str:
    """A catalogue threshold as the shortest percentage: 0.025 → 2.5%."""
    return f"{float(Fraction(str(rate)) * 100):g}%"


def _codes(value: Any) -> list[str]:
    """failing_criteria as a list of codes, whether stored as a list, an array or a ';'-joined string."""
    if isinstance(value, str):
        return [code for code in (part.strip() for part in value.split(";")) if code]
    if isinstance(value, Iterable):
        return [str(code) for code in value]
    return []


def _labels(profile: Profile, codes: Iterable[str]) -> list[str]:
    known = {c.code: c.label for c in profile.criteria}
    return [known.get(code, code) for code in codes]


def _source_numbers(profile: Profile) -> dict[str, int]:
    """Footnote number of every source text the profile or its criteria cite."""
    texts = list(profile.sources)
    texts += [c.source_text for c in profile.criteria if c.source_text not in texts]
    return {text: number for number, text in enumerate(dict.fromkeys(texts), start=1)}


def _document(profile: Profile, run: Mapping[str, Any], kind: str, place: list[str]) -> dict[str, str]:
    """Page furniture: running header and footer strings, PDF title and author."""
    return {
        "title": f"{run['county']}{''.join(place)}{kind}（{run['week']}）",
        "kind": kind,
        "author": run["county"],
        "header": " · ".join([run["county"], *place, run["week"]]),
        "footer": f"数据截止 {format_date(run['as_of'])} · {profile.label} · 运行编号 {run['run_id']}",
    }


# ------------------------------------------------------------------------------------------ gap arithmetic

def additional_satisfied_needed(satisfied: int, answers: int, threshold: float) -> int:
    """Fewest extra satisfied answers that lift satisfied/answers to at least the threshold."""
    target = Fraction(str(threshold))
    if answers and Fraction(satisfied, answers) >= target:
        return 0
    if target >= 1:
        raise ValueError("a 100% threshold cannot be reached by adding answers")
    needed = math.ceil((target * answers - satisfied) / (1 - target))
    return max(needed, 1)


def converted_satisfied_needed(satisfied: int, answers: int, threshold: float) -> int:
    """Fewest respondents who must change to satisfied (answers unchanged) to reach the threshold."""
    return max(0, math.ceil(Fraction(str(threshold)) * answers - satisfied))


def people_to_leave_poverty(remaining: int, population: int, maximum: float) -> int:
    """Fewest remaining poor people who must exit so that remaining/population is strictly below maximum."""
    allowed = math.ceil(Fraction(str(maximum)) * population) - 1
    return max(0, remaining - max(allowed, 0))


def _sample_risk(village: Mapping[str, Any], rate: float, sample: int, threshold: float) -> float:
    """The readiness table's figure (Beta posterior, tasks/sample_risk.py) where present, else the binomial
    with the observed rate as the true rate."""
    risk = village.get("satisfaction_sample_risk")
    return float(risk) if not _missing(risk) else sample_shortfall_probability(rate, sample, threshold)


def sample_shortfall_probability(rate: float, sample: int, threshold: float) -> float:
    """Chance that a random sample of `sample` households shows a rate below the threshold (binomial)."""
    target = Fraction(str(threshold))
    return sum(
        math.comb(sample, k) * rate**k * (1 - rate) ** (sample - k)
        for k in range(sample + 1)
        if Fraction(k, sample) < target
    )


# ---------------------------------------------------------------------------------------------- scorecard

_THRESHOLD: dict[str, Callable[[dict[str, Any]], str]] = {
    "H-INCOME": lambda p: f"≥ {p['poverty_line']:g} 元",
    "V-INCIDENCE": lambda p: f"< {format_threshold(p['max'])}",
    "V-SATISFACTION": lambda p: f"≥ {format_threshold(p['fail_below'])}",
}
_RATE_VALUED = frozenset({"V-INCIDENCE", "V-SATISFACTION"})
_PERCENT_VALUED = frozenset({"V-WATER"})  # safe_water_coverage stays 0–100 (data-model.md §1)


def _measured(criterion: Criterion, row: Mapping[str, Any] | None) -> str:
    if row is None:
        return "—"
    if criterion.code in _RATE_VALUED and not _missing(row.get("value")):
        return format_pct(row["value"])
    if criterion.code in _PERCENT_VALUED and not _missing(row.get("value")):
        return format_pct(float(row["value"]) / 100, digits=0)
    count = _int(row.get("failing_count"))
    if criterion.level in COUNT_UNIT and count is not None:
        return f"{count} {COUNT_UNIT[criterion.level]}不达标" if count else "全部达标"
    return "—"


def _owner(criterion: Criterion, row: Mapping[str, Any] | None, failing: bool) -> dict[str, str]:
    """Department, lead and responsible person: the village's own where named, else the catalogue's."""
    row = row or {}
    gap = NOT_NAMED if failing else "—"
    return {
        "department": _text(row.get("department")) or "、".join(criterion.departments),
        "lead": _text(row.get("lead"), gap),
        "responsible": _text(row.get("responsible_person"), gap),
    }


def _scorecard(profile: Profile, by_code: dict[str, dict[str, Any]]) -> dict[str, Any]:
    sources = _source_numbers(profile)
    rows = []
    for number, criterion in enumerate(profile.criteria, start=1):
        row = by_code.get(criterion.code)
        status = row["status"] if row is not None and row.get("status") in STATUS_TEXT else None
        rows.append({
            "number": number,
            "code": criterion.code,
            "label": criterion.label,
            "rule": criterion.rule,
            "source_number": sources[criterion.source_text],
            "veto": criterion.veto,
            "veto_mark": VETO_MARK if criterion.veto else "",
            "status": status or "missing",
            "status_text": STATUS_TEXT.get(status, NO_DATA_TEXT),
            "measured": _measured(criterion, row),
            "threshold": _THRESHOLD[criterion.code](criterion.params) if criterion.code in _THRESHOLD else "",
            **_owner(criterion, row, failing=status != PASS),
        })
    return {
        "rows": rows,
        "failing": sum(r["status"] != PASS for r in rows),
        "veto_failing": sum(r["status"] != PASS and r["veto"] for r in rows),
        "legend": _legend(profile, sources),
    }


def _legend(profile: Profile, sources: dict[str, int]) -> dict[str, Any]:
    """What the marks mean, the profile's name and the numbered sources the criteria cite."""
    return {
        "profile": profile.label,
        "veto_mark": VETO_MARK,
        "status_words": list(STATUS_TEXT.values()),
        "sources": [{"number": n, "text": text} for text, n in sources.items()],
    }


# ---------------------------------------------------------------------------------------- third-party view

def _satisfaction(profile: Profile, village: Mapping[str, Any]) -> dict[str, Any] | None:
    if "V-SATISFACTION" not in profile.codes:
        return None
    criterion = profile.criterion("V-SATISFACTION")
    fail_below, excellent_from = criterion.params["fail_below"], criterion.params["excellent_from"]
    answers = _int(village.get("satisfaction_answers")) or 0
    satisfied = _int(village.get("satisfaction_yes")) or 0
    rate = village.get("satisfaction_rate")
    has_rate = answers > 0 and not _missing(rate)
    sample = int(profile.sampling["households_per_village"])
    view = {
        "label": criterion.label,
        "rate": format_pct(rate) if has_rate else "无调查",
        "interval": (f"{format_pct(village.get('satisfaction_ci_low'))}–{format_pct(village.get('satisfaction_ci_high'))}"
                     if has_rate and not _missing(village.get("satisfaction_ci_low")) else "—"),
        "confidence": format_threshold(profile.sampling["confidence"]),
        "answers": answers,
        "satisfied": satisfied,
        "threshold": format_threshold(fail_below),
        "excellent": format_threshold(excellent_from),
        "status_text": STATUS_TEXT[PASS if has_rate and rate >= fail_below else FAIL],
        "sample": sample,
        "sample_risk": format_pct(_sample_risk(village, float(rate), sample, fail_below), 0) if has_rate else "—",
        "chart": None,
    }
    if has_rate:
        low, high = (village.get(f"satisfaction_ci_{end}") for end in ("low", "high"))
        view["chart"] = {
            name: round(float(rate if _missing(value) else value) * 100, 1)
            for name, value in (("rate", rate), ("low", low), ("high", high),
                                ("fail_below", fail_below), ("excellent_from", excellent_from))
        }
    return view


def _satisfaction_actions(profile: Profile, village: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "V-SATISFACTION" not in profile.codes:
        return []
    criterion = profile.criterion("V-SATISFACTION")
    fail_below, excellent_from = criterion.params["fail_below"], criterion.params["excellent_from"]
    answers = _int(village.get("satisfaction_answers")) or 0
    satisfied = _int(village.get("satisfaction_yes")) or 0
    if answers == 0:
        return [{"veto": criterion.veto, "text": f"尚无{criterion.label}调查：须组织入户调查，无调查按未达标计"}]
    more = additional_satisfied_needed(satisfied, answers, fail_below)
    if more:
        converted = converted_satisfied_needed(satisfied, answers, fail_below)
        return [{"veto": criterion.veto,
                 "text": f"需再有 {more} 户表示满意，{criterion.label}才能达到 {format_threshold(fail_below)}"
                         f"（若由已受访的不满意户转为满意，需 {converted} 户）"}]
    more = additional_satisfied_needed(satisfied, answers, excellent_from)
    if more:
        return [{"veto": False,
                 "text": f"评优还需再有 {more} 户表示满意，{criterion.label}才能达到 {format_threshold(excellent_from)}"}]
    return []


def _incidence(profile: Profile, village: Mapping[str, Any]) -> dict[str, Any] | None:
    if "V-INCIDENCE" not in profile.codes:
        return None
    criterion = profile.criterion("V-INCIDENCE")
    rate = village.get("poverty_incidence")
    return {
        "label": criterion.label,
        "rate": format_pct(rate),
        "threshold": f"< {format_threshold(criterion.params['max'])}",
        "remaining": _int(village.get("remaining_poor_people")),
        "population": _int(village.get("rural_population")),
        "status_text": STATUS_TEXT[PASS if not _missing(rate) and rate < criterion.params["max"] else FAIL],
    }


def _incidence_actions(profile: Profile, village: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "V-INCIDENCE" not in profile.codes:
        return []
    criterion = profile.criterion("V-INCIDENCE")
    remaining, population = _int(village.get("remaining_poor_people")), _int(village.get("rural_population"))
    if remaining is None or not population:
        return [{"veto": criterion.veto, "text": f"{criterion.label}无法计算：缺剩余贫困人口或农村人口数"}]
    leave = people_to_leave_poverty(remaining, population, criterion.params["max"])
    if not leave:
        return []
    return [{"veto": criterion.veto,
             "text": f"需再有 {leave} 名贫困人口脱贫，{criterion.label}才能低于 {format_threshold(criterion.params['max'])}"}]


def _wrong_exit(profile: Profile, village: Mapping[str, Any]) -> dict[str, Any]:
    metric = profile.metrics["wrong_exit_rate"]
    rate = village.get("wrong_exit_rate")
    exit_people = _int(village.get("exit_people")) or 0
    return {
        "label": metric["label"],
        "rate": format_pct(rate),
        "threshold": f"< {format_threshold(metric['max'])}",
        "exit_people": exit_people,
        "failing_people": 0 if _missing(rate) else round(float(rate) * exit_people),
        "criteria": "、".join(_labels(profile, [c for c in metric["criteria"] if c in profile.codes])),
        "status_text": STATUS_TEXT[PASS if not _missing(rate) and rate < metric["max"] else FAIL],
    }


def _criterion_actions(profile: Profile, by_code: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per failing criterion other than the two rates, in words a village cadre acts on."""
    actions = []
    for criterion in profile.criteria:
        if criterion.code in _RATE_VALUED:
            continue
        row = by_code.get(criterion.code)
        if row is not None and row.get("status") == PASS:
            continue
        count = _int(row.get("failing_count")) if row is not None else None
        owner = _owner(criterion, row, failing=True)["department"]
        if criterion.level == "household" and count:
            text = f"{count} 户{criterion.label}未解决（{owner}）"
        elif criterion.level in COUNT_UNIT and count:
            text = f"{criterion.label}：{count} {COUNT_UNIT[criterion.level]}未落实（{owner}）"
        else:
            text = f"{criterion.label}未达标：{criterion.rule}（{owner}）"
        actions.append({"veto": criterion.veto, "text": text})
    return actions


def _third_party(profile: Profile, village: Mapping[str, Any], by_code: dict[str, dict[str, Any]]) -> dict[str, Any]:
    actions = [
        *_satisfaction_actions(profile, village),
        *_incidence_actions(profile, village),
        *_criterion_actions(profile, by_code),
    ]
    actions.sort(key=lambda a: not a["veto"])
    for action in actions:
        action["veto_mark"] = VETO_MARK if action["veto"] else ""
    return {
        "satisfaction": _satisfaction(profile, village),
        "incidence": _incidence(profile, village),
        "wrong_exit": _wrong_exit(profile, village),
        "actions": actions,
    }


# -------------------------------------------------------------------------------------------- households

def _household_gaps(profile: Profile, households: pd.DataFrame, limit: int = MAX_GAP_ROWS) -> dict[str, Any]:
    frame = households.assign(
        _codes=households["failing_criteria"].map(_codes),
        _cohort=households["in_exit_cohort"].map(_flag).astype(bool),
    )
    failing = frame.loc[frame["_codes"].map(bool).astype(bool)]
    failing = failing.sort_values(["_cohort", "household_id"], ascending=[False, True], kind="stable")
    shown = failing.head(limit).to_dict("records")
    rows = [
        {
            "household_id": _text(h["household_id"]),
            "head_name": _text(h["head_name"]),
            "head_id": mask(h["head_id_number"]),
            "exit_status": _text(h["exit_status"]),
            "in_cohort": h["_cohort"],
            "first_remaining": index > 0 and not h["_cohort"] and shown[index - 1]["_cohort"],
            "failing": "、".join(_labels(profile, h["_codes"])),
            "helper": _text(h["helper_name"], NOT_NAMED),
            "helper_phone": mask_phone(h["helper_phone"]),
        }
        for index, h in enumerate(shown)
    ]
    return {
        "rows": rows,
        "total": len(failing),
        "cohort_total": int(failing["_cohort"].sum()),
        "households": len(households),
        "more": len(failing) - len(rows),
    }


# ---------------------------------------------------------------------------------------------- village

def _rows_by_code(criteria: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in criteria.to_dict("records")}


def village_dossier_context(
    profile: Profile,
    village: Mapping[str, Any],
    criteria: pd.DataFrame,
    households: pd.DataFrame,
    run: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything the village dossier prints: cover, scorecard, third-party view, household gaps."""
    by_code = _rows_by_code(criteria)
    scorecard = _scorecard(profile, by_code)
    gaps = _household_gaps(profile, households)
    grade = _text(village.get("grade"), GRADE_FAIL)
    as_of = _as_date(run["as_of"])
    failing_rows = [r for r in scorecard["rows"] if r["status"] != PASS]
    cover = {
        "village": _text(village.get("village_name")),
        "village_code": _text(village.get("village_code")),
        "township": _text(village.get("township_name")),
        "key_village": "重点村" if _flag(village.get("is_key_village")) else "非重点村",
        "grade": grade,
        "grade_symbol": GRADE_SYMBOL.get(grade, ""),
        "grade_class": GRADE_CLASS.get(grade, GRADE_CLASS[GRADE_FAIL]),
        "days_left": (profile.evaluation_date - as_of).days,
        "evaluation_date": format_date(profile.evaluation_date),
        "first_secretary": _text(village.get("first_secretary"), NOT_NAMED),
        "team_leader": _text(village.get("team_leader"), NOT_NAMED),
        "as_of": format_date(as_of),
        "generated_on": format_date(run["generated_on"]),
        "week": run["week"],
        "run_id": run["run_id"],
        "profile": profile.label,
        "veto_failing": "、".join(r["label"] for r in failing_rows if r["veto"]) or "无",
        "other_failing": "、".join(r["label"] for r in failing_rows if not r["veto"]) or "无",
        "households": gaps["households"],
        "households_failing": gaps["total"],
        "cohort_failing": gaps["cohort_total"],
    }
    return {
        "document": _document(profile, run, "村级迎评档案", [cover["township"], cover["village"]]),
        "cover": cover,
        "scorecard": scorecard,
        "third_party": _third_party(profile, village, by_code),
        "household_gaps": gaps,
    }


# ----------------------------------------------------------------------------------------------- county

def _progress(done: int, target: int) -> dict[str, Any]:
    share = done / target if target else 0.0
    return {"done": done, "target": target, "share": format_pct(share), "bar": round(min(share, 1.0) * 100, 1)}


def _grade_counts(grades: pd.Series) -> list[int]:
    counts = grades.value_counts()
    return [int(counts.get(grade, 0)) for grade in GRADES]


STATUS_WORDS = {"accepted": "已接收", "accepted_with_issues": "已接收（有问题）", "rejected": "被退回", "missing": "未报送"}


def submission_overview(submissions: pd.DataFrame | None) -> dict[str, Any]:
    """Completeness and timeliness of the week's submissions: counts and the townships to chase."""
    if submissions is None or not len(submissions):
        return {"expected": 0, "received": 0, "accepted": 0, "on_time": 0, "problems": []}
    by_town = submissions.groupby("township_code", sort=True)
    expected = by_town.ngroups
    received = int(by_town["status"].agg(lambda s: (s != "missing").any()).sum())
    used = submissions[submissions["used"].map(_flag).astype(bool)]
    problems = []
    for code, group in by_town:
        latest = group.iloc[-1]
        winner = group[group["used"].map(_flag).astype(bool)]
        late = len(winner) and not _flag(winner.iloc[-1]["on_time"])
        if latest["status"] in ("missing", "rejected") or late or latest["status"] == "accepted_with_issues":
            status = STATUS_WORDS.get(_text(latest["status"]), _text(latest["status"]))
            problems.append({
                "township": _text(latest["township_name"]) or code,
                "status": status + ("，逾期" if late else ""),
                "reason": _text(latest["reason"]) or "—",
                "file": _text(latest["file"]) or "—",
            })
    return {"expected": expected, "received": received, "accepted": len(used),
            "on_time": int(used["on_time"].map(_flag).sum()), "problems": problems}


def county_summary_context(
    profile: Profile,
    villages: pd.DataFrame,
    households: pd.DataFrame,
    village_criteria: pd.DataFrame,
    run: Mapping[str, Any],
    submissions: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Everything the county summary prints: grades, progress against the targets, townships, worst gaps."""
    as_of = _as_date(run["as_of"])
    total = len(villages)
    key = villages.loc[villages["is_key_village"].map(_flag).astype(bool)]
    cohort = households.loc[households["in_exit_cohort"].map(_flag).astype(bool)]
    planned = None
    if "planned_exit_year" in households:
        planned = int((households["planned_exit_year"] == profile.year).sum())

    grade_counts = _grade_counts(villages["grade"])
    grades = [
        {"grade": g, "symbol": GRADE_SYMBOL[g], "css": GRADE_CLASS[g], "count": n,
         "share": format_pct(n / total if total else 0.0)}
        for g, n in zip(GRADES, grade_counts)
    ]

    townships = []
    for (code, name), group in villages.groupby(["township_code", "township_name"], sort=True):
        townships.append({
            "code": code,
            "name": name,
            "villages": len(group),
            "grade_counts": _grade_counts(group["grade"]),
            "key_villages": int(group["is_key_village"].map(_flag).astype(bool).sum()),
            "key_ready": int((group["is_key_village"].map(_flag).astype(bool)
                              & group["grade"].isin(PASSING_GRADES)).sum()),
            "households_failing": int(group["households_failing"].fillna(0).sum()),
        })
    township_total = {
        "villages": total,
        "grade_counts": grade_counts,
        "key_villages": len(key),
        "key_ready": int(key["grade"].isin(PASSING_GRADES).sum()),
        "households_failing": int(villages["households_failing"].fillna(0).sum()),
    }

    veto_codes = {c.code for c in profile.criteria if c.veto}
    ranked = villages.assign(
        _codes=villages["failing_criteria"].map(_codes),
        _key=villages["is_key_village"].map(_flag),
    )
    ranked = ranked.assign(
        _veto=ranked["_codes"].map(lambda codes: [c for c in codes if c in veto_codes]),
        _other=ranked["_codes"].map(lambda codes: [c for c in codes if c not in veto_codes]),
    )
    ranked = ranked.loc[ranked["_codes"].map(bool).astype(bool) | (ranked["grade"] == GRADE_FAIL)]
    ranked = ranked.assign(_nveto=ranked["_veto"].map(len), _nall=ranked["_codes"].map(len))
    ranked = ranked.sort_values(
        ["_nveto", "_nall", "satisfaction_rate", "village_code"],
        ascending=[False, False, True, True], na_position="first", kind="stable",
    )
    worst = [
        {
            "township": _text(v["township_name"]),
            "village": _text(v["village_name"]),
            "key_village": "是" if v["_key"] else "否",
            "grade": _text(v["grade"]),
            "grade_symbol": GRADE_SYMBOL.get(_text(v["grade"]), ""),
            "veto_failing": "、".join(_labels(profile, v["_veto"])) or "—",
            "other_failing": len(v["_other"]),
            "satisfaction": format_pct(v["satisfaction_rate"]),
            "households_failing": _int(v["households_failing"]) or 0,
        }
        for v in ranked.head(MAX_WORST_VILLAGES).to_dict("records")
    ]

    failing = village_criteria[village_criteria["status"] != PASS]
    key_codes = set(key["village_code"])
    per_criterion = []
    for criterion in profile.criteria:
        rows = failing[failing["code"] == criterion.code]
        per_criterion.append({
            "code": criterion.code,
            "label": criterion.label,
            "veto_mark": VETO_MARK if criterion.veto else "",
            "villages_failing": len(rows),
            "key_villages_failing": int(rows["village_code"].isin(key_codes).sum()),
            "failing_count": (f"{int(rows['failing_count'].fillna(0).sum())} {COUNT_UNIT[criterion.level]}"
                              if criterion.level in COUNT_UNIT else "—"),
            "department": "、".join(criterion.departments),
        })

    return {
        "document": _document(profile, run, "脱贫退出迎评汇总", ["全县汇总"]),
        "overview": {
            "county": run["county"],
            "week": run["week"],
            "as_of": format_date(as_of),
            "generated_on": format_date(run["generated_on"]),
            "run_id": run["run_id"],
            "profile": profile.label,
            "evaluation_date": format_date(profile.evaluation_date),
            "days_left": (profile.evaluation_date - as_of).days,
            "villages": total,
            "townships": len(townships),
        },
        "grades": grades,
        "progress": {
            "key_villages": {**_progress(township_total["key_ready"], run["targets"]["key_villages"]),
                             "in_register": len(key)},
            "exit_households": {**_progress(int(cohort["meets_all"].map(_flag).sum()),
                                            run["targets"]["exit_households"]),
                                "cohort": len(cohort),
                                "planned": None if planned is None else _progress(planned, run["targets"]["exit_households"]),
                                "year": profile.year},
        },
        "townships": townships,
        "township_total": township_total,
        "worst_villages": worst,
        "failing_villages": len(ranked),
        "criteria": per_criterion,
        "legend": _legend(profile, _source_numbers(profile)),
        "submissions": submission_overview(submissions),
    }
