"""Monte Carlo of the third-party evaluators' sample (domain.md "Third-party evaluation metrics").

The number the county secretary wants: how likely is the county to fail 错退率, 漏评率, 群众认可度 or
综合贫困发生率 when the evaluators draw their sample? Formulas as the national county-exit evaluation
defines them (catalogue `metrics`, people where it says people), drawn the way the catalogue's evaluation
design says (tasks/evaluation_design.py). Everything is drawn from per-village aggregates with numpy (no
loop per household or per draw), deterministic from the seed.

Model, per draw:
- villages: per stratum (贫困村 / 非贫困村), the design's number, uniformly without replacement;
- in each village, the design's households by kind, without replacement: exited households (multivariate
  hypergeometric over household-size × fails-a-wrong-exit-criterion classes; 错退率 = people in sampled
  failing exited households / people in sampled exited households), remaining-poor ones, and ordinary
  (not registered) ones screened for 漏评 (hypergeometric: should-be-registered households from 疑似漏评户
  among the estimated non-registered households; 漏评率 = their people / the sampled ordinary people);
- the questionnaire: every sampled registered household plus the design's ordinary ones; approvals ~
  Binomial(questionnaire households, the village's own approval share), the share counting every survey
  row in the denominator (不了解 and blanks do not approve): 认可度 = 认可户数 / 调查总户数.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from expectations.catalogue import Profile
from tasks.assess import Readiness
from tasks.criteria_frames import CANCELLED, REMAINING_POOR
from tasks.evaluation_design import STRATUM_LABELS, EvaluationDesign, draw_villages, load_design, village_strata
from tasks.survey_answers import recognition_counts

DEFAULT_DRAWS = 2000
DEFAULT_SEED = 2016
UNSAFE_HOUSING = ("C级危房", "D级危房")
MISSED_NOT_MEASURED = "未报送疑似漏评户，漏评率无法测算"
RATE_DIGITS, PROB_DIGITS = 4, 3
MAX_CLASS_SIZE = 30  # people in one household, as far as the draws tell sizes apart (a sanity bound)
ANY_FAIL_METRICS = ("wrong_exit_rate", "missed_rate", "recognition", "overall_incidence")
SIZE_TABLE_VILLAGES = (10, 15, 20, 40, 60)  # villages per county besides the design's own, for the size table


# ------------------------------------------------------------------------------------------ inputs


def should_be_registered(missed: pd.DataFrame, poverty_line: float) -> pd.Series:
    """Per 疑似漏评户 row: income below the poverty line, housing C/D级危房, or income unknown (it cannot
    be shown to be above the line — docs/decisions.md "Unknowable is failing")."""
    income = pd.to_numeric(missed["income_per_capita"], errors="coerce")
    unsafe = missed["housing_safety"].isin(UNSAFE_HOUSING).fillna(False).astype(bool)
    return ((income < poverty_line).fillna(False).astype(bool) | income.isna() | unsafe).astype(bool)


# ------------------------------------------------------------------------------ the county's aggregates


@dataclass
class _County:
    """Per village aggregates the draws sample from."""

    strata: pd.Series
    exit_counts: np.ndarray  # villages × exit classes (size × wrong)
    class_people: np.ndarray
    class_wrong: np.ndarray
    remaining: np.ndarray  # remaining-poor households per village
    registered: np.ndarray  # every registered household per village
    outside: np.ndarray  # estimated non-registered households per village
    outside_people: np.ndarray
    missed: np.ndarray  # should-be-registered households among them
    missed_people: np.ndarray
    approval: np.ndarray  # the village's approval share (all surveyed households in the denominator)
    exit_people: float
    wrong_people: float
    year_exit_people: float
    year_wrong_people: float
    remaining_people: float
    rural: float
    missed_measured: bool
    recognition_point: float


def _wrong(households: pd.DataFrame, profile: Profile) -> np.ndarray:
    codes = set(profile.metrics["wrong_exit_rate"]["criteria"])
    failing = households["failing_criteria"].map(lambda c: isinstance(c, (list, tuple, set)) and bool(codes & set(c)))
    return failing.to_numpy(bool) & households["in_exit_cohort"].fillna(False).astype(bool).to_numpy()


def _county(readiness: Readiness, surveys: pd.DataFrame, missed: pd.DataFrame | None, profile: Profile,
            design: EvaluationDesign, notes: list[str]) -> _County:
    villages = readiness.villages.drop_duplicates("village_code").reset_index(drop=True)
    index = pd.Index(villages["village_code"].astype(str))
    households = readiness.households
    if "exit_status" in households:
        households = households[households["exit_status"] != CANCELLED]
    households = households[households["village_code"].astype(str).isin(index)]
    size = pd.to_numeric(households["household_size"], errors="coerce")
    mean_size = float(size.mean()) if size.notna().any() else 1.0
    fill_size = max(1, int(round(mean_size)))
    if size.isna().any():
        notes.append(f"{int(size.isna().sum())} 户家庭人口数缺失，按全县户均 {fill_size} 人计")
    sizes = size.fillna(fill_size).clip(lower=1).round().astype("int64").to_numpy()
    village_of = index.get_indexer(households["village_code"].astype(str))
    cohort = households["in_exit_cohort"].fillna(False).astype(bool).to_numpy()
    wrong = _wrong(households, profile)
    if not cohort.any():
        notes.append("无脱贫（预脱贫/已脱贫）户，错退率按 0 计")
    year = (pd.to_numeric(households.get("planned_exit_year"), errors="coerce") == profile.year).to_numpy(bool) \
        if "planned_exit_year" in households else np.zeros(len(households), bool)

    # the draws carry one class per (fails, size): sizes past a sanity bound share one class, so that a
    # submission of thousands of distinct absurd sizes cannot multiply the draws' memory
    drawn_sizes = np.minimum(sizes, MAX_CLASS_SIZE)
    if (sizes > MAX_CLASS_SIZE).any():
        notes.append(f"{int((sizes > MAX_CLASS_SIZE).sum())} 户家庭人口数超过 {MAX_CLASS_SIZE} 人，抽样模拟中按 "
                     f"{MAX_CLASS_SIZE} 人计（点估计按填报数），请核实")
    classes = pd.DataFrame({"wrong": wrong[cohort], "size": drawn_sizes[cohort]})
    keys = classes.drop_duplicates().sort_values(["wrong", "size"]).reset_index(drop=True)
    class_of = classes.merge(keys.reset_index(), on=["wrong", "size"], how="left")["index"].to_numpy()
    exit_counts = np.zeros((len(index), max(len(keys), 1)), dtype=np.int64)
    np.add.at(exit_counts, (village_of[cohort], class_of), 1)
    remaining_hh = households["exit_status"].isin(REMAINING_POOR).to_numpy(bool) if "exit_status" in households \
        else np.zeros(len(households), bool)
    registered_people = np.bincount(village_of, weights=sizes, minlength=len(index))

    # ---- outside the register: estimated from 乡村总人口, should-be-registered from 疑似漏评户
    population = pd.to_numeric(villages["rural_population"], errors="coerce").to_numpy(float)
    unknown = np.isnan(population)
    outside_people = np.clip(np.nan_to_num(population) - registered_people, 0, None)
    if unknown.all():
        outside_people[:] = 0
    elif unknown.any():
        outside_people[unknown] = float(np.median(outside_people[~unknown]))
        notes.append(f"{int(unknown.sum())} 个村乡村总人口缺失，未建档人口按各村中位数估计")
    outside = np.floor(outside_people / mean_size)
    missed_hh = np.zeros(len(index), dtype=np.int64)
    missed_people = np.zeros(len(index))
    measured = missed is not None and len(missed) > 0
    if measured:
        rows = missed[missed["village_code"].astype(str).isin(index)]
        if len(rows) < len(missed):
            notes.append(f"{len(missed) - len(rows)} 条疑似漏评户的村代码不在村名册中，未计入")
        if "head_id_number" in rows:
            ids = rows["head_id_number"]
            heads = set(households["head_id_number"].dropna().astype(str)) if "head_id_number" in households else set()
            in_register = ids.astype(str).isin(heads) & ids.notna()
            if in_register.any():
                notes.append(f"{int(in_register.sum())} 条疑似漏评户已在建档立卡名册中，未计入")
            rows = rows[~in_register & ~(ids.duplicated() & ids.notna())]
        flagged = rows[should_be_registered(rows, profile.poverty_line)]
        where = index.get_indexer(flagged["village_code"].astype(str))
        missed_hh = np.bincount(where, minlength=len(index))
        people = pd.to_numeric(flagged["household_size"], errors="coerce").fillna(fill_size).to_numpy(float)
        missed_people = np.bincount(where, weights=people, minlength=len(index))
        reporting = set(rows["township_code"].dropna().astype(str)) if "township_code" in rows else set()
        if reporting and "township_code" in villages:
            silent = sorted(set(villages["township_code"].dropna().astype(str)) - reporting)
            if silent:
                notes.append(f"{len(silent)} 个镇未报送疑似漏评户（{'、'.join(silent)}），其漏评按 0 计")
    else:
        notes.append(MISSED_NOT_MEASURED)
    outside = np.maximum(outside, missed_hh).astype(np.int64)
    outside_people = np.maximum(outside_people, missed_people)

    # ---- the questionnaire's approval share per village
    counts = recognition_counts(surveys).reindex(index)
    surveyed = counts["recognition_surveyed"].fillna(0).to_numpy(float)
    yes = counts["recognition_yes"].fillna(0).to_numpy(float)
    if surveyed.sum():
        point = float(yes.sum() / surveyed.sum())
        silent = int((surveyed == 0).sum())
        if silent:
            notes.append(f"{silent} 个村无满意度调查答复，认可度按全县平均 {point:.1%} 计")
        approval = np.where(surveyed > 0, yes / np.maximum(surveyed, 1), point)
    else:
        notes.append("无满意度调查答复，认可度无法测算")
        point, approval = math.nan, np.full(len(index), math.nan)

    remaining = pd.to_numeric(villages["remaining_poor_people"], errors="coerce") if "remaining_poor_people" in villages \
        else pd.Series(0.0, index=villages.index)
    if remaining.isna().any():
        notes.append(f"{int(remaining.isna().sum())} 个村剩余贫困人口无法计算，综合贫困发生率中按 0 计")
    return _County(
        strata=village_strata(villages, design).reset_index(drop=True),
        exit_counts=exit_counts,
        class_people=keys["size"].to_numpy(np.int64) if len(keys) else np.zeros(1, np.int64),
        class_wrong=keys["wrong"].to_numpy(bool) if len(keys) else np.zeros(1, bool),
        remaining=np.bincount(village_of[remaining_hh], minlength=len(index)),
        registered=np.bincount(village_of, minlength=len(index)),
        outside=outside, outside_people=outside_people, missed=missed_hh, missed_people=missed_people,
        approval=approval,
        exit_people=float(sizes[cohort].sum()), wrong_people=float(sizes[wrong].sum()),
        year_exit_people=float(sizes[cohort & year].sum()), year_wrong_people=float(sizes[wrong & year].sum()),
        remaining_people=float(remaining.fillna(0).sum()),
        rural=float(np.nansum(population)),
        missed_measured=bool(measured), recognition_point=point,
    )


# --------------------------------------------------------------------------------------- simulation


def _ratio(numerator: np.ndarray, denominator: np.ndarray, empty: float) -> np.ndarray:
    return np.where(denominator > 0, numerator / np.maximum(denominator, 1e-300), empty)


def _draw_classes(counts: np.ndarray, take: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Multivariate hypergeometric, as sequential hypergeometrics: `take` from each row of class counts."""
    left_total, left_n, got = counts.sum(axis=-1), take.copy(), []
    for c in range(counts.shape[-1]):
        good = counts[..., c]
        drawn = rng.hypergeometric(good, left_total - good, left_n) if good.any() else np.zeros_like(good)
        left_total, left_n = left_total - good, left_n - drawn
        got.append(drawn)
    return got


