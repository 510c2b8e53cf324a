"""The village register (村基本情况): base values and the village-level gaps on the village row."""
from __future__ import annotations

import math

from evalprep.template import sheets

from .draw import Draw, Weighted
from .edits import Edits, Gap, active_weeks
from .households import REMAINING, Register
from .layout import Village
from .names import INDUSTRIES, ORG_KINDS, Names
from .table import Table

VILLAGE_COLUMNS = [c.name for c in sheets()["villages"].columns] + ["_township_code"]
CARRIERS = Weighted([("电信、移动、联通", 30), ("移动、联通", 25), ("移动", 25), ("电信、移动", 15), ("联通", 5)])
PIPELINE_BACKLOG_KM = 300.0  # the speech: 300 km of pipeline to be split to the villages (whole county)
FULL_VILLAGES_NOMINAL = 300


def build_villages(d: Draw, names: Names, villages: list[Village], register: Register, edits: Edits,
                   gaps: list[Gap], incidence_max: float) -> Table:
    table = Table(VILLAGE_COLUMNS)
    hh = register.households
    people: dict[str, int] = {}
    remaining: dict[str, int] = {}
    for code, size, status in zip(hh["village_code"], hh["household_size"], hh["exit_status"]):
        people[code] = people.get(code, 0) + size
        if status in REMAINING:
            remaining[code] = remaining.get(code, 0) + size
    backlog_weights: dict[int, float] = {}
    for idx, v in enumerate(villages):
        reg, rem = people.get(v.code, 0), remaining.get(v.code, 0)
        if "V-INCIDENCE" in v.fix:
            pop = max(math.ceil(rem / d.uniform(0.04, 0.12)), reg + d.int(80, 400))
            pop = min(pop, math.floor(rem / (incidence_max + 0.005)))
            assert rem / pop >= incidence_max + 0.004 and pop > reg, (v.code, rem, pop, reg)
        else:
            pop = max(math.ceil(rem / d.uniform(0.008, incidence_max - 0.004)), math.ceil(reg * d.uniform(2.5, 5.0)))
            assert rem / pop <= incidence_max - 0.003, (v.code, rem, pop)
        coverage = 100.0
        if "V-WATER" in v.fix or d.chance(0.3):
            coverage = round(d.uniform(85.0, 99.5), 1)
            backlog_weights[idx] = d.uniform(0.5, 3.0) * (100 - coverage)
        org = None
        if d.chance(0.75):
            org = v.name[:-1] + d.pick(ORG_KINDS)
        else:
            org = f"旬阳县{d.pick(INDUSTRIES)}现代农业园区"
        table.append({
            "village_code": v.code, "village_name": v.name, "is_key_village": v.key,
            "planned_exit_year": v.planned_exit_year, "total_households": max(v.n_households, round(pop / d.uniform(3.0, 3.6))),
            "rural_population": pop,
            "has_paved_road": not ("V-ROAD" in v.fix or d.chance(0.15)),
            "power_full_coverage": not ("V-POWER" in v.fix or d.chance(0.2)),
            "telecom_carriers": d.weighted(CARRIERS), "safe_water_coverage": coverage, "pipeline_backlog_km": 0.0,
            "has_clinic": True, "has_culture_venue": True, "industry_org": org, "industry_subsidy": True,
            "collective_income": 0 if d.chance(0.2) else d.int(20, 800) * 100,
            "first_secretary": names.person(), "team_leader": names.person(), "village_cadre": names.person(),
            "contact_phone": names.mobile(), "_township_code": v.township_code,
        })
        _village_row_gaps(d, v, idx, table, edits, gaps, rem / pop)
    total_km = PIPELINE_BACKLOG_KM * (1.0 if len(villages) > 100 else len(villages) / FULL_VILLAGES_NOMINAL)
    for idx, km in _split_tenths(total_km, backlog_weights).items():
        table.set(idx, "pipeline_backlog_km", km)
    return table


def _village_row_gaps(d: Draw, v: Village, idx: int, table: Table, edits: Edits, gaps: list[Gap], incidence: float) -> None:
    def gap(code: str, column: str, value: object, written: object = None) -> None:
        weeks = active_weeks(v.fix[code])
        edits.same("villages", idx, column, weeks, value)
        gaps.append(Gap("criterion", code, v.township_code, v.code, v.fix[code],
                        {w: ("villages", idx, column) for w in weeks},
                        value={w: (value if written is None else written) for w in weeks}))

    if "V-TELECOM" in v.fix:
        gap("V-TELECOM", "telecom_carriers", "无")
    if "V-CLINIC" in v.fix:
        gap("V-CLINIC", "has_clinic", False)
    if "V-CULTURE" in v.fix:
        gap("V-CULTURE", "has_culture_venue", False)
    if "V-INDUSTRY" in v.fix:
        if d.chance(0.5):
            gap("V-INDUSTRY", "industry_org", "无")
        else:
            gap("V-INDUSTRY", "industry_subsidy", False)
    if "V-INCIDENCE" in v.fix:
        weeks = active_weeks(v.fix["V-INCIDENCE"])
        gaps.append(Gap("criterion", "V-INCIDENCE", v.township_code, v.code, v.fix["V-INCIDENCE"],
                        {w: ("villages", idx, "rural_population") for w in weeks},
                        value={w: round(incidence, 6) for w in weeks}))


def _split_tenths(total: float, weights: dict[int, float]) -> dict[int, float]:
    """Split `total` km into tenths proportionally (largest remainder), so the parts add up exactly."""
    if not weights:
        return {}
    units = round(total * 10)
    s = sum(weights.values())
    quotas = {k: units * w / s for k, w in weights.items()}
    parts = {k: int(q) for k, q in quotas.items()}
    for k in sorted(quotas, key=lambda k: (-(quotas[k] - parts[k]), k))[: units - sum(parts.values())]:
        parts[k] += 1
    return {k: p / 10 for k, p in parts.items()}
