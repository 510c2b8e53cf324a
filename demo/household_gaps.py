"""Household-level gaps in the exit cohort (H-*), and the ID-number data-quality defects."""
from __future__ import annotations

import math

from evalprep import idcard

from .draw import Draw, Weighted
from .edits import Edits, Gap, active_weeks
from .households import SOLUTIONS, Register, per_capita
from .layout import Village
from .weeks import NEVER

HOUSEHOLD_CODES = ("H-INCOME", "H-HOUSING", "H-WATER", "H-EDU", "H-MEDICAL", "H-SKILL", "H-LIVELIHOOD")
HOUSING_STAGES = (("未确定", None), (None, "未开工"), (None, "在建"))  # (solution override, progress)


class HouseholdGaps:
    def __init__(self, d: Draw, register: Register, edits: Edits, gaps: list[Gap]):
        self.d, self.reg, self.edits, self.gaps = d, register, edits, gaps
        hh = register.households
        self.by_village: dict[str, list[int]] = {}
        for i, (code, group) in enumerate(zip(hh["village_code"], hh["_group"])):
            if group in ("exit", "earlier"):
                self.by_village.setdefault(code, []).append(i)
        self.touched_members: set[int] = set()
        self.touched_households: set[int] = set()

    def inject(self, villages: list[Village]) -> None:
        for v in villages:
            for code in HOUSEHOLD_CODES:
                if code in v.fix:
                    getattr(self, "_" + code[2:].lower())(v, v.fix[code])

    # ---- helpers ----------------------------------------------------------------------------------------
    def _pick(self, v: Village, n: int, eligible=lambda i: True) -> list[int]:
        """n cohort households of the village, mostly from this year's exits."""
        hh = self.reg.households
        pool = [i for i in self.by_village.get(v.code, []) if eligible(i)]
        this_year = [i for i in pool if hh.get(i, "_group") == "exit"]
        earlier = [i for i in pool if hh.get(i, "_group") == "earlier"]
        chosen = []
        for _ in range(min(n, len(pool))):
            source = this_year if (this_year and (not earlier or self.d.chance(0.75))) else earlier
            i = source.pop(int(self.d.u() * len(source)))
            chosen.append(i)
        return sorted(chosen)

    def _members(self, h: int) -> range:
        hh = self.reg.households
        first = hh.get(h, "_first")
        return range(first, first + hh.get(h, "_n"))

    def _gap(self, v: Village, code: str, fix: int, table: str, idx: int, column, h: int, m: int | None = None, value=None):
        hh, mm = self.reg.households, self.reg.members
        weeks = active_weeks(fix)
        where = {w: (table, idx, column(w) if callable(column) else column) for w in weeks}
        self.gaps.append(Gap("criterion", code, v.township_code, v.code, fix, where,
                             household_id=hh.get(h, "household_id"),
                             person_id=mm.get(m, "person_id") if m is not None else None, value=value or {}))
        self.touched_households.add(h)
        if m is not None:
            self.touched_members.add(m)

    # ---- criteria -----------------------------------------------------------------------------------------
    def _income(self, v: Village, fix: int) -> None:
        hh, d = self.reg.households, self.d
        for h in self._pick(v, d.int(1, 3)):
            size = hh.get(h, "household_size")
            net = hh.get(h, "net_income")
            target = math.floor(d.uniform(2300, 2900) * size)
            cut = net - target
            parts = {c: hh.get(h, c) for c in ("income_business", "income_wage", "income_transfer", "income_property")}
            for column in parts:
                take = min(cut, parts[column])
                parts[column] -= take
                cut -= take
            weeks = active_weeks(fix)  # the components add up to the net income (cut is 0 here)
            for column, value in parts.items():
                self.edits.same("households", h, column, weeks, value)
            self.edits.same("households", h, "net_income", weeks, target)
            pc = per_capita(target, size)
            self.edits.same("households", h, "income_per_capita", weeks, pc)
            self._gap(v, "H-INCOME", fix, "households", h, "income_per_capita", h, value={w: pc for w in weeks})

    def _housing(self, v: Village, fix: int) -> None:
        hh, d = self.reg.households, self.d
        n = d.int(2, 8) if fix == NEVER else d.int(1, 5)
        for h in self._pick(v, n):
            # the fixed (final) state: an unsafe house with a solution decided and completed
            solution = d.weighted(SOLUTIONS)
            hh.set(h, "housing_safety", d.pick(("C级危房", "D级危房")))
            hh.set(h, "housing_solution", solution)
            hh.set(h, "housing_progress", d.pick(("已竣工", "已入住")))
            site = d.pick(self.reg.sites[v.township_code]) if solution == "易地扶贫搬迁(集中安置)" else None
            hh.set(h, "resettlement_site", site)
            weeks = active_weeks(fix)
            if fix == NEVER:
                start = d.int(0, 1)
                end = d.int(start, 2)
                stages = {w: start + round((end - start) * (w - weeks[0]) / (len(weeks) - 1)) for w in weeks}
            else:
                stages = {w: max(0, 2 - (fix - 1 - w)) for w in weeks}
            for w, stage in stages.items():
                override, progress = HOUSING_STAGES[stage]
                self.edits.set("households", h, "housing_progress", {w: progress})
                if override:
                    self.edits.set("households", h, "housing_solution", {w: override})
                    self.edits.set("households", h, "resettlement_site", {w: None})
            self._gap(v, "H-HOUSING", fix, "households", h,
                      lambda w: "housing_solution" if stages[w] == 0 else "housing_progress", h,
                      value={w: HOUSING_STAGES[s][0] or HOUSING_STAGES[s][1] for w, s in stages.items()})

    def _water(self, v: Village, fix: int) -> None:
        for h in self._pick(v, self.d.int(1, 3)):
            self.edits.same("households", h, "safe_water", active_weeks(fix), False)
            self._gap(v, "H-WATER", fix, "households", h, "safe_water", h)

    def _edu(self, v: Village, fix: int) -> None:
        mm = self.reg.members

        def school_age(h: int) -> list[int]:
            return [m for m in self._members(h) if 7 <= mm.get(m, "_age") <= 14]

        for h in self._pick(v, self.d.int(1, 2), lambda h: bool(school_age(h))):
            m = self.d.pick(school_age(h))
            self.edits.same("members", m, "schooling", active_weeks(fix), "辍学")
            self.edits.same("members", m, "work_status", active_weeks(fix), None)  # no longer 在校生
            self._gap(v, "H-EDU", fix, "members", m, "schooling", h, m)

    def _medical(self, v: Village, fix: int) -> None:
        for h in self._pick(v, self.d.int(1, 3)):
            m = self.d.pick(self._members(h))
            column = "insured_critical" if self.d.chance(0.7) else "insured_ncms"
            self.edits.same("members", m, column, active_weeks(fix), False)
            self._gap(v, "H-MEDICAL", fix, "members", m, column, h, m)

    def _skill(self, v: Village, fix: int) -> None:
        mm = self.reg.members

        def labour(h: int) -> list[int]:
            return [m for m in self._members(h) if mm.get(m, "_labour")]

        for h in self._pick(v, self.d.int(1, 4), lambda h: bool(labour(h))):
            m = self.d.pick(labour(h))
            weeks = active_weeks(fix)
            self.edits.same("members", m, "skill_certificate_no", weeks, None)
            if self.d.chance(0.4):
                self.edits.same("members", m, "skill_certificate", weeks, None)
            self._gap(v, "H-SKILL", fix, "members", m, "skill_certificate_no", h, m)

    def _livelihood(self, v: Village, fix: int) -> None:
        hh = self.reg.households
        for h in self._pick(v, self.d.int(1, 2)):
            weeks = active_weeks(fix)
            if hh.get(h, "_has_labour"):
                self.edits.same("households", h, "industry_support", weeks, "无" if self.d.chance(0.6) else None)
                self.edits.same("households", h, "employment", weeks, None)
                self._gap(v, "H-LIVELIHOOD", fix, "households", h, "industry_support", h)
            else:  # no labour and not yet covered by 低保/五保
                self.edits.same("households", h, "household_type", weeks, "一般贫困户")
                self._gap(v, "H-LIVELIHOOD", fix, "households", h, "household_type", h)


