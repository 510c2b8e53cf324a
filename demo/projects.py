"""双七项目: a few projects per village, and the project-side gaps (V-ROAD, V-POWER, V-WATER, P-OWNER)."""
from __future__ import annotations

import datetime as dt

from evalprep.template import sheets
from expectations.catalogue import raw_catalogue

from .draw import Draw, Weighted
from .edits import WEEK_NUMBERS, Edits, Gap, active_weeks
from .layout import Village
from .names import INDUSTRIES, Names
from .table import Table
from .weeks import NEVER

PROJECT_COLUMNS = [c.name for c in sheets()["projects"].columns] + ["_township_code", "_from"]
APPROVAL = Weighted([("已批复", 75), ("已申报", 18), ("未申报", 7)])
BUILD = Weighted([("未开工", 15), ("在建", 55), ("已完工", 20), ("已验收", 10)])
STARTED = tuple(raw_catalogue()["criteria"]["V-POWER"]["started_build_statuses"])
STARTED_PROGRESS = 20  # a power project started this autumn, no draw (keeps the seeded stream as it was)
INVESTMENT = {"V-ROAD": (80, 900), "V-POWER": (30, 300), "V-WATER": (20, 260), "V-INDUSTRY": (10, 200),
              "H-HOUSING": (100, 1500), "V-CLINIC": (8, 40), "V-CULTURE": (10, 60), "V-TELECOM": (15, 80)}


def _name(code: str, village: str, d: Draw, upgrade: bool) -> str:
    v = village
    return {
        "V-ROAD": f"{v}产业路建设工程" if upgrade else f"{v}通村公路硬化工程",
        "V-POWER": f"{v}农网改造升级工程",
        "V-WATER": f"{v}安全饮水巩固提升工程",
        "V-INDUSTRY": f"{v}{d.pick(INDUSTRIES)}产业基地建设",
        "H-HOUSING": d.pick((f"{v}易地扶贫搬迁安置房建设", f"{v}危房改造工程")),
        "V-CLINIC": f"{v}标准化卫生室建设",
        "V-CULTURE": f"{v}文化活动场所建设",
        "V-TELECOM": f"{v}4G基站建设",
    }[code]


