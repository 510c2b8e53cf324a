"""Monte Carlo of the third-party evaluators' sample (domain.md "Third-party evaluation metrics").

The number the county secretary wants: how likely is the county to fail 错退率, 漏评率 or 群众认可度
when the evaluators draw their ~1,000 households at random? Everything is drawn from per-village
aggregates with numpy (no loop per household or per draw), deterministic from the seed.

Model, per draw (sampling parameters from the catalogue's `sampling` block):
- `households_per_county / households_per_village` villages drawn uniformly without replacement;
- in each, `households_per_village × share_inside_register` registered households drawn without
  replacement (multivariate hypergeometric over household-size × fails-a-wrong-exit-criterion classes;
  the exit-cohort ones count for 错退率, people-weighted), and the rest from the village's non-registered
  households (hypergeometric: should-be-registered households from 疑似漏评户 among the estimated
  non-registered households);
- every sampled household answers the recognition question: approvals ~ Binomial(sampled, the village's
  own approval share), i.e. a bootstrap of the village's 满意度调查 answers.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from expectations.catalogue import Profile
from tasks import stage_task
from tasks.assess import Readiness
from tasks.criteria_frames import CANCELLED, NOT_AN_ANSWER, SATISFIED

DEFAULT_DRAWS = 2000
DEFAULT_SEED = 2016
RECOGNISED, NOT_RECOGNISED = "认可", "不认可"
UNSAFE_HOUSING = ("C级危房", "D级危房")
MISSED_NOT_MEASURED = "未报送疑似漏评户，漏评率无法测算"
RATE_DIGITS, PROB_DIGITS = 4, 3
_EPS = 1e-12  # rates are ratios of floats: 1/50 must count as "≥ 2%"


# ------------------------------------------------------------------------------------------ inputs


def approvals(surveys: pd.DataFrame) -> pd.Series:
    """Per survey row: True (approves), False (does not) or <NA> (no answer). 脱贫结果认可 where given
    (认可 / 不认可), else 帮扶工作满意度 (满意 / 基本满意 approve, 不满意 does not; 不了解 and blanks are not
    answers, as for the satisfaction rate)."""
    recognised = surveys["exit_recognised"] if "exit_recognised" in surveys else pd.Series(pd.NA, index=surveys.index)
    answer = surveys["satisfaction"]
    out = pd.Series(pd.NA, index=surveys.index, dtype="boolean")
    by_satisfaction = answer.notna() & ~answer.isin(NOT_AN_ANSWER)
    out[by_satisfaction] = answer[by_satisfaction].isin(SATISFIED)
    given = recognised.isin((RECOGNISED, NOT_RECOGNISED)).fillna(False).astype(bool)
    out[given] = recognised[given] == RECOGNISED
    return out


def should_be_registered(missed: pd.DataFrame, poverty_line: float) -> pd.Series:
    """Per 疑似漏评户 row: income below the poverty line, housing C/D级危房, or income unknown (it cannot
    be shown to be above the line — docs/decisions.md "Unknowable is failing")."""
    income = pd.to_numeric(missed["income_per_capita"], errors="coerce")
    unsafe = missed["housing_safety"].isin(UNSAFE_HOUSING).fillna(False).astype(bool)
    return ((income < poverty_line).fillna(False).astype(bool) | income.isna() | unsafe).astype(bool)


def _sampling(profile: Profile, households_per_county, share_inside_register, households_per_village) -> dict[str, Any]:
    s = profile.sampling
    per_county = int(households_per_county if households_per_county is not None else s["households_per_county"])
    share = float(share_inside_register if share_inside_register is not None else s["share_inside_register"])
    per_village = int(households_per_village if households_per_village is not None else s["households_per_village"])
    if per_village < 1 or per_county < per_village or not 0 <= share <= 1:
        raise ValueError(f"抽样参数无效：每县{per_county}户，每村{per_village}户，册内比例{share}")
    inside = int(round(per_village * share))
    return {"households_per_county": per_county, "share_inside_register": share, "households_per_village": per_village,
            "villages_per_draw": int(round(per_county / per_village)), "inside_per_village": inside,
            "outside_per_village": per_village - inside}


# --------------------------------------------------------------------------------------- simulation


def simulate_evaluation(
    readiness: Readiness,
    surveys: pd.DataFrame,
    profile: Profile,
    missed: pd.DataFrame | None = None,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    households_per_county: int | None = None,
    share_inside_register: float | None = None,
    households_per_village: int | None = None,
) -> dict[str, Any]:
    """The evaluators' sample, `draws` times: per metric the catalogue threshold, the county's point
    estimate from all data, the simulated mean and 5%/95% quantiles and the probability of failing; the
    probability that any of 错退率 / 漏评率 / 认可度 fails; draws, seed, sampling and notes. JSON-able."""
    if draws < 1:
        raise ValueError("draws must be ≥ 1")
    sampling = _sampling(profile, households_per_county, share_inside_register, households_per_village)
    notes: list[str] = []
    villages = readiness.villages.drop_duplicates("village_code").reset_index(drop=True)
    codes = villages["village_code"].astype(str)
    index = pd.Index(codes)
    n_villages = len(codes)

    households = readiness.households
    if "exit_status" in households:
        households = households[households["exit_status"] != CANCELLED]
    households = households[households["village_code"].astype(str).isin(index)]
    size = pd.to_numeric(households["household_size"], errors="coerce")
    mean_size = float(size.mean()) if size.notna().any() else 1.0
    fill_size = max(1, int(round(mean_size)))
    if size.isna().any():
        notes.append(f"{int(size.isna().sum())} 户家庭人口数缺失，按全县户均 {fill_size} 人计")
    size = size.fillna(fill_size).clip(lower=1).round().astype("int64")

    # ---- inside the register: classes (0 = not in the exit cohort; then size × wrong-exit) per village
    wrong_codes = set(profile.metrics["wrong_exit_rate"]["criteria"])
    cohort = households["in_exit_cohort"].fillna(False).astype(bool).to_numpy()
    wrong = households["failing_criteria"].map(lambda c: bool(wrong_codes & set(c)) if isinstance(c, (list, tuple, set)) else False).to_numpy(bool)
    sizes = size.to_numpy()
    classes = pd.DataFrame({"cohort": cohort, "wrong": wrong & cohort, "size": np.where(cohort, sizes, 0)})
    keys = classes.drop_duplicates().sort_values(["cohort", "wrong", "size"]).reset_index(drop=True)
    class_of = classes.merge(keys.reset_index(), on=["cohort", "wrong", "size"], how="left")["index"].to_numpy()
    village_of = index.get_indexer(households["village_code"].astype(str))
    counts = np.zeros((n_villages, max(len(keys), 1)), dtype=np.int64)
    np.add.at(counts, (village_of, class_of), 1)
    class_people = keys["size"].to_numpy(np.int64) if len(keys) else np.zeros(1, np.int64)
    class_wrong = keys["wrong"].to_numpy(bool) if len(keys) else np.zeros(1, bool)
    registered = counts.sum(axis=1)
    registered_people = np.bincount(village_of, weights=sizes, minlength=n_villages)

    exit_people = float(sizes[cohort].sum())
    wrong_people = float(sizes[wrong & cohort].sum())
    if exit_people == 0:
        notes.append("无脱贫（预脱贫/已脱贫）户，错退率按 0 计")

    # ---- outside the register: estimated non-registered households and should-be-registered ones
    population = pd.to_numeric(villages["rural_population"], errors="coerce").to_numpy(float)
    outside_people = np.clip(population - registered_people, 0, None)
    outside_hh = np.floor(outside_people / mean_size)
    unknown_population = np.isnan(population)
    if unknown_population.all():
        outside_hh[:] = 0
    elif unknown_population.any():
        outside_hh[unknown_population] = np.floor(np.nanmedian(outside_hh))
        notes.append(f"{int(unknown_population.sum())} 个村乡村总人口缺失，非建档户数按各村中位数估计")
    missed_hh = np.zeros(n_villages, dtype=np.int64)
    missed_people = 0.0
    missed_measured = missed is not None and len(missed) > 0
    if missed_measured:
        rows = missed[missed["village_code"].astype(str).isin(index)]
        if len(rows) < len(missed):
            notes.append(f"{len(missed) - len(rows)} 条疑似漏评户的村代码不在村名册中，未计入")
        if "head_id_number" in rows and "head_id_number" in households:
            ids = rows["head_id_number"]
            in_register = ids.isin(set(households["head_id_number"].dropna())) & ids.notna()
            dup = ids.duplicated() & ids.notna()
            if in_register.any():
                notes.append(f"{int(in_register.sum())} 条疑似漏评户已在建档立卡名册中，未计入")
            rows = rows[~in_register & ~dup]
        flagged = rows[should_be_registered(rows, profile.poverty_line)]
        missed_hh = np.bincount(index.get_indexer(flagged["village_code"].astype(str)), minlength=n_villages).astype(np.int64)
        missed_people = float(pd.to_numeric(flagged["household_size"], errors="coerce").fillna(fill_size).sum())
        reporting = set(rows["township_code"].dropna().astype(str)) if "township_code" in rows else set()
        silent = sorted(set(villages["township_code"].dropna().astype(str)) - reporting) if "township_code" in villages and reporting else []
        if silent:
            notes.append(f"{len(silent)} 个镇未报送疑似漏评户（{'、'.join(silent)}），其漏评按 0 计")
    else:
        notes.append(MISSED_NOT_MEASURED)
    outside_hh = np.maximum(outside_hh, missed_hh).astype(np.int64)

    # ---- recognition: each village's approval share from its own answers, else the county's
    answers_by_row = approvals(surveys)
    given = answers_by_row.notna().to_numpy(bool)
    where = index.get_indexer(surveys["village_code"].astype(str))
    keep = given & (where >= 0)
    yes = answers_by_row.fillna(False).astype(bool).to_numpy()
    village_answers = np.bincount(where[keep], minlength=n_villages)
    village_yes = np.bincount(where[keep], weights=yes[keep].astype(float), minlength=n_villages)
    recognition_measured = village_answers.sum() > 0
    county_approval = float(village_yes.sum() / village_answers.sum()) if recognition_measured else math.nan
    approval = np.where(village_answers > 0, village_yes / np.maximum(village_answers, 1), county_approval)
    silent_villages = int((village_answers == 0).sum())
    if recognition_measured and silent_villages:
        notes.append(f"{silent_villages} 个村无满意度调查答复，认可度按全县平均 {county_approval:.1%} 计")
    if not recognition_measured:
        notes.append("无满意度调查答复，认可度无法测算")

    # ---- draws
    rng = np.random.default_rng(seed)
    k = min(sampling["villages_per_draw"], n_villages)
    if k < sampling["villages_per_draw"]:
        notes.append(f"全县仅 {n_villages} 个村，每次抽全部村")
    if k < n_villages:  # k villages without replacement: the k smallest of uniform keys
        chosen = np.argpartition(rng.random((draws, n_villages)), k - 1, axis=1)[:, :k]
    else:
        chosen = np.broadcast_to(np.arange(n_villages), (draws, n_villages))
    n_in = np.minimum(sampling["inside_per_village"], registered[chosen])
    left_total, left_n = registered[chosen].copy(), n_in.copy()
    sampled_wrong = np.zeros(chosen.shape, dtype=np.int64)
    sampled_exit = np.zeros(chosen.shape, dtype=np.int64)
    for c in range(counts.shape[1]):  # sequential hypergeometric = multivariate hypergeometric
        good = counts[chosen, c]
        got = rng.hypergeometric(good, left_total - good, left_n) if good.any() else np.zeros_like(good)
        left_total -= good
        left_n -= got
        if class_people[c]:
            sampled_exit += got * class_people[c]
            if class_wrong[c]:
                sampled_wrong += got * class_people[c]
    exit_sum = sampled_exit.sum(axis=1)
    wrong_rate = np.where(exit_sum > 0, sampled_wrong.sum(axis=1) / np.maximum(exit_sum, 1), 0.0)

    n_out = np.minimum(sampling["outside_per_village"], outside_hh[chosen])
    if missed_measured:
        good = missed_hh[chosen]
        found = rng.hypergeometric(good, outside_hh[chosen] - good, n_out)
        out_sum = n_out.sum(axis=1)
        missed_rate = np.where(out_sum > 0, found.sum(axis=1) / np.maximum(out_sum, 1), 0.0)
    else:
        missed_rate = np.zeros(draws)

    surveyed = n_in + n_out
    if recognition_measured:
        approving = rng.binomial(surveyed, approval[chosen])
        surveyed_sum = surveyed.sum(axis=1)
        recognition = np.where(surveyed_sum > 0, approving.sum(axis=1) / np.maximum(surveyed_sum, 1), math.nan)
    else:
        recognition = np.full(draws, math.nan)

    # ---- 综合贫困发生率: remaining poor + sample-estimated missed and wrongly exited, over rural population
    remaining = pd.to_numeric(villages.get("remaining_poor_people", pd.Series(0.0, index=villages.index)), errors="coerce")
    if remaining.isna().any():
        notes.append(f"{int(remaining.isna().sum())} 个村剩余贫困人口无法计算，综合贫困发生率中按 0 计")
    remaining_people = float(remaining.fillna(0).sum())
    rural = float(np.nansum(population))
    outside_total = float(outside_people[~unknown_population].sum())
    if rural > 0:
        incidence_point = (remaining_people + missed_people + wrong_people) / rural
        incidence = (remaining_people + missed_rate * outside_total + wrong_rate * exit_people) / rural
    else:
        incidence_point, incidence = math.nan, np.full(draws, math.nan)
    if not missed_measured:
        notes.append("综合贫困发生率未含漏评人口")

    metrics = profile.metrics
    wrong_point = wrong_people / exit_people if exit_people else 0.0
    missed_point = float(missed_hh.sum() / outside_hh.sum()) if missed_measured and outside_hh.sum() else 0.0
    out_metrics = {
        "wrong_exit_rate": _summary(metrics["wrong_exit_rate"], "max", wrong_point, wrong_rate, True),
        "missed_rate": _summary(metrics["missed_rate"], "max", missed_point, missed_rate, missed_measured),
        "recognition": _summary(metrics["recognition"], "min", county_approval, recognition, recognition_measured),
        "overall_incidence": _summary(metrics["overall_incidence"], "max", incidence_point, incidence, rural > 0),
    }
    fails = [_fails(metrics["wrong_exit_rate"], "max", wrong_rate)]
    if missed_measured:
        fails.append(_fails(metrics["missed_rate"], "max", missed_rate))
    if recognition_measured:
        fails.append(_fails(metrics["recognition"], "min", recognition))
    any_three = np.logical_or.reduce(fails)
    any_four = (any_three | _fails(metrics["overall_incidence"], "max", incidence)) if rural > 0 else any_three
    notes.append("模拟均值按评估组抽样方式（随机抽村、每村等量抽户）加权；点估计为全部数据的全县比率，两者可略有差别")
    return {
        "profile": profile.name,
        "draws": int(draws),
        "seed": int(seed),
        "sampling": {**sampling, "villages": n_villages,
                     "villages_per_draw_used": int(k),
                     "inside_sampled_mean": round(float(n_in.sum(axis=1).mean()), 1),
                     "outside_sampled_mean": round(float(n_out.sum(axis=1).mean()), 1)},
        "metrics": out_metrics,
        "p_any_fail": round(float(any_three.mean()), PROB_DIGITS),
        "p_any_fail_with_incidence": round(float(any_four.mean()), PROB_DIGITS),
        "missed_rate_measured": bool(missed_measured),
        "notes": notes,
    }


def _fails(metric: dict[str, Any], bound: str, values: np.ndarray) -> np.ndarray:
    """错退率/漏评率/综合贫困发生率 fail at ≥ max, 认可度 below min; NaN never fails."""
    if bound == "max":
        return np.nan_to_num(values, nan=-math.inf) >= metric["max"] - _EPS
    return np.nan_to_num(values, nan=math.inf) < metric["min"] - _EPS


def _rate(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), RATE_DIGITS)


def _summary(metric: dict[str, Any], bound: str, point: float, values: np.ndarray, measured: bool) -> dict[str, Any]:
    threshold = metric[bound]
    base = {"label": metric["label"], "threshold": threshold, "fails_if": ("≥ " if bound == "max" else "< ") + f"{threshold:.0%}",
            "measured": bool(measured)}
    if not measured and bound == "min":  # no answers: nothing to say
        return {**base, "point_estimate": None, "mean": None, "q05": None, "q95": None, "p_fail": None}
    q05, q95 = np.quantile(values, [0.05, 0.95])
    return {**base, "point_estimate": _rate(point), "mean": _rate(float(np.mean(values))), "q05": _rate(q05),
            "q95": _rate(q95), "p_fail": round(float(_fails(metric, bound, values).mean()), PROB_DIGITS)}


# ------------------------------------------------------------------------------ per-village survey risk


def village_sample_risk(villages: pd.DataFrame, profile: Profile, *, households: int | None = None,
                        method: str = "posterior") -> pd.Series:
    """Per village (index village_code): the chance that the evaluators' `households_per_village`
    surveyed households show satisfaction below V-SATISFACTION fail_below.

    method="posterior" (default): the village's true rate is uncertain, Beta(yes + 1, no + 1) (uniform
    prior, the observed answers), so the count is beta-binomial — a small survey of 5 all-satisfied answers
    is not a certainty. method="binomial": the observed rate taken as the true rate (as the dossier does).
    NaN for a village without answers (it already fails V-SATISFACTION)."""
    n = int(households if households is not None else profile.sampling["households_per_village"])
    threshold = Fraction(str(profile.criterion("V-SATISFACTION").params["fail_below"]))
    below = [k for k in range(n + 1) if Fraction(k, n) < threshold]  # counts that fail
    answers = pd.to_numeric(villages["satisfaction_answers"], errors="coerce").fillna(0).to_numpy(float)
    yes = pd.to_numeric(villages["satisfaction_yes"], errors="coerce").fillna(0).to_numpy(float)
    no = answers - yes
    ks = np.array(below, dtype=float)[None, :]
    log_comb = np.array([math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) for k in below])[None, :]
    if method == "posterior":
        a, b = yes[:, None] + 1, no[:, None] + 1
        lg = np.vectorize(math.lgamma, otypes=[float])
        log_pmf = log_comb + lg(ks + a) + lg(n - ks + b) - lg(n + a + b) - (lg(a) + lg(b) - lg(a + b))
        prob = np.exp(log_pmf).sum(axis=1) if below else np.zeros(len(yes))
    elif method == "binomial":
        p = np.where(answers > 0, yes / np.maximum(answers, 1), 0.0)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.exp(log_comb) * np.power(p, ks) * np.power(1 - p, n - ks)
        prob = terms.sum(axis=1) if below else np.zeros(len(yes))
    else:
        raise ValueError(f"unknown method {method!r} (posterior / binomial)")
    prob = np.where(answers > 0, np.clip(prob, 0.0, 1.0), math.nan)
    return pd.Series(prob, index=pd.Index(villages["village_code"].astype(str), name="village_code"), name="p_sample_below")


simulate_task = stage_task(simulate_evaluation, name="simulate-evaluation")