def _simulate(county: _County, design: EvaluationDesign, rng: np.random.Generator, draws: int) -> dict[str, np.ndarray]:
    """Per draw: the four metrics and the sample actually drawn."""
    chosen = draw_villages(county.strata, design, rng, draws)
    kinds = design.households
    exit_counts = county.exit_counts[chosen]  # draws × k × classes
    registered = county.registered[chosen]
    if "registered" in kinds:  # one pool of all registered households: the non-exit ones as one more class
        others = registered - exit_counts.sum(axis=-1)
        pool = np.concatenate([exit_counts, others[..., None]], axis=-1)
        got = _draw_classes(pool, np.minimum(kinds["registered"], registered), rng)[:-1]
        n_registered = np.minimum(kinds["registered"], registered)
    else:
        n_exit = np.minimum(kinds.get("exited", 0), exit_counts.sum(axis=-1))
        got = _draw_classes(exit_counts, n_exit, rng)
        n_registered = n_exit + np.minimum(kinds.get("remaining_poor", 0), county.remaining[chosen])
    zero = np.zeros(chosen.shape, dtype=np.int64)
    exit_people = sum((g * county.class_people[c] for c, g in enumerate(got)), zero)
    wrong_people = sum((g * county.class_people[c] for c, g in enumerate(got) if county.class_wrong[c]), zero)
    wrong_rate = _ratio(np.sum(wrong_people, axis=1), np.sum(exit_people, axis=1), 0.0)

    outside = county.outside[chosen]
    n_out = np.minimum(kinds.get("ordinary", 0), outside)
    missed_hh = county.missed[chosen]
    if county.missed_measured and n_out.any():
        found = rng.hypergeometric(missed_hh, outside - missed_hh, n_out)
        missed_size = _ratio(county.missed_people[chosen], missed_hh, 0.0)
        other_size = _ratio(county.outside_people[chosen] - county.missed_people[chosen], outside - missed_hh, 0.0)
        found_people = found * missed_size
        missed_rate = _ratio(found_people.sum(axis=1), (found_people + (n_out - found) * other_size).sum(axis=1), 0.0)
    else:
        missed_rate = np.zeros(draws)

    questionnaire = n_registered + np.minimum(design.questionnaire_ordinary, n_out)
    if not math.isnan(county.recognition_point):
        approving = rng.binomial(questionnaire, county.approval[chosen])
        recognition = _ratio(approving.sum(axis=1), questionnaire.sum(axis=1), math.nan)
    else:
        recognition = np.full(draws, math.nan)

    if county.rural > 0:
        incidence = (county.remaining_people + missed_rate * county.outside_people.sum()
                     + wrong_rate * county.exit_people) / county.rural
    else:
        incidence = np.full(draws, math.nan)
    return {"wrong_exit_rate": wrong_rate, "missed_rate": missed_rate, "recognition": recognition,
            "overall_incidence": incidence, "villages": np.full(draws, chosen.shape[1]),
            "households": (n_registered + n_out).sum(axis=1), "exit_people": np.sum(exit_people, axis=1),
            "ordinary": n_out.sum(axis=1), "questionnaire": questionnaire.sum(axis=1)}