class ProjectMaker:
    def __init__(self, d: Draw, names: Names, departments: dict[str, tuple[str, ...]], edits: Edits, gaps: list[Gap]):
        self.d, self.names, self.departments, self.edits, self.gaps = d, names, departments, edits, gaps
        self.table = Table(PROJECT_COLUMNS)

    def build(self, villages: list[Village], village_table: Table) -> Table:
        for vidx, v in enumerate(villages):
            self._village(v, vidx, village_table)
        return self.table

    def _add(self, v: Village, k: int, code: str, *, upgrade: bool = False, approved: bool = False,
             from_week: int = WEEK_NUMBERS[0]) -> int:
        d = self.d
        approval = "已批复" if approved else d.weighted(APPROVAL)
        build = d.weighted(BUILD) if approval == "已批复" else "未开工"
        planned = None
        if approval == "已批复" or d.chance(0.5):
            planned = dt.date(2016, 10, 10) + dt.timedelta(days=d.int(0, 76))
        progress = {"未开工": 0, "在建": d.int(15, 85), "已完工": 100, "已验收": 100}[build]
        lo, hi = INVESTMENT[code]
        idx = self.table.append({
            "project_id": f"SQ{v.code}{k:02d}", "project_name": _name(code, v.name, d, upgrade),
            "village_code": v.code, "criterion_code": code, "department": d.pick(self.departments[code]),
            "lead": self.names.person(), "responsible_person": self.names.person(),
            "approval_status": approval, "build_status": build, "planned_completion": planned,
            "investment_10k_yuan": round(d.uniform(lo, hi), 1), "progress_pct": progress,
            "_township_code": v.township_code, "_from": from_week,
        })
        if build == "在建":  # progress advances week by week
            step = d.int(3, 8)
            self.edits.set("projects", idx, "progress_pct",
                           {w: max(5, progress - step * (WEEK_NUMBERS[-1] - w)) for w in WEEK_NUMBERS[:-1]})
        return idx

    def _village(self, v: Village, vidx: int, villages: Table) -> None:
        d, edits = self.d, self.edits
        k = 0
        added: list[int] = []

        def nxt() -> int:
            nonlocal k
            k += 1
            return k

        def gap(code: str, where: dict[int, tuple[str, int, str]], project_idx: int | None, value=None) -> None:
            pid = self.table.get(project_idx, "project_id") if project_idx is not None else None
            self.gaps.append(Gap("criterion", code, v.township_code, v.code, v.fix[code], where, project_id=pid,
                                 value=value or {}))

        # roads: a village without a paved road passes only with an approved road project
        if not villages.get(vidx, "has_paved_road"):
            fix = v.fix.get("V-ROAD")
            weeks = active_weeks(fix) if fix else ()
            if fix and (fix == NEVER and d.chance(0.3)):
                gap("V-ROAD", {w: ("villages", vidx, "has_paved_road") for w in weeks}, None)
            else:
                idx = self._add(v, nxt(), "V-ROAD", approved=True)
                added.append(idx)
                if fix:
                    status = d.pick(("已申报", "未申报"))
                    edits.same("projects", idx, "approval_status", weeks, status)
                    edits.same("projects", idx, "build_status", weeks, "未开工")
                    edits.same("projects", idx, "progress_pct", weeks, 0)
                    gap("V-ROAD", {w: ("projects", idx, "approval_status") for w in weeks}, idx,
                        {w: status for w in weeks})
        elif d.chance(0.3):
            added.append(self._add(v, nxt(), "V-ROAD", upgrade=True))
        # power: no project, no pass — and "项目不启动，考核是不可能通过的": the project standing in is started
        if not villages.get(vidx, "power_full_coverage"):
            fix = v.fix.get("V-POWER")
            if fix:
                gap("V-POWER", {w: ("villages", vidx, "power_full_coverage") for w in active_weeks(fix)}, None)
            if fix != NEVER:
                idx = self._add(v, nxt(), "V-POWER", approved=d.chance(0.7), from_week=fix or WEEK_NUMBERS[0])
                if self.table.get(idx, "build_status") not in STARTED:
                    for column, value in (("approval_status", "已批复"), ("build_status", STARTED[0]),
                                          ("progress_pct", STARTED_PROGRESS)):
                        self.table.set(idx, column, value)
                added.append(idx)
        elif d.chance(0.2):
            added.append(self._add(v, nxt(), "V-POWER"))
        # water: below 100% coverage needs an approved project with a completion date
        if villages.get(vidx, "safe_water_coverage") < 100:
            fix = v.fix.get("V-WATER")
            weeks = active_weeks(fix) if fix else ()
            variant = d.weighted(Weighted([("unapproved", 6), ("nodate", 2), ("absent", 2)])) if fix else None
            if variant == "absent" and fix == NEVER:
                gap("V-WATER", {w: ("villages", vidx, "safe_water_coverage") for w in weeks}, None)
            elif variant == "absent":
                gap("V-WATER", {w: ("villages", vidx, "safe_water_coverage") for w in weeks}, None)
                added.append(self._add(v, nxt(), "V-WATER", approved=True, from_week=fix))
            else:
                idx = self._add(v, nxt(), "V-WATER", approved=True)
                added.append(idx)
                if variant == "unapproved":
                    edits.same("projects", idx, "approval_status", weeks, "已申报")
                    edits.same("projects", idx, "build_status", weeks, "未开工")
                    edits.same("projects", idx, "progress_pct", weeks, 0)
                    edits.same("projects", idx, "planned_completion", weeks, None)
                    gap("V-WATER", {w: ("projects", idx, "approval_status") for w in weeks}, idx)
                elif variant == "nodate":
                    edits.same("projects", idx, "planned_completion", weeks, None)
                    gap("V-WATER", {w: ("projects", idx, "planned_completion") for w in weeks}, idx)
        if d.chance(0.5) or v.key:
            added.append(self._add(v, nxt(), "V-INDUSTRY"))
        if d.chance(0.15):
            added.append(self._add(v, nxt(), "H-HOUSING"))
        for code in ("V-CLINIC", "V-CULTURE", "V-TELECOM"):
            fix = v.fix.get(code)
            if (fix and fix != NEVER) or (code != "V-TELECOM" and d.chance(0.06)):
                added.append(self._add(v, nxt(), code, approved=bool(fix)))
        if not added:
            added.append(self._add(v, nxt(), "V-INDUSTRY"))
        # P-OWNER: projects without a department, a lead or a responsible person
        fix = v.fix.get("P-OWNER")
        if fix:
            weeks = active_weeks(fix)
            always = [i for i in added if self.table.get(i, "_from") == WEEK_NUMBERS[0]]
            if not always:
                always.append(self._add(v, nxt(), "V-INDUSTRY"))
            for idx in d.sample(always, d.weighted(Weighted([(1, 6), (2, 3), (3, 1)]))):
                missing = [c for c in ("department", "lead", "responsible_person") if d.chance(0.5)] or ["responsible_person"]
                for column in missing:
                    edits.same("projects", idx, column, weeks, None)
                gap("P-OWNER", {w: ("projects", idx, missing[0]) for w in weeks}, idx)
