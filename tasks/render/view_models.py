"""View models: the plain dicts the dossier and summary templates print, built from the readiness frames.

Every label, threshold, veto flag, department and source comes from the profile (the criteria catalogue);
rates in the readiness frames are fractions (0–1), like the catalogue's thresholds.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from evalprep.idcard import mask, mask_phone
from evalprep.redaction import redact_text
from expectations.catalogue import BAND_EXCELLENT, BAND_FAIL, Criterion, Profile
from tasks.assess import FAIL, GRADE_FAIL, PASS, UNKNOWN
from tasks.evaluation_design import KIND_LABELS, STRATUM_LABELS, load_design
from tasks.sample_risk import shortfall_probability
from tasks.render.formatting import (  # noqa: F401  (re-exported: the view models' vocabulary)
    COHORT, COUNT_UNIT, COUNT_WHO, GRADE_CLASS, GRADE_SYMBOL, GRADES, NO_DATA_TEXT, NOT_NAMED, PASSING_GRADES,
    REGISTERED, STATUS_TEXT, UNKNOWN_WORD, VETO_MARK, as_date, as_flag, as_int, clean_text, codes_of, format_against,
    format_date, format_pct, format_threshold, is_missing, labels_of,
)
from tasks.render.evaluators_view import (
    POWER, WATER, accountability, accountable_villages, power_village, power_without_project, water_backlog,
    water_village,
)
from tasks.render.paths import attachment_name, dossier_path
from tasks.render.village_sections import department_answers_section
from tasks.render.village_sections import (
    SUBMISSION_WORDS, data_quality_section, housing_section, projects_section, trend_section,
)

MAX_GAP_ROWS = 30
MAX_WORST_VILLAGES = 20


# ------------------------------------------------------------------------------------------ page furniture

def source_numbers(profile: Profile) -> dict[str, int]:
    """Footnote number of every source text the profile or its criteria cite."""
    texts = list(profile.sources)
    texts += [c.source_text for c in profile.criteria if c.source_text not in texts]
    return {text: number for number, text in enumerate(dict.fromkeys(texts), start=1)}


def document_id(run: Mapping[str, Any]) -> str:
    """The id a document prints: its content hash (same data, same id, whatever else the run changed); the
    run id when rendered outside a run."""
    return run.get("document_id") or run["run_id"]


def document_furniture(profile: Profile, run: Mapping[str, Any], kind: str, place: list[str]) -> dict[str, str]:
    """Page furniture: running header and footer strings, PDF title and author."""
    return {
        "title": f"{run['county']}{''.join(place)}{kind}（{run['week']}）",
        "kind": kind,
        "author": run["county"],
        "header": " · ".join([run["county"], *place, run["week"]]),
        "footer": f"数据截止 {format_date(run['as_of'])} · {profile.label} · 文档编号 {document_id(run)}",
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


def _sample_risk(village: Mapping[str, Any], rate: float, sample: int, criterion: Criterion) -> float:
    """The readiness table's figure (Beta posterior, tasks/sample_risk.py) where present, else the binomial
    with the observed rate as the true rate."""
    risk = village.get("satisfaction_sample_risk")
    return float(risk) if not is_missing(risk) else sample_shortfall_probability(rate, sample, criterion)


def sample_shortfall_probability(rate: float, sample: int, criterion: Criterion) -> float:
    """Chance that a random sample of `sample` households shows a rate in the criterion's fail band (binomial,
    the rate taken as the true share: tasks/sample_risk.shortfall_probability)."""
    return float(shortfall_probability(np.array([float(rate)]), np.ones(1), sample,
                                       lambda k: criterion.band_of(k / sample) == BAND_FAIL, method="binomial")[0])


# ---------------------------------------------------------------------------------------------- scorecard

FULL_COVERAGE = 1.0  # 全覆盖: a definition (expectations/vocabulary.py FULL_COVERAGE_PERCENT), not a threshold
# How a measured value passes: comparison, threshold from the criterion's params, what turns the value into
# a fraction like the threshold (V-WATER's coverage stays 0–100, data-model.md §1) and the usual digits.
_AGAINST: dict[str, tuple[str, Callable[[dict[str, Any]], float], float, int]] = {
    "V-INCIDENCE": ("<", lambda p: p["max"], 1, 1),
    "V-SATISFACTION": (">=", lambda p: p["fail_below"], 1, 1),
    "V-WATER": (">=", lambda p: FULL_COVERAGE, 100, 0),
}
_THRESHOLD: dict[str, Callable[[dict[str, Any]], str]] = {
    "H-INCOME": lambda p: f"≥ {p['poverty_line']:g} 元",
    "V-INCIDENCE": lambda p: f"< {format_threshold(p['max'])}",
    "V-SATISFACTION": lambda p: f"≥ {format_threshold(p['fail_below'])}",
    "V-WATER": lambda p: f"≥ {format_threshold(FULL_COVERAGE)}",
}
_RATE_VALUED = frozenset({"V-INCIDENCE", "V-SATISFACTION"})
INCOME_GROWTH = "V-INCOME-GROWTH"  # compared with the village's own figure of last year, not a catalogue number


def _measured(criterion: Criterion, row: Mapping[str, Any] | None, village: Mapping[str, Any] | None = None) -> str:
    if row is None:
        return "—"
    if row.get("status") == UNKNOWN:
        return "—"  # the status says 无法判定, the note under the table why
    passed = row.get("status") == PASS
    if criterion.code in _AGAINST and not is_missing(row.get("value")):
        op, threshold, per, digits = _AGAINST[criterion.code]
        value = float(row["value"]) / per
        return format_against(value, threshold(criterion.params), op, passed, digits=digits)
    previous = (village or {}).get("exit_income_ratio_prev")
    if criterion.code == INCOME_GROWTH and not is_missing(row.get("value")) and not is_missing(previous):
        return format_against(row["value"], float(previous), ">", passed)
    count = as_int(row.get("failing_count"))
    if criterion.level in COUNT_UNIT and count is not None:
        return failing_count_words(criterion.level, count)
    return "—"


def failing_count_words(level: str, count: int) -> str:
    """A criterion's failing count with its population: 脱贫户 3 户不达标 / 脱贫户全部达标 (household criteria
    count the exit cohort), 2 个项目不达标 / 项目全部达标."""
    if level == "household":
        return f"{COHORT} {count} 户不达标" if count else f"{COHORT}全部达标"
    return f"{count} {COUNT_UNIT[level]}不达标" if count else f"{COUNT_WHO[level]}全部达标"


def _threshold(criterion: Criterion, village: Mapping[str, Any] | None) -> str:
    if criterion.code in _THRESHOLD:
        return _THRESHOLD[criterion.code](criterion.params)
    previous = (village or {}).get("exit_income_ratio_prev")
    if criterion.code == INCOME_GROWTH and not is_missing(previous):
        return f"> 上年 {format_pct(previous)}"
    return ""


def _owner(criterion: Criterion, row: Mapping[str, Any] | None, failing: bool) -> dict[str, str]:
    """Department, lead and responsible person as the project named them (未明确 where it did not), and the
    department the catalogue routes the criterion to (归口), printed as such, never as a named owner."""
    row = row or {}
    gap = NOT_NAMED if failing else "—"
    return {
        "department": clean_text(row.get("department_named"), gap),
        "routed": "、".join(criterion.departments),
        "lead": clean_text(row.get("lead"), gap),
        "responsible": clean_text(row.get("responsible_person"), gap),
    }


def _scorecard(profile: Profile, by_code: dict[str, dict[str, Any]],
               village: Mapping[str, Any] | None = None) -> dict[str, Any]:
    sources = source_numbers(profile)
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
            "measured": _measured(criterion, row, village),
            "threshold": _threshold(criterion, village),
            **_owner(criterion, row, failing=status != PASS),
        })
    unknown = [row for row in by_code.values() if row.get("status") == UNKNOWN and row.get("code") in profile.codes]
    return {
        "rows": rows,
        "failing": sum(r["status"] != PASS for r in rows),
        "veto_failing": sum(r["status"] != PASS and r["veto"] for r in rows),
        "unknown_notes": [unknown_note(profile.criterion(row["code"]), row.get("unknown_reason")) for row in unknown],
        "legend": criteria_legend(profile, sources),
    }


def unknown_note(criterion: Criterion, reason: Any) -> str:
    """The one line that says why a criterion could not be judged and what that means for the grade."""
    consequence = "按未达标计，一票否决" if criterion.veto else "按未达标计"
    return f"{criterion.label}（{criterion.code}）{UNKNOWN_WORD}：缺少{clean_text(reason, '计算所需数据')}，{consequence}。"


def criteria_legend(profile: Profile, sources: dict[str, int]) -> dict[str, Any]:
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
    answers = as_int(village.get("satisfaction_answers")) or 0
    satisfied = as_int(village.get("satisfaction_yes")) or 0
    rate = village.get("satisfaction_rate")
    has_rate = answers > 0 and not is_missing(rate)
    passed = village.get("satisfaction_band") in (PASS, BAND_EXCELLENT)  # GX's verdict (tasks/assess.py)
    sample = as_int(village.get("evaluation_sample")) or load_design().questionnaire_per_village
    view = {
        "label": criterion.label,
        "rate": (format_against(rate, fail_below, ">=", passed) if has_rate else "无调查"),
        "interval": (f"{format_pct(village.get('satisfaction_ci_low'))}–{format_pct(village.get('satisfaction_ci_high'))}"
                     if has_rate and not is_missing(village.get("satisfaction_ci_low")) else "—"),
        "confidence": format_threshold(profile.sampling["confidence"]),
        "answers": answers,
        "satisfied": satisfied,
        "threshold": format_threshold(fail_below),
        "excellent": format_threshold(excellent_from),
        "status_text": STATUS_TEXT[PASS if has_rate and passed else FAIL],
        "sample": sample,
        "sample_risk": format_pct(_sample_risk(village, float(rate), sample, criterion), 0) if has_rate else "—",
        "recognition": _recognition(profile, village, sample),
        "p_drawn": format_pct(village.get("p_drawn"), 0) if not is_missing(village.get("p_drawn")) else "—",
        "stratum": STRATUM_LABELS.get(clean_text(village.get("stratum")), ""),
        "chart": None,
    }
    if has_rate:
        low, high = (village.get(f"satisfaction_ci_{end}") for end in ("low", "high"))
        view["chart"] = {
            name: round(float(rate if is_missing(value) else value) * 100, 1)
            for name, value in (("rate", rate), ("low", low), ("high", high),
                                ("fail_below", fail_below), ("excellent_from", excellent_from))
        }
    return view


def _recognition(profile: Profile, village: Mapping[str, Any], sample: int) -> dict[str, Any]:
    """The evaluators' 认可度 of this village's own survey (every surveyed household in the denominator) and
    the chance that their questionnaire of `sample` households here shows it failing their line."""
    metric = profile.metrics["recognition"]
    surveyed = as_int(village.get("recognition_surveyed")) or 0
    rate = village.get("recognition_rate")
    risk = village.get("recognition_sample_risk")
    known = bool(surveyed) and not is_missing(rate)
    passed = known and village.get("recognition_status") == PASS  # tasks/assess.py verdict_columns
    return {
        "label": metric["label"],
        "rate": format_against(rate, metric["min"], ">", passed) if known else "无调查",
        "status_text": STATUS_TEXT[PASS if passed else FAIL],
        "surveyed": surveyed,
        "approving": as_int(village.get("recognition_yes")) or 0,
        "threshold": format_threshold(metric["min"]),
        "sample": sample,
        "sample_risk": format_pct(risk, 0) if surveyed and not is_missing(risk) else "—",
    }


def _satisfaction_actions(profile: Profile, village: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "V-SATISFACTION" not in profile.codes:
        return []
    criterion = profile.criterion("V-SATISFACTION")
    fail_below, excellent_from = criterion.params["fail_below"], criterion.params["excellent_from"]
    answers = as_int(village.get("satisfaction_answers")) or 0
    satisfied = as_int(village.get("satisfaction_yes")) or 0
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
    passed = not is_missing(rate) and village.get("incidence_status") == PASS  # GX's verdict (tasks/assess.py)
    return {
        "label": criterion.label,
        "rate": format_against(rate, criterion.params["max"], "<", passed),
        "threshold": f"< {format_threshold(criterion.params['max'])}",
        "remaining": as_int(village.get("remaining_poor_people")),
        "population": as_int(village.get("rural_population")),
        "status_text": STATUS_TEXT[PASS if passed else FAIL],
    }


def _incidence_actions(profile: Profile, village: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "V-INCIDENCE" not in profile.codes:
        return []
    criterion = profile.criterion("V-INCIDENCE")
    remaining, population = as_int(village.get("remaining_poor_people")), as_int(village.get("rural_population"))
    if remaining is None or not population:
        return [{"veto": criterion.veto, "text": f"{criterion.label}无法计算：缺剩余贫困人口或农村人口数"}]
    leave = people_to_leave_poverty(remaining, population, criterion.params["max"])
    if not leave:
        return []
    return [{"veto": criterion.veto,
             "text": f"需再有 {leave} 名贫困人口脱贫，{criterion.label}才能低于 {format_threshold(criterion.params['max'])}"}]


def _wrong_exit(profile: Profile, village: Mapping[str, Any]) -> dict[str, Any]:
    """The wrong-exit rate of the village, for the exit cohort of every year (what the evaluators sample) and
    for this year's exit cohort (计划脱贫年度 = the profile year)."""
    metric = profile.metrics["wrong_exit_rate"]

    def cohort(suffix: str, population: str) -> dict[str, Any]:
        rate = village.get(f"wrong_exit_rate{suffix}")
        people = as_int(village.get(f"exit_people{suffix}")) or 0
        known = bool(people) and not is_missing(rate)
        passed = known and village.get(f"wrong_exit_status{suffix}") == PASS  # tasks/assess.py verdict_columns
        return {
            "population": population,
            "rate": format_against(rate, metric["max"], "<", passed) if known else "—",
            "households": as_int(village.get(f"exit_households{suffix}")) or 0,
            "failing_households": as_int(village.get(f"wrong_exit_households{suffix}")) or 0,
            "status_text": STATUS_TEXT[PASS if passed else FAIL] if known else "—",
        }

    pooled = cohort("", "全部脱贫户（各年度）")
    return {
        **pooled,
        "label": metric["label"],
        "threshold": f"< {format_threshold(metric['max'])}",
        "exit_people": as_int(village.get("exit_people")) or 0,
        "criteria": "、".join(labels_of(profile, [c for c in metric["criteria"] if c in profile.codes])),
        "cohorts": [pooled, cohort("_year", f"{profile.year}年计划脱贫户")],
    }