def _any_fails(profile: Profile, values: dict[str, np.ndarray], measured: dict[str, bool]) -> np.ndarray:
    out = np.zeros(len(values["wrong_exit_rate"]), dtype=bool)
    for key in ANY_FAIL_METRICS:
        if measured[key]:
            out |= profile.metric_fails(key, values[key])
    return out


def simulate_evaluation(
    readiness: Readiness,
    surveys: pd.DataFrame,
    profile: Profile,
    missed: pd.DataFrame | None = None,
    *,
    design: EvaluationDesign | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    size_table: bool = True,
) -> dict[str, Any]:
    """The evaluators' sample, `draws` times, from readiness (villages, households), the 满意度调查 frame
    and the 疑似漏评户 canonical table (None or empty: 漏评率 not measured), drawn by `design` (default: the
    catalogue's). Per metric: the catalogue threshold, the county's point estimate from all data, the
    simulated mean, 5%/95% quantiles and the probability of failing; the probability that any of them fails;
    the sample actually drawn; a table of that probability against the number of villages sampled; notes.
    JSON-able."""
    if draws < 1:
        raise ValueError("draws must be ≥ 1")
    design = design or load_design()
    notes: list[str] = []
    county = _county(readiness, surveys, missed, profile, design, notes)
    measured = {"wrong_exit_rate": True, "missed_rate": county.missed_measured,
                "recognition": not math.isnan(county.recognition_point), "overall_incidence": county.rural > 0}
    values = _simulate(county, design, np.random.default_rng(seed), draws)
    short = {s: int((county.strata == s).sum()) for s in design.villages if (county.strata == s).sum() < design.villages[s]}
    if short:
        notes.append("村数少于抽样设计：" + "、".join(f"{STRATUM_LABELS[s]}仅 {n} 个，全部抽取" for s, n in short.items())
                     + f"；其余从另一层补足，共抽 {int(values['villages'][0])} 个村")

    metrics = profile.metrics
    outside_people = float(county.outside_people.sum())
    points = {
        "wrong_exit_rate": county.wrong_people / county.exit_people if county.exit_people else 0.0,
        "missed_rate": float(county.missed_people.sum() / outside_people) if county.missed_measured and outside_people else 0.0,
        "recognition": county.recognition_point,
        "overall_incidence": ((county.remaining_people + float(county.missed_people.sum()) + county.wrong_people) / county.rural
                              if county.rural > 0 else math.nan),
    }
    summary = {key: _summary(profile, key, points[key], values[key], measured[key]) for key in ANY_FAIL_METRICS}
    summary["wrong_exit_rate"]["point_estimate_year"] = (
        _rate(county.year_wrong_people / county.year_exit_people) if county.year_exit_people else None)
    if not county.missed_measured:
        notes.append("综合贫困发生率未含漏评人口")
    notes.append("模拟均值按评估组抽样方式（分层抽村、每村按户类抽户）加权；点估计为全部数据的全县比率，两者可略有差别")
    any_fail = _any_fails(profile, values, measured)
    cited = [*(profile.metrics[k]["source"] for k in ANY_FAIL_METRICS), *profile.threshold_reading["sources"], *design.sources]
    result = {
        "profile": profile.name,
        "sources": [profile.source_texts[c] for c in dict.fromkeys(cited)],
        "draws": int(draws),
        "seed": int(seed),
        "design": design.describe(),
        "sample": {key: round(float(values[key].mean()), 1)
                   for key in ("villages", "households", "exit_people", "ordinary", "questionnaire")},
        "metrics": summary,
        "measured": measured,
        "p_any_fail": round(float(any_fail.mean()), PROB_DIGITS),
        "missed_rate_measured": bool(county.missed_measured),
        "notes": notes,
    }
    if size_table:
        result["by_villages"] = _size_table(county, profile, design, measured, draws, seed)
    return result


