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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from expectations.catalogue import Profile
from tasks import stage_task
from tasks.assess import Readiness
from tasks.criteria_frames import CANCELLED, NOT_AN_ANSWER, SATISFIED
from tasks.sample_risk import village_sample_risk  # noqa: F401  (part of this module's API)

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


@dataclass
class _Register:
    """Registered households per village in classes: (in exit cohort, fails a 错退 criterion, size)."""

    counts: np.ndarray  # villages × classes
    class_people: np.ndarray  # household size of a class; 0 for the class outside the exit cohort
    class_wrong: np.ndarray
    people: np.ndarray  # registered people per village
    exit_people: float
    wrong_people: float
    mean_size: float
    fill_size: int
    head_ids: set[str]


def _register(households: pd.DataFrame, index: pd.Index, profile: Profile, notes: list[str]) -> _Register:
    if "exit_status" in households:
        households = households[households["exit_status"] != CANCELLED]
    households = households[households["village_code"].astype(str).isin(index)]
    size = pd.to_numeric(households["household_size"], errors="coerce")
    mean_size = float(size.mean()) if size.notna().any() else 1.0
    fill_size = max(1, int(round(mean_size)))
    if size.isna().any():
        notes.append(f"{int(size.isna().sum())} 户家庭人口数缺失，按全县户均 {fill_size} 人计")
    sizes = size.fillna(fill_size).clip(lower=1).round().astype("int64").to_numpy()
    codes = set(profile.metrics["wrong_exit_rate"]["criteria"])
    cohort = households["in_exit_cohort"].fillna(False).astype(bool).to_numpy()
    failing = households["failing_criteria"].map(lambda c: isinstance(c, (list, tuple, set)) and bool(codes & set(c)))
    wrong = failing.to_numpy(bool) & cohort
    classes = pd.DataFrame({"cohort": cohort, "wrong": wrong, "size": np.where(cohort, sizes, 0)})
    keys = classes.drop_duplicates().sort_values(["cohort", "wrong", "size"]).reset_index(drop=True)
    class_of = classes.merge(keys.reset_index(), on=["cohort", "wrong", "size"], how="left")["index"].to_numpy()
    village_of = index.get_indexer(households["village_code"].astype(str))
    counts = np.zeros((len(index), max(len(keys), 1)), dtype=np.int64)
    np.add.at(counts, (village_of, class_of), 1)
    if not cohort.any():
        notes.append("无脱贫（预脱贫/已脱贫）户，错退率按 0 计")
    heads = households["head_id_number"].dropna().astype(str) if "head_id_number" in households else ()
    return _Register(
        counts=counts,
        class_people=keys["size"].to_numpy(np.int64) if len(keys) else np.zeros(1, np.int64),
        class_wrong=keys["wrong"].to_numpy(bool) if len(keys) else np.zeros(1, bool),
        people=np.bincount(village_of, weights=sizes, minlength=len(index)),
        exit_people=float(sizes[cohort].sum()),
        wrong_people=float(sizes[wrong].sum()),
        mean_size=mean_size,
        fill_size=fill_size,
        head_ids=set(heads),
    )


@dataclass
class _Outside:
    """Non-registered households per village (estimated) and the should-be-registered among them."""

    households: np.ndarray
    missed: np.ndarray
    people: float  # non-registered people in villages of known population
    missed_people: float
    measured: bool


def _outside(villages: pd.DataFrame, index: pd.Index, register: _Register, missed: pd.DataFrame | None,
             profile: Profile, notes: list[str]) -> _Outside:
    population = pd.to_numeric(villages["rural_population"], errors="coerce").to_numpy(float)
    people = np.clip(population - register.people, 0, None)
    households = np.floor(people / register.mean_size)
    unknown = np.isnan(population)
    if unknown.all():
        households[:] = 0
    elif unknown.any():
        households[unknown] = np.floor(np.nanmedian(households))
        notes.append(f"{int(unknown.sum())} 个村乡村总人口缺失，非建档户数按各村中位数估计")
    flagged_hh = np.zeros(len(index), dtype=np.int64)
    missed_people = 0.0
    measured = missed is not None and len(missed) > 0
    if measured:
        rows = missed[missed["village_code"].astype(str).isin(index)]
        if len(rows) < len(missed):
            notes.append(f"{len(missed) - len(rows)} 条疑似漏评户的村代码不在村名册中，未计入")
        if "head_id_number" in rows:
            ids = rows["head_id_number"]
            in_register = ids.astype(str).isin(register.head_ids) & ids.notna()
            if in_register.any():
                notes.append(f"{int(in_register.sum())} 条疑似漏评户已在建档立卡名册中，未计入")
            rows = rows[~in_register & ~(ids.duplicated() & ids.notna())]
        flagged = rows[should_be_registered(rows, profile.poverty_line)]
        flagged_hh = np.bincount(index.get_indexer(flagged["village_code"].astype(str)), minlength=len(index))
        missed_people = float(pd.to_numeric(flagged["household_size"], errors="coerce").fillna(register.fill_size).sum())
        reporting = set(rows["township_code"].dropna().astype(str)) if "township_code" in rows else set()
        if reporting and "township_code" in villages:
            silent = sorted(set(villages["township_code"].dropna().astype(str)) - reporting)
            if silent:
                notes.append(f"{len(silent)} 个镇未报送疑似漏评户（{'、'.join(silent)}），其漏评按 0 计")
    else:
        notes.append(MISSED_NOT_MEASURED)
    return _Outside(households=np.maximum(households, flagged_hh).astype(np.int64), missed=flagged_hh.astype(np.int64),
                    people=float(people[~unknown].sum()), missed_people=missed_people, measured=measured)