def inject_id_defects(d: Draw, register: Register, edits: Edits, gaps: list[Gap], avoid_households: set[int],
                      share: float = 0.001) -> None:
    """A handful of ID numbers with a wrong check character (birth date intact), fixed in some later week."""
    hh, mm = register.households, register.members
    n = max(3, round(share * len(mm)))
    pool = [m for m in range(len(mm)) if mm.get(m, "_hh") not in avoid_households
            and hh.get(mm.get(m, "_hh"), "_group") != "cancelled"]
    fixes = Weighted([(37, 1), (38, 1), (39, 1), (NEVER, 3)])
    for m in sorted(d.sample(pool, n)):
        good = mm.get(m, "id_number")
        wrong = good[:17] + d.pick([c for c in idcard.CHECK_CHARS if c != good[17]])
        fix = d.weighted(fixes)
        weeks = active_weeks(fix)
        h = mm.get(m, "_hh")
        edits.same("members", m, "id_number", weeks, wrong)
        common = dict(household_id=hh.get(h, "household_id"), person_id=mm.get(m, "person_id"),
                      value={w: wrong for w in weeks})
        gaps.append(Gap("id_check_digit", "DQ-ID-CHECK", hh.get(h, "_township_code"), hh.get(h, "village_code"), fix,
                        {w: ("members", m, "id_number") for w in weeks}, **common))
        if mm.get(m, "relation") == "户主":  # the head's number is copied onto the household row as well
            edits.same("households", h, "head_id_number", weeks, wrong)
            gaps.append(Gap("id_check_digit", "DQ-ID-CHECK", hh.get(h, "_township_code"), hh.get(h, "village_code"),
                            fix, {w: ("households", h, "head_id_number") for w in weeks}, **common))