def _size_table(county: _County, profile: Profile, design: EvaluationDesign, measured: dict[str, bool],
                draws: int, seed: int) -> list[dict[str, Any]]:
    """P(fail) per metric and for any of them against the villages sampled (design proportions kept)."""
    rows = []
    for i, total in enumerate(sorted({*SIZE_TABLE_VILLAGES, design.villages_total})):
        sized = design.with_villages(total)
        values = _simulate(county, sized, np.random.default_rng([seed, i]), draws)
        rows.append({
            "villages": int(total), "design_default": total == design.villages_total,
            "households": round(float(values["households"].mean()), 1),
            "p_fail": {k: round(float(profile.metric_fails(k, values[k]).mean()), PROB_DIGITS) if measured[k] else None
                       for k in ANY_FAIL_METRICS},
            "p_any_fail": round(float(_any_fails(profile, values, measured).mean()), PROB_DIGITS),
        })
    return rows


def _rate(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), RATE_DIGITS)


def _summary(profile: Profile, key: str, point: float, values: np.ndarray, measured: bool) -> dict[str, Any]:
    metric = profile.metrics[key]
    bound = "max" if "max" in metric else "min"
    threshold = metric[bound]
    fails_if = ("≥ " if bound == "max" else "≤ ") + f"{threshold:.0%}"
    base = {"label": metric["label"], "rule": metric["rule"], "threshold": threshold, "fails_if": fails_if,
            "measured": bool(measured)}
    if not measured and bound == "min":  # no answers: nothing to say
        return {**base, "point_estimate": None, "mean": None, "q05": None, "q95": None, "p_fail": None}
    q05, q95 = np.quantile(np.nan_to_num(values), [0.05, 0.95])
    return {**base, "point_estimate": _rate(point), "mean": _rate(float(np.nanmean(values))), "q05": _rate(q05),
            "q95": _rate(q95), "p_fail": round(float(profile.metric_fails(key, values).mean()), PROB_DIGITS)}