def _criterion_actions(profile: Profile, by_code: dict[str, dict[str, Any]],
                       village: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """One line per failing criterion other than the two rates, in words a village cadre acts on."""
    village = village or {}
    actions = []
    for criterion in profile.criteria:
        if criterion.code in _RATE_VALUED:
            continue
        row = by_code.get(criterion.code)
        if row is not None and row.get("status") == PASS:
            continue
        count = as_int(row.get("failing_count")) if row is not None else None
        owner = _owner(criterion, row, failing=True)
        who = (owner["department"] if owner["department"] != NOT_NAMED
               else f"责任单位{NOT_NAMED}，归口{owner['routed']}")
        if row is not None and row.get("status") == UNKNOWN:
            text = f"{unknown_note(criterion, row.get('unknown_reason'))[:-1]}（{who}）"
        elif criterion.code == WATER and "water_backlog_allocated" in village:
            water = water_village(profile, village)
            text = f"{criterion.label}未达标：覆盖率 {water['coverage']}，{water['backlog']}，{water['project']}（{who}）"
        elif criterion.code == POWER and "power_project_exists" in village:
            text = f"{criterion.label}未达标：{power_village(profile, village)['text']}（{who}）"
        elif criterion.level == "household" and count:
            text = f"{COHORT} {count} 户{criterion.label}未解决（{who}）"
        elif criterion.level in COUNT_UNIT and count:
            text = f"{criterion.label}：{count} {COUNT_UNIT[criterion.level]}未落实（{who}）"
        else:
            text = f"{criterion.label}未达标：{criterion.rule}（{who}）"
        actions.append({"veto": criterion.veto, "text": text})
    return actions


def _third_party(profile: Profile, village: Mapping[str, Any], by_code: dict[str, dict[str, Any]]) -> dict[str, Any]:
    actions = [
        *_satisfaction_actions(profile, village),
        *_incidence_actions(profile, village),
        *_criterion_actions(profile, by_code, village),
    ]
    actions.sort(key=lambda a: not a["veto"])
    for action in actions:
        action["veto_mark"] = VETO_MARK if action["veto"] else ""
    return {
        "satisfaction": _satisfaction(profile, village),
        "incidence": _incidence(profile, village),
        "wrong_exit": _wrong_exit(profile, village),
        "accountability": accountability(profile, village),
        "water": water_village(profile, village) if "water_backlog_allocated" in village else None,
        "power": power_village(profile, village) if "power_project_exists" in village else None,
        "actions": actions,
    }


# -------------------------------------------------------------------------------------------- households

def _household_gaps(profile: Profile, households: pd.DataFrame, limit: int = MAX_GAP_ROWS) -> dict[str, Any]:
    frame = households.assign(
        _codes=households["failing_criteria"].map(codes_of),
        _cohort=households["in_exit_cohort"].map(as_flag).astype(bool),
    )
    failing = frame.loc[frame["_codes"].map(bool).astype(bool)]
    failing = failing.sort_values(["_cohort", "household_id"], ascending=[False, True], kind="stable")
    records = failing.to_dict("records")
    complete = [
        {
            "household_id": clean_text(h["household_id"]),
            "head_name": clean_text(h["head_name"]),
            "head_id": mask(h["head_id_number"]),
            "exit_status": clean_text(h["exit_status"]),
            "in_cohort": h["_cohort"],
            "first_remaining": index > 0 and not h["_cohort"] and records[index - 1]["_cohort"],
            "failing": "、".join(labels_of(profile, h["_codes"])),
            "note": redact_text(clean_text(h.get("members_note"))),  # member rows missing (issue 11)
            "helper": clean_text(h["helper_name"], NOT_NAMED),
            "helper_phone": mask_phone(h["helper_phone"]),
        }
        for index, h in enumerate(records)
    ]
    return {
        "rows": complete[:limit],
        "total": len(failing),
        "cohort_total": int(failing["_cohort"].sum()),
        "households": len(households),
        "more": max(0, len(complete) - limit),
        "complete": complete,
    }


# ---------------------------------------------------------------------------------------------- village

def _failing_word(row: Mapping[str, Any]) -> str:
    return f"{row['label']}（{UNKNOWN_WORD}）" if row["status"] == UNKNOWN else row["label"]


def _rows_by_code(criteria: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in criteria.to_dict("records")}


def village_dossier_context(
    profile: Profile,
    village: Mapping[str, Any],
    criteria: pd.DataFrame,
    households: pd.DataFrame,
    run: Mapping[str, Any],
    projects: pd.DataFrame | None = None,
    issues: pd.DataFrame | None = None,
    trend: pd.DataFrame | None = None,
    submissions: pd.DataFrame | None = None,
    answers: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Everything the village dossier prints: cover, scorecard, third-party view, household gaps, housing,
    双七 projects, data quality and the weekly trend; the complete lists go to the spreadsheet beside it."""
    by_code = _rows_by_code(criteria)
    scorecard = _scorecard(profile, by_code, village)
    gaps = _household_gaps(profile, households)
    grade = clean_text(village.get("grade"), GRADE_FAIL)
    as_of = as_date(run["as_of"])
    failing_rows = [r for r in scorecard["rows"] if r["status"] != PASS]
    cover = {
        "village": clean_text(village.get("village_name")),
        "village_code": clean_text(village.get("village_code")),
        "township": clean_text(village.get("township_name")),
        "key_village": "重点村" if as_flag(village.get("is_key_village")) else "非重点村",
        "grade": grade,
        "grade_symbol": GRADE_SYMBOL.get(grade, ""),
        "grade_class": GRADE_CLASS.get(grade, GRADE_CLASS[GRADE_FAIL]),
        "days_left": (profile.evaluation_date - as_of).days,
        "evaluation_date": format_date(profile.evaluation_date),
        "first_secretary": clean_text(village.get("first_secretary"), NOT_NAMED),
        "team_leader": clean_text(village.get("team_leader"), NOT_NAMED),
        "as_of": format_date(as_of),
        "generated_on": format_date(run["generated_on"]),
        "week": run["week"],
        "document_id": document_id(run),
        "profile": profile.label,
        "veto_failing": "、".join(_failing_word(r) for r in failing_rows if r["veto"]) or "无",
        "accountability": accountability(profile, village),
        "other_failing": "、".join(_failing_word(r) for r in failing_rows if not r["veto"]) or "无",
        "households": gaps["households"],
        "households_failing": gaps["total"],
        "cohort_failing": gaps["cohort_total"],
    }
    housing = housing_section(profile, households)
    project_view = projects_section(profile, projects if projects is not None else pd.DataFrame())
    quality = data_quality_section(issues if issues is not None else pd.DataFrame(),
                                   submissions if submissions is not None else pd.DataFrame(),
                                   clean_text(village.get("township_code")))
    cover.update({
        "housing_unresolved": housing["unresolved"],
        "projects": project_view["total"],
        "projects_with_problems": project_view["with_problems"],
        "issues": quality["total"],
        "attachment": attachment_name(dossier_path(village)),
    })
    return {
        "document": document_furniture(profile, run, "村级迎评档案", [cover["township"], cover["village"]]),
        "cover": cover,
        "scorecard": scorecard,
        "third_party": _third_party(profile, village, by_code),
        "household_gaps": gaps,
        "housing": housing,
        "projects": project_view,
        "data_quality": quality,
        "trend": trend_section(profile, trend if trend is not None else pd.DataFrame()),
        "department_answers": department_answers_section(profile, answers),  # the village's department items
    }


# ----------------------------------------------------------------------------------------------- county

def progress_toward(done: int, target: int) -> dict[str, Any]:
    share = done / target if target else 0.0
    return {"done": done, "target": target, "share": format_pct(share), "bar": round(min(share, 1.0) * 100, 1)}


def grade_counts(grades: pd.Series) -> list[int]:
    counts = grades.value_counts()
    return [int(counts.get(grade, 0)) for grade in GRADES]


def submission_overview(submissions: pd.DataFrame | None) -> dict[str, Any]:
    """Completeness and timeliness of the week's submissions: counts and the townships to chase."""
    if submissions is None or not len(submissions):
        return {"expected": 0, "received": 0, "accepted": 0, "on_time": 0, "problems": []}
    by_town = submissions.groupby("township_code", sort=True)
    expected = by_town.ngroups
    received = int(by_town["status"].agg(lambda s: (s != "missing").any()).sum())
    used = submissions[submissions["used"].map(as_flag).astype(bool)]
    problems = []
    for code, group in by_town:
        latest = group.iloc[-1]
        winner = group[group["used"].map(as_flag).astype(bool)]
        late = len(winner) and not as_flag(winner.iloc[-1]["on_time"])
        if latest["status"] in ("missing", "rejected") or late or latest["status"] == "accepted_with_issues":
            status = SUBMISSION_WORDS.get(clean_text(latest["status"]), clean_text(latest["status"]))
            problems.append({
                "township": clean_text(latest["township_name"]) or code,
                "status": status + ("，逾期" if late else ""),
                "reason": clean_text(latest["reason"]) or "—",
                "file": clean_text(latest["file"]) or "—",
            })
    return {"expected": expected, "received": received, "accepted": len(used),
            "on_time": int(used["on_time"].map(as_flag).sum()), "problems": problems}


def grade_cards(villages: pd.DataFrame) -> list[dict[str, Any]]:
    """Villages per grade: count, share, word and symbol."""
    total = len(villages)
    return [
        {"grade": g, "symbol": GRADE_SYMBOL[g], "css": GRADE_CLASS[g], "count": n,
         "share": format_pct(n / total if total else 0.0)}
        for g, n in zip(GRADES, grade_counts(villages["grade"]))
    ]


def township_row(group: pd.DataFrame) -> dict[str, Any]:
    key = group["is_key_village"].map(as_flag).astype(bool)
    return {
        "villages": len(group),
        "grade_counts": grade_counts(group["grade"]),
        "key_villages": int(key.sum()),
        "key_ready": int((key & group["grade"].isin(PASSING_GRADES)).sum()),
        "households_failing": int(group["households_failing"].fillna(0).sum()),
        **{f"{name}{suffix}": int(group[f"{name}{suffix}"].fillna(0).sum()) if f"{name}{suffix}" in group else 0
           for name in ("exit_households", "wrong_exit_households") for suffix in ("", "_year")},
    }


def ranked_villages(profile: Profile, villages: pd.DataFrame, limit: int | None = MAX_WORST_VILLAGES,
                    failing_only: bool = True) -> tuple[list[dict[str, Any]], int]:
    """Villages ordered worst first (most veto failures, most failures, lowest satisfaction) and how many
    have any gap; failing_only=False keeps the villages without gaps at the end."""
    veto_codes = {c.code for c in profile.criteria if c.veto}
    ranked = villages.assign(
        _codes=villages["failing_criteria"].map(codes_of),
        _key=villages["is_key_village"].map(as_flag),
    )
    ranked = ranked.assign(
        _veto=ranked["_codes"].map(lambda codes: [c for c in codes if c in veto_codes]),
        _other=ranked["_codes"].map(lambda codes: [c for c in codes if c not in veto_codes]),
    )
    gaps = ranked["_codes"].map(bool).astype(bool) | (ranked["grade"] == GRADE_FAIL)
    failing = int(gaps.sum())
    if failing_only:
        ranked = ranked.loc[gaps]
    ranked = ranked.assign(_nveto=ranked["_veto"].map(len), _nall=ranked["_codes"].map(len))
    ranked = ranked.sort_values(
        ["_nveto", "_nall", "satisfaction_rate", "village_code"],
        ascending=[False, False, True, True], na_position="first", kind="stable",
    )
    rows = ranked if limit is None else ranked.head(limit)
    return [
        {
            "township": clean_text(v["township_name"]),
            "village": clean_text(v["village_name"]),
            "village_code": clean_text(v["village_code"]),
            "key_village": "是" if v["_key"] else "否",
            "grade": clean_text(v["grade"]),
            "grade_symbol": GRADE_SYMBOL.get(clean_text(v["grade"]), ""),
            "veto_failing": "、".join(labels_of(profile, v["_veto"])) or "—",
            "other_failing": len(v["_other"]),
            "satisfaction": format_pct(v["satisfaction_rate"]),
            "households_failing": as_int(v["households_failing"]) or 0,
        }
        for v in rows.to_dict("records")
    ], failing


def criteria_overview(profile: Profile, villages: pd.DataFrame, village_criteria: pd.DataFrame) -> list[dict[str, Any]]:
    """Per criterion of the profile: villages failing, key villages failing, households or projects, owner."""
    failing = village_criteria[(village_criteria["status"] != PASS)
                               & village_criteria["village_code"].isin(villages["village_code"])]
    key_codes = set(villages.loc[villages["is_key_village"].map(as_flag).astype(bool), "village_code"])
    rows = []
    for criterion in profile.criteria:
        hits = failing[failing["code"] == criterion.code]
        rows.append({
            "code": criterion.code,
            "label": criterion.label,
            "veto_mark": VETO_MARK if criterion.veto else "",
            "villages_failing": len(hits),
            "key_villages_failing": int(hits["village_code"].isin(key_codes).sum()),
            "failing_count": (f"{int(hits['failing_count'].fillna(0).sum())} {COUNT_UNIT[criterion.level]}"
                              if criterion.level in COUNT_UNIT else "—"),
            "department": "、".join(criterion.departments),
        })
    return rows


def wrong_exit_split(profile: Profile, villages: pd.DataFrame) -> dict[str, Any]:
    """Wrong exits pooled (the exit cohort of every year, what the evaluators sample) and this year's cohort,
    summed from the villages' figures (tasks/assess.py): households, households failing a 错退 criterion,
    people, rate and its verdict."""
    metric = profile.metrics["wrong_exit_rate"]
    rows = []
    for suffix, population in (("", "全部脱贫户（各年度）"), ("_year", f"{profile.year}年计划脱贫户")):
        def total(column: str) -> float:
            return float(villages[column].fillna(0).sum()) if column in villages else 0.0
        people, wrong = total(f"exit_people{suffix}"), total(f"wrong_exit_people{suffix}")
        rate = wrong / people if people else math.nan
        rows.append({
            "population": population,
            "households": int(total(f"exit_households{suffix}")),
            "failing_households": int(total(f"wrong_exit_households{suffix}")),
            "people": int(people), "wrong_people": int(wrong),
            "rate": format_against(rate, metric["max"], "<", not profile.metric_fails("wrong_exit_rate", rate), digits=2)
                    if people else "—",
            "status_text": STATUS_TEXT[FAIL if profile.metric_fails("wrong_exit_rate", rate) else PASS] if people else "—",
        })
    return {"label": metric["label"], "threshold": f"< {format_threshold(metric['max'])}",
            "criteria": "、".join(labels_of(profile, [c for c in metric["criteria"] if c in profile.codes])), "rows": rows}


def unknown_summary(profile: Profile, villages: pd.DataFrame, village_criteria: pd.DataFrame) -> list[str]:
    """One line per criterion some villages could not be judged on: how many villages, what is missing."""
    unknown = village_criteria[(village_criteria["status"] == UNKNOWN)
                               & village_criteria["village_code"].isin(villages["village_code"])]
    lines = []
    for criterion in profile.criteria:
        hits = unknown[unknown["code"] == criterion.code]
        if not len(hits):
            continue
        reasons = "；".join(dict.fromkeys(clean_text(r) for r in hits["unknown_reason"] if clean_text(r)))
        note = unknown_note(criterion, reasons or None)
        lines.append(f"{len(hits)} 个村{note}")
    return lines


def format_probability(p: Any, draws: int) -> str:
    """A simulated probability with its relation: ≈ 49.8%; 0 and 1 as bounds (finite draws never prove them)."""
    if is_missing(p):
        return "—"
    digits = 2 if draws > 1000 else 1
    if draws and p <= 0:
        return f"< {format_pct(1 / draws, digits)}"
    if draws and p >= 1:
        return f"> {format_pct(1 - 1 / draws, digits)}"
    return f"≈ {format_pct(p)}"


SIMULATED_METRICS = ("wrong_exit_rate", "recognition", "missed_rate", "overall_incidence")


def simulation_headline(simulation: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The simulator's headline (readiness/simulation.json): the design and the sample actually drawn, the
    chance of failing each evaluators' metric and any of them, and that chance against the villages sampled."""
    if not simulation:
        return None
    draws = int(simulation.get("draws", 0))
    metrics = []
    for key in SIMULATED_METRICS:
        m = simulation["metrics"].get(key)
        if m is None:
            continue
        measured = bool(m.get("measured"))
        metrics.append({
            "key": key,
            "label": m["label"],
            "rule": m.get("rule", ""),
            "fails_if": m["fails_if"],
            "measured": measured,
            "point": format_pct(m.get("point_estimate"), 2) if measured else "未测算",
            "point_year": format_pct(m.get("point_estimate_year"), 2) if not is_missing(m.get("point_estimate_year")) else None,
            "interval": (f"{format_pct(m.get('q05'), 2)}–{format_pct(m.get('q95'), 2)}"
                         if measured and not is_missing(m.get("q05")) else "—"),
            "p_fail": format_probability(m.get("p_fail"), draws) if measured else "—",
        })
    design, sample = simulation.get("design", {}), simulation.get("sample", {})
    measured_labels = [m["label"] for m in metrics if m["measured"]]
    return {
        "draws": draws,
        "design": {
            "label": design.get("label", ""),
            "villages": "、".join(f"{STRATUM_LABELS.get(k, k)} {v} 个" for k, v in design.get("villages", {}).items()),
            "households": "、".join(f"{KIND_LABELS.get(k, k)} {v} 户" for k, v in design.get("households", {}).items()),
            "questionnaire": design.get("questionnaire_per_village"),
        },
        "sample": {key: as_int(round(float(sample.get(key, 0)))) for key in
                   ("villages", "households", "exit_people", "ordinary", "questionnaire")},
        "metrics": metrics,
        "p_any_fail": format_probability(simulation.get("p_any_fail"), draws),
        "any_labels": "、".join(measured_labels),
        "not_measured": "、".join(m["label"] for m in metrics if not m["measured"]),
        "by_villages": [
            {"villages": row["villages"], "households": as_int(round(float(row["households"]))),
             "default": bool(row.get("design_default")),
             "p_fail": [format_probability(row["p_fail"].get(m["key"]), draws) if m["measured"] else "—" for m in metrics],
             "p_any_fail": format_probability(row["p_any_fail"], draws)}
            for row in simulation.get("by_villages", [])
        ],
        "notes": [redact_text(str(n)) for n in simulation.get("notes", [])],
        "sources": list(simulation.get("sources", [])),
    }


def county_summary_context(
    profile: Profile,
    villages: pd.DataFrame,
    households: pd.DataFrame,
    village_criteria: pd.DataFrame,
    run: Mapping[str, Any],
    submissions: pd.DataFrame | None = None,
    simulation: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the county summary prints: grades, progress against the targets, townships, worst gaps,
    the evaluators' simulated sample, this week's submissions."""
    as_of = as_date(run["as_of"])
    total = len(villages)
    key = villages.loc[villages["is_key_village"].map(as_flag).astype(bool)]
    ready = households["meets_all"].map(as_flag).astype(bool)
    in_cohort = households["in_exit_cohort"].map(as_flag).astype(bool)
    planned = households["planned_exit_year"].eq(profile.year).fillna(False).astype(bool) \
        if "planned_exit_year" in households else None
    exit_basis = in_cohort if planned is None else planned

    townships = [
        {"code": code, "name": name, **township_row(group)}
        for (code, name), group in villages.groupby(["township_code", "township_name"], sort=True)
    ]
    township_total = township_row(villages)
    worst, failing_villages = ranked_villages(profile, villages)

    return {
        "document": document_furniture(profile, run, "脱贫退出迎评汇总", ["全县汇总"]),
        "overview": {
            "county": run["county"],
            "week": run["week"],
            "as_of": format_date(as_of),
            "generated_on": format_date(run["generated_on"]),
            "document_id": document_id(run),
            "profile": profile.label,
            "evaluation_date": format_date(profile.evaluation_date),
            "days_left": (profile.evaluation_date - as_of).days,
            "villages": total,
            "townships": len(townships),
        },
        "grades": grade_cards(villages),
        "progress": {
            "key_villages": {**progress_toward(township_total["key_ready"], run["targets"]["key_villages"]),
                             "in_register": len(key)},
            "exit_households": {**progress_toward(int((exit_basis & ready).sum()), run["targets"]["exit_households"]),
                                "by_plan": planned is not None,
                                "planned": None if planned is None else int(planned.sum()),
                                "cohort": int(in_cohort.sum()),
                                "cohort_ready": int((in_cohort & ready).sum()),
                                "year": profile.year},
        },
        "townships": townships,
        "township_total": township_total,
        "worst_villages": worst,
        "failing_villages": failing_villages,
        "criteria": criteria_overview(profile, villages, village_criteria),
        "power_without_project": power_without_project(profile, villages),
        "water": water_backlog(profile, villages),
        "accountability": accountable_villages(profile, villages),
        "unknown_notes": unknown_summary(profile, villages, village_criteria),
        "legend": criteria_legend(profile, source_numbers(profile)),
        "submissions": submission_overview(submissions),
        "simulation": simulation_headline(simulation),
        "wrong_exit": wrong_exit_split(profile, villages),
    }
