"""满意度调查: 20–40 interviews per village, re-asked every week; answers improve week by week."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from evalprep.template import sheets

from .draw import Draw, Weighted
from .edits import WEEK_NUMBERS, Gap
from .households import COHORT, Register
from .layout import Village
from .names import Names
from .table import Table
from .weeks import NEVER, monday, number

SURVEY_COLUMNS = [c.name for c in sheets()["surveys"].columns] + ["_township_code"]


@dataclass
class Respondent:
    survey_id: str
    village_code: str
    township_code: str
    household_id: str | None
    in_cohort: bool
    weekday: int
    surveyor: str
    unknown: bool  # answers 不了解 every week
    yes_kind: str  # 满意 or 基本满意, once satisfied
    rank: int  # respondents with rank < k(week) are satisfied in that week


class Surveys:
    def __init__(self, d: Draw, names: Names, villages: list[Village], register: Register, fail_below: float,
                 excellent_from: float):
        self.fail_below, self.excellent_from = fail_below, excellent_from
        hh = register.households
        by_village: dict[str, list[int]] = {}
        for i, (code, status) in enumerate(zip(hh["village_code"], hh["exit_status"])):
            if status != "注销":
                by_village.setdefault(code, []).append(i)
        surveyors = {}
        self.respondents: list[Respondent] = []
        self.yes: dict[str, dict[int, int]] = {}  # village → week → satisfied count
        self.answers: dict[str, int] = {}  # village → answers other than 不了解
        for v in villages:
            if v.township_code not in surveyors:
                surveyors[v.township_code] = [names.person() for _ in range(3)]
            n = d.int(20, 40)
            n_unknown = d.weighted(Weighted([(0, 5), (1, 3), (2, 1.5), (3, 0.5)]))
            poor = d.sample(by_village[v.code], round(n * d.uniform(0.5, 0.7)))
            kinds = [True] * len(poor) + [False] * (n - len(poor))
            unknown = set(d.sample(range(n), n_unknown))
            m = n - n_unknown
            ranks = iter(d.shuffled(range(m)))
            poor_iter = iter(poor)
            rows = []
            for seq, is_poor in enumerate(d.shuffled(kinds), start=1):
                h = next(poor_iter) if is_poor else None
                rows.append(Respondent(
                    survey_id=f"{v.code}{seq:03d}", village_code=v.code, township_code=v.township_code,
                    household_id=hh.get(h, "household_id") if h is not None else None,
                    in_cohort=h is not None and hh.get(h, "exit_status") in COHORT, weekday=d.int(0, 5),
                    surveyor=d.pick(surveyors[v.township_code]), unknown=(seq - 1) in unknown,
                    yes_kind="满意" if d.chance(0.6) else "基本满意", rank=-1 if (seq - 1) in unknown else next(ranks)))
            self.respondents.extend(rows)
            self.answers[v.code] = m
            self.yes[v.code] = self._counts(v, m)

    def _counts(self, v: Village, m: int) -> dict[int, int]:
        """Satisfied answers per week: monotone, never exactly on a threshold; W39 in the planned band."""
        lo, hi = self.fail_below, self.excellent_from
        target = v.sat_target[WEEK_NUMBERS[-1]]
        band = "fail" if v.fix.get("V-SATISFACTION") == NEVER else ("excellent" if target >= hi else "pass")
        inside = {"fail": lambda k: k / m < lo, "pass": lambda k: lo < k / m < hi, "excellent": lambda k: k / m > hi}[band]
        k = round(target * m)
        while not inside(k):
            k += 1 if band != "fail" and k / m <= (lo if band == "pass" else hi) else -1
        counts = {WEEK_NUMBERS[-1]: k}
        for w in reversed(WEEK_NUMBERS[:-1]):
            kw = min(round(v.sat_target[w] * m), counts[w + 1])
            while kw > 0 and (kw * 100 == round(lo * 100) * m or kw * 100 == round(hi * 100) * m):
                kw -= 1  # never exactly on 80% or 90%
            counts[w] = kw
        return counts

    def rate(self, village_code: str, week: int) -> float:
        return self.yes[village_code][week] / self.answers[village_code]

    def table(self, week: str) -> Table:
        w = number(week)
        start = monday(week)
        t = Table(SURVEY_COLUMNS)
        for r in self.respondents:
            k = self.yes[r.village_code][w]
            answer = "不了解" if r.unknown else (r.yes_kind if r.rank < k else "不满意")
            if r.in_cohort:
                recognised = "认可" if answer in ("满意", "基本满意") else "不认可"
            else:
                recognised = "不适用"
            t.append({
                "survey_id": r.survey_id, "village_code": r.village_code, "surveyed_on": start + dt.timedelta(days=r.weekday),
                "respondent_type": "贫困户" if r.household_id else "非贫困户", "household_id": r.household_id,
                "satisfaction": answer, "exit_recognised": recognised, "surveyor": r.surveyor,
                "_township_code": r.township_code,
            })
        return t

    def gaps(self, villages: list[Village]) -> list[Gap]:
        """V-SATISFACTION below the accountability line, week by week (located at the village's first row)."""
        first_row: dict[str, int] = {}
        for i, r in enumerate(self.respondents):
            first_row.setdefault(r.village_code, i)
        out = []
        for v in villages:
            weeks = [w for w in WEEK_NUMBERS if self.rate(v.code, w) < self.fail_below]
            if not weeks:
                continue
            fix = next((w for w in WEEK_NUMBERS if w > max(weeks)), NEVER)
            out.append(Gap("criterion", "V-SATISFACTION", v.township_code, v.code, fix,
                           {w: ("surveys", first_row[v.code], "satisfaction") for w in weeks},
                           value={w: round(self.rate(v.code, w), 6) for w in weeks}))
        return out

