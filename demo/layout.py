"""The county's layout: townships, villages, key villages, and each village's plan of gaps.

A village's plan says which criteria fail in which weeks: a gap has a fix week (the first week in which it
no longer shows) — NEVER for a gap still open in the last week. Household, project and survey data are
then generated to match the plan; the manifest's truth is computed afterwards from the generated values.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .draw import Draw, Weighted
from .names import village_names
from .weeks import NEVER

TOWNSHIPS_CSV = Path(__file__).resolve().parents[1] / "data" / "reference" / "townships.csv"

FULL_EXIT_TARGET = 10_114
FULL_KEY_VILLAGES = 45
FULL_HOUSEHOLDS_NOMINAL = 30_000
SMALL_TOWNSHIPS = 2

VETO_WEIGHTS = Weighted([
    ("H-HOUSING", 22), ("V-SATISFACTION", 18), ("V-INCIDENCE", 15), ("H-INCOME", 10), ("H-MEDICAL", 8),
    ("V-POWER", 8), ("V-ROAD", 7), ("H-WATER", 6), ("H-EDU", 6),
])
# probability of a gap still open in W39, per non-veto criterion (V-TELECOM is placed separately)
NON_VETO_P = {"H-SKILL": 0.35, "P-OWNER": 0.30, "V-INDUSTRY": 0.22, "V-WATER": 0.15, "H-LIVELIHOOD": 0.12,
              "V-CLINIC": 0.10, "V-CULTURE": 0.10}
NON_VETO_WEIGHTS = Weighted(list(NON_VETO_P.items()))
# gaps that are fixed during the four weeks (V-INCIDENCE does not move; satisfaction moves by itself)
TRANSIENT_WEIGHTS = Weighted([
    ("H-HOUSING", 3), ("H-SKILL", 3), ("P-OWNER", 3), ("H-INCOME", 1.5), ("H-MEDICAL", 1.5), ("V-INDUSTRY", 2),
    ("V-WATER", 1.5), ("H-WATER", 1), ("H-EDU", 1), ("H-LIVELIHOOD", 1.5), ("V-ROAD", 1), ("V-POWER", 1.5),
    ("V-CLINIC", 1), ("V-CULTURE", 1),
])
TIERS_KEY = Weighted([("excellent", 10), ("pass", 35), ("fail", 55)])
TIERS_OTHER = Weighted([("excellent", 7), ("pass", 25), ("fail", 68)])


@dataclass
class Village:
    code: str
    name: str
    township_code: str
    township_name: str
    key: bool
    planned_exit_year: int | None
    n_households: int
    tier: str = "fail"  # intended W39 outcome: excellent / pass / fail
    fix: dict[str, int] = field(default_factory=dict)  # criterion code → fix week (NEVER = still open)
    sat_target: dict[int, float] = field(default_factory=dict)  # week number → intended satisfaction rate
    n_exit: int = 0
    n_remaining: int = 0
    n_cancelled: int = 0


@dataclass
class Layout:
    townships: list[tuple[str, str]]
    villages: list[Village]
    targets: dict[str, int]
    veto: frozenset[str]


def read_townships() -> list[tuple[str, str]]:
    with open(TOWNSHIPS_CSV, encoding="utf-8") as fh:
        return [(row["township_code"], row["township_name"]) for row in csv.DictReader(fh)]


def build_layout(draw: Draw, small: bool, veto: frozenset[str], codes: tuple[str, ...], scale: int = 1) -> Layout:
    """`scale`: villages per township, key villages and the exit target times `scale` (the benchmarks' 5×
    county); scale 1 draws exactly what it always did."""
    townships = read_townships()
    if small:
        townships = townships[:SMALL_TOWNSHIPS]
    taken: set[str] = set()
    villages: list[Village] = []
    for t_code, t_name in townships:
        n = 10 if small else draw.int(10, 18) * scale
        numbers = sorted(draw.sample(range(200, 400), n))
        for num, name in zip(numbers, village_names(draw, n, taken)):
            villages.append(Village(code=f"{t_code}{num:03d}", name=name, township_code=t_code, township_name=t_name,
                                    key=False, planned_exit_year=None, n_households=draw.int(66, 128)))
    _choose_key_villages(draw, villages, townships, small, scale)
    for v in villages:
        if v.key:
            v.planned_exit_year = 2016
        else:
            v.planned_exit_year = draw.weighted(Weighted([(2017, 40), (2018, 35), (2019, 15), (None, 10)]))

    households = sum(v.n_households for v in villages)
    exit_target = FULL_EXIT_TARGET * scale if not small else round(FULL_EXIT_TARGET * households / FULL_HOUSEHOLDS_NOMINAL)
    targets = {"key_villages": sum(v.key for v in villages), "exit_households": exit_target}
    _plan_gaps(draw, villages, small, veto, codes)
    _allocate_statuses(draw, villages, exit_target)
    return Layout(townships=townships, villages=villages, targets=targets, veto=veto)


def _choose_key_villages(draw: Draw, villages: list[Village], townships, small: bool, scale: int = 1) -> None:
    by_township: dict[str, list[Village]] = {}
    for v in villages:
        by_township.setdefault(v.township_code, []).append(v)
    for t_code, _ in townships:  # at least one per township
        draw.pick(by_township[t_code]).key = True
    extra = (FULL_KEY_VILLAGES * scale - len(townships)) if not small else 0
    for v in draw.sample([v for v in villages if not v.key], extra):
        v.key = True


def _plan_gaps(draw: Draw, villages: list[Village], small: bool, veto: frozenset[str], codes) -> None:
    for v in villages:
        v.tier = draw.weighted(TIERS_KEY if v.key else TIERS_OTHER)
    # every tier present, even in the small county
    for tier, minimum in (("excellent", 1), ("pass", 2), ("fail", 2)):
        while sum(v.tier == tier for v in villages) < minimum:
            donors = [v for v in villages if sum(w.tier == v.tier for w in villages) > 2]
            draw.pick(donors).tier = tier

    for v in villages:
        if v.tier == "fail":
            k = draw.weighted(Weighted([(1, 6), (2, 3), (3, 1)]))
            while sum(1 for c in v.fix if c in veto) < k:
                v.fix[draw.weighted(VETO_WEIGHTS)] = NEVER
        if v.tier != "excellent":
            factor = 1.0 if v.tier == "fail" else 0.5
            for code, p in NON_VETO_P.items():
                if draw.chance(p * factor):
                    v.fix[code] = NEVER

    # the speech: some key villages have no power project at all, and satisfaction of only 60%
    keys = [v for v in villages if v.key]
    for v in draw.sample(keys, 3 if not small else 1):
        _force(v, "V-POWER", veto)
    sixty = draw.sample(keys, 2 if not small else 1)
    for v in sixty:
        _force(v, "V-SATISFACTION", veto)

    # the speech: 7 villages without any carrier (W39); 3 more fixed during September
    open_pool = [v for v in villages if v.tier != "excellent"]
    telecom = draw.sample(open_pool, 7 if not small else 1)
    for v in telecom:
        v.fix["V-TELECOM"] = NEVER
    rest = [v for v in villages if "V-TELECOM" not in v.fix]
    for v in draw.sample(rest, 3 if not small else 1):
        v.fix["V-TELECOM"] = draw.int(37, 39)

    # every criterion of the profile fails somewhere in the last week
    for code in codes:
        if any(v.fix.get(code) == NEVER for v in villages):
            continue
        pool = [v for v in villages if v.tier == "fail"] if code in veto else [v for v in villages if v.tier != "excellent"]
        v = draw.pick(pool)
        v.fix[code] = NEVER

    for v in villages:
        # gaps fixed during the four weeks
        t = draw.weighted(Weighted([(0, 15), (1, 25), (2, 30), (3, 20), (4, 10)]))
        tries = 0
        while t > 0 and tries < 50:
            tries += 1
            code = draw.weighted(TRANSIENT_WEIGHTS)
            if code not in v.fix:
                v.fix[code] = draw.int(37, 39)
                t -= 1
        _satisfaction_targets(draw, v, veto, v in sixty)


def _force(v: Village, code: str, veto: frozenset[str]) -> None:
    v.fix[code] = NEVER
    if code in veto:
        v.tier = "fail"


def _satisfaction_targets(draw: Draw, v: Village, veto: frozenset[str], sixty: bool) -> None:
    if v.fix.get("V-SATISFACTION") == NEVER:
        s39 = draw.uniform(0.58, 0.64) if sixty else draw.uniform(0.60, 0.78)
    elif v.tier == "excellent":
        s39 = draw.uniform(0.915, 0.97)
    else:
        s39 = draw.uniform(0.81, 0.95)
        if v.tier == "pass" and s39 >= 0.9 and not any(c not in veto for c in v.fix if v.fix[c] == NEVER):
            v.fix[draw.weighted(NON_VETO_WEIGHTS)] = NEVER  # a 合格 village with high satisfaction has a gap
    s36 = max(0.5, s39 - draw.uniform(0.03, 0.13))
    s37 = s36 + (s39 - s36) * draw.uniform(0.2, 0.5)
    s38 = s37 + (s39 - s37) * draw.uniform(0.3, 0.8)
    v.sat_target = {36: s36, 37: s37, 38: s38, 39: s39}
    v.fix.pop("V-SATISFACTION", None)  # derived from the survey answers, week by week
    if s39 < 0.8:
        v.fix["V-SATISFACTION"] = NEVER


def _allocate_statuses(draw: Draw, villages: list[Village], exit_target: int) -> None:
    """Exit cohort of 2016 (exactly the target, largest-remainder), remaining poor and cancelled counts."""
    weights = [v.n_households * (1.5 if v.key else 1.0) for v in villages]
    total = sum(weights)
    quotas = [exit_target * w / total for w in weights]
    counts = [int(q) for q in quotas]
    order = sorted(range(len(villages)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: exit_target - sum(counts)]:
        counts[i] += 1
    for v, n_exit in zip(villages, counts):
        v.n_exit = n_exit
        share = draw.uniform(0.25, 0.40) if "V-INCIDENCE" in v.fix else draw.uniform(0.04, 0.20)
        v.n_cancelled = draw.weighted(Weighted([(0, 6), (1, 3), (2, 1)]))
        v.n_remaining = min(round(share * v.n_households), v.n_households - n_exit - v.n_cancelled)