def _approval(surveys: pd.DataFrame, index: pd.Index, notes: list[str]) -> tuple[np.ndarray, float]:
    """Each village's approval share from its own answers, else the county's; (shares, county share)."""
    answer = approvals(surveys)
    where = index.get_indexer(surveys["village_code"].astype(str))
    keep = answer.notna().to_numpy(bool) & (where >= 0)
    yes = answer.fillna(False).astype(bool).to_numpy()[keep].astype(float)
    answers = np.bincount(where[keep], minlength=len(index))
    approving = np.bincount(where[keep], weights=yes, minlength=len(index))
    if not answers.sum():
        notes.append("无满意度调查答复，认可度无法测算")
        return np.full(len(index), math.nan), math.nan
    county = float(approving.sum() / answers.sum())
    silent = int((answers == 0).sum())
    if silent:
        notes.append(f"{silent} 个村无满意度调查答复，认可度按全县平均 {county:.1%} 计")
    return np.where(answers > 0, approving / np.maximum(answers, 1), county), county


def _ratio(numerator: np.ndarray, denominator: np.ndarray, empty: float) -> np.ndarray:
    return np.where(denominator > 0, numerator / np.maximum(denominator, 1), empty)


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
    """The evaluators' sample, `draws` times, from readiness (villages, households), the 满意度调查 frame
    and the 疑似漏评户 canonical table (None or empty: 漏评率 not measured). Per metric: the catalogue
    threshold, the county's point estimate from all data, the simulated mean, 5%/95% quantiles and the
    probability of failing; the probability that any of 错退率 / 漏评率 / 认可度 fails (and with 综合贫困发生率);
    draws, seed, sampling and notes. JSON-able."""
    if draws < 1:
        raise ValueError("draws must be ≥ 1")
    sampling = _sampling(profile, households_per_county, share_inside_register, households_per_village)
    notes: list[str] = []
    villages = readiness.villages.drop_duplicates("village_code").reset_index(drop=True)
    index = pd.Index(villages["village_code"].astype(str))
    n_villages = len(index)
    register = _register(readiness.households, index, profile, notes)
    outside = _outside(villages, index, register, missed, profile, notes)
    approval, county_approval = _approval(surveys, index, notes)
    recognition_measured = not math.isnan(county_approval)

    # ---- draws: villages, then households inside and outside the register, then their answers
    rng = np.random.default_rng(seed)
    k = min(sampling["villages_per_draw"], n_villages)
    if k < sampling["villages_per_draw"]:
        notes.append(f"全县仅 {n_villages} 个村（少于 {sampling['villages_per_draw']} 个），每次抽全部村，"
                     f"每村仍抽 {sampling['households_per_village']} 户，样本少于 {sampling['households_per_county']} 户")
    if k < n_villages:  # k villages without replacement: the k smallest of uniform keys
        chosen = np.argpartition(rng.random((draws, n_villages)), k - 1, axis=1)[:, :k]
    else:
        chosen = np.broadcast_to(np.arange(n_villages), (draws, n_villages))

    registered = register.counts.sum(axis=1)[chosen]
    n_in = np.minimum(sampling["inside_per_village"], registered)
    left_total, left_n = registered.copy(), n_in.copy()
    sampled_wrong = np.zeros(chosen.shape, dtype=np.int64)
    sampled_exit = np.zeros(chosen.shape, dtype=np.int64)
    for c in range(register.counts.shape[1]):  # sequential hypergeometric = multivariate hypergeometric
        good = register.counts[chosen, c]
        got = rng.hypergeometric(good, left_total - good, left_n) if good.any() else np.zeros_like(good)
        left_total -= good
        left_n -= got
        sampled_exit += got * register.class_people[c]
        if register.class_wrong[c]:
            sampled_wrong += got * register.class_people[c]
    wrong_rate = _ratio(sampled_wrong.sum(axis=1), sampled_exit.sum(axis=1), 0.0)

    n_out = np.minimum(sampling["outside_per_village"], outside.households[chosen])
    if outside.measured:
        good = outside.missed[chosen]
        found = rng.hypergeometric(good, outside.households[chosen] - good, n_out)
        missed_rate = _ratio(found.sum(axis=1), n_out.sum(axis=1), 0.0)
    else:
        missed_rate = np.zeros(draws)

    surveyed = n_in + n_out
    if recognition_measured:
        recognition = _ratio(rng.binomial(surveyed, approval[chosen]).sum(axis=1), surveyed.sum(axis=1), math.nan)
    else:
        recognition = np.full(draws, math.nan)

    # ---- 综合贫困发生率: remaining poor + sample-estimated missed and wrongly exited, over rural population
    remaining = pd.to_numeric(villages["remaining_poor_people"], errors="coerce") if "remaining_poor_people" in villages \
        else pd.Series(0.0, index=villages.index)
    if remaining.isna().any():
        notes.append(f"{int(remaining.isna().sum())} 个村剩余贫困人口无法计算，综合贫困发生率中按 0 计")
    remaining_people = float(remaining.fillna(0).sum())
    rural = float(pd.to_numeric(villages["rural_population"], errors="coerce").sum())
    if rural > 0:
        incidence_point = (remaining_people + outside.missed_people + register.wrong_people) / rural
        incidence = (remaining_people + missed_rate * outside.people + wrong_rate * register.exit_people) / rural
    else:
        incidence_point, incidence = math.nan, np.full(draws, math.nan)
    if not outside.measured:
        notes.append("综合贫困发生率未含漏评人口")

    metrics = profile.metrics
    wrong_point = register.wrong_people / register.exit_people if register.exit_people else 0.0
    missed_point = float(outside.missed.sum() / outside.households.sum()) if outside.measured and outside.households.sum() else 0.0
    summary = {
        "wrong_exit_rate": _summary(metrics["wrong_exit_rate"], "max", wrong_point, wrong_rate, True),
        "missed_rate": _summary(metrics["missed_rate"], "max", missed_point, missed_rate, outside.measured),
        "recognition": _summary(metrics["recognition"], "min", county_approval, recognition, recognition_measured),
        "overall_incidence": _summary(metrics["overall_incidence"], "max", incidence_point, incidence, rural > 0),
    }
    any_three = (_fails(metrics["wrong_exit_rate"], "max", wrong_rate) | _fails(metrics["missed_rate"], "max", missed_rate)
                 | _fails(metrics["recognition"], "min", recognition))
    any_four = any_three | _fails(metrics["overall_incidence"], "max", incidence)
    notes.append("模拟均值按评估组抽样方式（随机抽村、每村等量抽户）加权；点估计为全部数据的全县比率，两者可略有差别")
    return {
        "profile": profile.name,
        "draws": int(draws),
        "seed": int(seed),
        "sampling": {**sampling, "villages": n_villages, "villages_per_draw_used": int(k),
                     "inside_sampled_mean": round(float(n_in.sum(axis=1).mean()), 1),
                     "outside_sampled_mean": round(float(n_out.sum(axis=1).mean()), 1)},
        "metrics": summary,
        "p_any_fail": round(float(any_three.mean()), PROB_DIGITS),
        "p_any_fail_with_incidence": round(float(any_four.mean()), PROB_DIGITS),
        "missed_rate_measured": bool(outside.measured),
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
    fails_if = ("≥ " if bound == "max" else "< ") + f"{threshold:.0%}"
    base = {"label": metric["label"], "threshold": threshold, "fails_if": fails_if, "measured": bool(measured)}
    if not measured and bound == "min":  # no answers: nothing to say
        return {**base, "point_estimate": None, "mean": None, "q05": None, "q95": None, "p_fail": None}
    q05, q95 = np.quantile(values, [0.05, 0.95])
    return {**base, "point_estimate": _rate(point), "mean": _rate(float(np.mean(values))), "q05": _rate(q05),
            "q95": _rate(q95), "p_fail": round(float(_fails(metric, bound, values).mean()), PROB_DIGITS)}


# ------------------------------------------------------------------------------ per-village survey risk


simulate_task = stage_task(simulate_evaluation, name="simulate-evaluation")
