"""The poverty register: households (贫困户) and their members (家庭成员), as of the last week.

Every household of the exit cohort (预脱贫 / 已脱贫) is generated passing every household criterion;
the injected gaps (gaps.py) are what makes some of them fail in some weeks. Remaining poor households
(新识别 / 未脱贫 / 返贫) are generated as poor households are: many below the line, some unsafe houses,
missing certificates — they fail naturally and that is not a defect.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from evalprep import idcard
from evalprep.template import sheets

from .draw import Draw, Weighted
from .layout import Village
from .names import CERTIFICATES, EMPLOYMENTS, HELPER_UNITS, INDUSTRIES, SITE_SUFFIX, Names
from .table import Table
from .weeks import WEEKS, as_of

REGION = "610928"
REF = dt.date(2016, 9, 25)  # ages are drawn for this date; no boundary birthday falls near any as-of date
COHORT = ("预脱贫", "已脱贫")
REMAINING = ("新识别", "未脱贫", "返贫")
LABOUR = ("普通劳动力", "技能劳动力", "弱劳动力")
SAFE_SOLUTIONS = ("危房改造", "易地扶贫搬迁(集中安置)", "易地扶贫搬迁(分散安置)", "交钥匙工程")

HOUSEHOLD_COLUMNS = [c.name for c in sheets()["households"].columns]
MEMBER_COLUMNS = [c.name for c in sheets()["members"].columns]
# internal columns (never written): township, group, member row range, labour flags, ages
H_EXTRA = ["_township_code", "_group", "_first", "_n", "_has_labour"]
M_EXTRA = ["_township_code", "_hh", "_age", "_labour"]

SIZES = Weighted([(1, 12), (2, 20), (3, 24), (4, 23), (5, 13), (6, 6), (7, 2)])
CAUSES = Weighted([("因病", 25), ("缺技术", 15), ("缺资金", 15), ("缺劳力", 10), ("因残", 8), ("因学", 7),
                   ("交通条件落后", 6), ("缺土地", 4), ("因灾", 4), ("缺水", 3), ("自身发展动力不足", 3)])
SOLUTIONS = Weighted([("危房改造", 50), ("易地扶贫搬迁(集中安置)", 25), ("易地扶贫搬迁(分散安置)", 15), ("交钥匙工程", 10)])


@dataclass
class Register:
    households: Table
    members: Table
    sites: dict[str, list[str]]  # township code → resettlement site names


class RegisterMaker:
    def __init__(self, draw: Draw, names: Names, edu_min_age: int, edu_max_age: int, evaluation_date: dt.date):
        self.d = draw
        self.names = names
        self.boundaries = (edu_min_age, edu_max_age + 1)
        dates = [as_of(w) for w in WEEKS]
        week = dt.timedelta(days=7)
        self.windows = ((min(dates) - week, max(dates) + week), (evaluation_date - week, evaluation_date + week))
        self.ids: set[str] = set()
        self.cert_serial = 0

    # ---- people ---------------------------------------------------------------------------------------
    def birth(self, age: int) -> dt.date:
        """A birth date giving `age` on REF, with no 6th/16th birthday within a week of any as-of date."""
        start = dt.date(REF.year - age - 1, REF.month, REF.day) + dt.timedelta(days=1)
        span = (dt.date(REF.year - age, REF.month, REF.day) - start).days + 1
        while True:
            born = start + dt.timedelta(days=self.d.int(0, span - 1))
            if not self._near_boundary(born):
                return born

    def _near_boundary(self, born: dt.date) -> bool:
        for years in self.boundaries:
            try:
                birthday = born.replace(year=born.year + years)
            except ValueError:  # 29 February
                birthday = dt.date(born.year + years, 3, 1)
            if any(lo <= birthday <= hi for lo, hi in self.windows):
                return True
        return False

    def id_number(self, born: dt.date, sex: str) -> str:
        while True:
            seq = 2 * self.d.int(0, 499) + 1 if sex == "男" else 2 * self.d.int(1, 499)
            number = idcard.make(REGION, born, seq)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def compose(self, size: int, single_elderly: bool) -> list[tuple[str, str, int]]:
        """(relation, sex, age) of each member, head first; children younger than their parents."""
        d = self.d
        if size == 1:
            age = d.int(60, 88) if single_elderly else d.int(38, 75)
            return [("户主", "男" if d.chance(0.75) else "女", age)]
        head_sex = "男" if d.chance(0.86) else "女"
        head_age = d.int(28, 80)
        people = [("户主", head_sex, head_age)]
        parent_ages = [head_age]
        if d.chance(0.9) or size >= 4:
            spouse_age = max(22, head_age - d.int(-2, 6) if head_sex == "男" else head_age + d.int(-2, 6))
            people.append(("配偶", "女" if head_sex == "男" else "男", spouse_age))
            parent_ages.append(spouse_age)
        slots = size - len(people)
        youngest_parent = min(parent_ages)
        if head_age >= 58 and slots >= 2 and d.chance(0.65):
            son_age = max(24, min(youngest_parent - 21, youngest_parent - d.int(21, 32)))
            people.append(("之子", "男", son_age))
            slots -= 1
            if slots and d.chance(0.85):
                people.append(("之儿媳", "女", max(21, son_age + d.int(-4, 3))))
                slots -= 1
            for _ in range(slots):
                sex = "男" if d.chance(0.52) else "女"
                people.append(("之孙子" if sex == "男" else "之孙女", sex, d.int(0, max(0, son_age - 21))))
            return people
        if head_age <= 52 and slots >= 2 and d.chance(0.3):
            sex = "男" if d.chance(0.45) else "女"
            people.append(("之父" if sex == "男" else "之母", sex, min(95, head_age + d.int(22, 34))))
            slots -= 1
        for _ in range(slots):
            if d.chance(0.03):
                people.append(("之兄弟姐妹", d.pick(("男", "女")), max(18, head_age + d.int(-8, 8))))
                continue
            sex = "男" if d.chance(0.52) else "女"
            oldest = youngest_parent - 20
            age = max(0, oldest - d.int(0, 20)) if oldest >= 0 else 0
            people.append(("之子" if sex == "男" else "之女", sex, age))
        return people

    def schooling(self, age: int) -> str:
        d = self.d
        if age < 3:
            return "非在校生"
        if age < 6:
            return "学前教育" if d.chance(0.7) else "非在校生"
        if age == 6:
            return "小学" if d.chance(0.6) else "学前教育"
        if age <= 11:
            return "小学"
        if age == 12:
            return "初中" if d.chance(0.6) else "小学"
        if age <= 14:
            return "初中"
        if age == 15:
            return d.weighted(Weighted([("初中", 4), ("高中", 4), ("中职", 2)]))
        if age <= 18:
            return d.weighted(Weighted([("高中", 50), ("中职", 25), ("非在校生", 20), ("辍学", 5)]))
        if age <= 22:
            return d.weighted(Weighted([("高职高专", 15), ("本科及以上", 12), ("非在校生", 73)]))
        return "非在校生"

    @staticmethod
    def education_level(age: int, schooling: str, u: float) -> str:
        if age < 6:
            return "学龄前"
        level = {"学前教育": "学龄前", "小学": "小学", "初中": "初中", "高中": "高中", "中职": "中专",
                 "高职高专": "大专", "本科及以上": "本科"}.get(schooling)
        if level:
            return level
        if age < 16:
            return "小学" if age < 13 else "初中"
        if age >= 60:
            return "文盲或半文盲" if u < 0.45 else "小学" if u < 0.85 else "初中"
        if age >= 40:
            return "小学" if u < 0.4 else "初中" if u < 0.85 else "高中"
        return "初中" if u < 0.55 else "高中" if u < 0.85 else "中专" if u < 0.95 else "大专"

    def health(self, age: int) -> str:
        d = self.d
        p_chronic = 0.04 + 0.004 * max(0, age - 30)
        u = d.u()
        if u < p_chronic:
            return "长期慢性病"
        if u < p_chronic + 0.03:
            return "患有大病"
        if u < p_chronic + 0.08 and age >= 10:
            return "残疾"
        return "健康"

    def labour(self, age: int, schooling: str, health: str) -> str:
        d = self.d
        if age < 16 or schooling in ("高中", "中职", "高职高专", "本科及以上", "初中"):
            return "无劳动力"
        if health in ("患有大病", "残疾"):
            return "丧失劳动力" if d.chance(0.6) else "弱劳动力"
        if health == "长期慢性病":
            return "弱劳动力" if age < 70 else "丧失劳动力"
        if age >= 70:
            return "丧失劳动力" if d.chance(0.5) else "无劳动力"
        if age >= 60:
            return "弱劳动力" if d.chance(0.6) else "普通劳动力"
        return "技能劳动力" if d.chance(0.22) else "普通劳动力"

    def certificate(self) -> tuple[str, str]:
        self.cert_serial += 1
        year = self.d.pick((2014, 2015, 2016))
        return self.d.pick(CERTIFICATES), f"{year}6109{self.cert_serial:07d}"

    # ---- households -----------------------------------------------------------------------------------
    def build(self, villages: list[Village]) -> Register:
        d = self.d
        households = Table(HOUSEHOLD_COLUMNS + H_EXTRA)
        members = Table(MEMBER_COLUMNS + M_EXTRA)
        sites: dict[str, list[str]] = {}
        for v in villages:
            if v.township_code not in sites:
                place = self.names.surname() + d.pick(("家坪", "家湾", "家河", "家坝", "家营"))
                sites[v.township_code] = [f"{v.township_name}{place}{d.pick(SITE_SUFFIX)}",
                                          f"{v.township_name}{d.pick(('新区', '社区', '集镇'))}{d.pick(SITE_SUFFIX)}"]
            helpers = [(self.names.person(), self.names.mobile(), d.pick(HELPER_UNITS + (f"{v.township_name}人民政府",)))
                       for _ in range(max(2, math.ceil(v.n_households / 8)))]
            n_earlier = v.n_households - v.n_exit - v.n_remaining - v.n_cancelled
            groups = (["exit"] * v.n_exit + ["earlier"] * n_earlier + ["remaining"] * v.n_remaining
                      + ["cancelled"] * v.n_cancelled)
            for seq, group in enumerate(d.shuffled(groups), start=1):
                self._household(households, members, v, f"{v.code}{seq:04d}", group, helpers, sites[v.township_code])
        return Register(households=households, members=members, sites=sites)

    def _household(self, households: Table, members: Table, v: Village, hid: str, group: str, helpers, sites) -> None:
        d = self.d
        cohort = group in ("exit", "earlier")
        size = d.weighted(SIZES)
        people = self.compose(size, single_elderly=d.chance(0.7))
        cause = d.weighted(CAUSES)
        first = len(members)
        any_labour = False
        has_work = False
        surname = self.names.surname()
        rows = []
        for k, (relation, sex, age) in enumerate(people, start=1):
            if relation in ("户主", "之子", "之女", "之孙子", "之孙女", "之兄弟姐妹", "之父"):
                name = self.names.person(sex, surname)  # the family name (a female head's children keep hers)
            else:
                name = self.names.person(sex)
            born = self.birth(age)
            schooling = self.schooling(age)
            if not cohort and 6 <= age <= 15 and d.chance(0.015):
                schooling = "辍学"  # a remaining-poor household's dropout: natural, not an injected gap
            health = self.health(age)
            rows.append(dict(relation=relation, sex=sex, age=age, name=name, born=born, schooling=schooling, health=health))
        # the poverty cause shows in the family's health
        adults = [r for r in rows if r["age"] >= 18]
        if cause == "因病" and adults and not any(r["health"] in ("长期慢性病", "患有大病") for r in rows):
            d.pick(adults)["health"] = d.pick(("长期慢性病", "患有大病"))
        if cause == "因残" and not any(r["health"] == "残疾" for r in rows):
            d.pick(rows)["health"] = "残疾"
        for k, r in enumerate(rows, start=1):
            r["labour"] = self.labour(r["age"], r["schooling"], r["health"])
            is_labour = r["labour"] in LABOUR
            any_labour |= is_labour
            cert = cert_no = None
            if is_labour and (cohort or d.chance(0.45) or group == "cancelled"):
                cert, cert_no = self.certificate()
            work = months = None
            if is_labour:
                work = d.weighted(Weighted([("外出务工", 40), ("县内务工", 15), ("在家务农", 45)]))
                if work != "在家务农":
                    months = d.int(3, 12)
                    has_work = True
            elif r["schooling"] not in ("非在校生", "辍学") and r["age"] >= 6:
                work = "在校生"
            insured_ncms = True if cohort else d.chance(0.97)
            insured_critical = True if cohort else d.chance(0.94)
            members.append({
                "household_id": hid, "person_id": f"{hid}{k:02d}", "name": r["name"],
                "id_number": self.id_number(r["born"], r["sex"]), "sex": r["sex"], "relation": r["relation"],
                "ethnicity": "汉族" if d.chance(0.995) else d.pick(("回族", "土家族", "满族")),
                "education_level": self.education_level(r["age"], r["schooling"], d.u()),
                "schooling": r["schooling"], "health": r["health"], "labour_capacity": r["labour"],
                "skill_certificate": cert, "skill_certificate_no": cert_no,
                "insured_ncms": insured_ncms, "insured_critical": insured_critical,
                "work_status": work, "work_months": months,
                "_township_code": v.township_code, "_hh": len(households), "_age": r["age"], "_labour": is_labour,
            })
        member_cols = members.cols
        # status, years
        if group == "exit":
            status, identified, planned = ("预脱贫" if d.chance(0.88) else "已脱贫"), (2014 if d.chance(0.8) else 2015), 2016
        elif group == "earlier":
            planned = 2014 if d.chance(0.45) else 2015
            status, identified = "已脱贫", (2014 if planned == 2014 or d.chance(0.6) else 2015)
        elif group == "remaining":
            status = d.weighted(Weighted([("未脱贫", 85), ("新识别", 11), ("返贫", 4)]))
            if status == "新识别":
                identified, planned = 2016, d.pick((2017, 2018))
            elif status == "返贫":
                identified, planned = 2014, 2017
            else:
                identified, planned = (2014 if d.chance(0.75) else 2015), d.weighted(Weighted([(2017, 45), (2018, 35), (2019, 20)]))
        else:
            status, identified, planned = "注销", (2014 if d.chance(0.7) else 2015), None
        # household type and livelihood
        if not any_labour:
            kind = "五保贫困户" if size == 1 and people[0][2] >= 60 else "低保贫困户"
            if not cohort and d.chance(0.2):
                kind = "一般贫困户"
        else:
            kind = "低保贫困户" if d.chance(0.18) else "一般贫困户"
        industry = employment = None
        if any_labour:
            if has_work:
                employment = d.pick(EMPLOYMENTS)
            if d.chance(0.7 if cohort else 0.55) or (cohort and employment is None):
                industry = d.pick(INDUSTRIES)
        elif d.chance(0.3):
            industry = "光伏扶贫"
        # income: per-capita clear of the line (cohort), mostly under it (remaining poor)
        if cohort or group == "cancelled":
            pc = d.uniform(3050, 4200) if d.chance(0.6) else d.uniform(4200, 7500)
        else:
            pc = d.uniform(1500, 2900) if d.chance(0.85) else d.uniform(3050, 4200)
        income = split_income(d, math.ceil(pc * size), welfare=kind != "一般贫困户", working=has_work)
        # housing
        safety, solution, progress, site = "安全", "无需", None, None
        if cohort:
            if d.chance(0.18):
                safety, solution = d.pick(("C级危房", "D级危房")), d.weighted(SOLUTIONS)
                progress = d.pick(("已竣工", "已入住"))
        elif d.chance(0.4):
            safety = d.pick(("C级危房", "D级危房"))
            solution = "未确定" if d.chance(0.35) else d.weighted(SOLUTIONS)
            progress = None if solution == "未确定" else d.pick(("未开工", "在建", "已竣工"))
        if solution == "易地扶贫搬迁(集中安置)":
            site = d.pick(sites)
        helper = d.pick(helpers)
        households.append({
            "household_id": hid, "township_name": v.township_name, "village_name": v.name, "village_code": v.code,
            "head_name": member_cols["name"][first], "head_id_number": member_cols["id_number"][first], "household_size": size,
            "household_type": kind, "exit_status": status, "identified_year": identified,
            "planned_exit_year": planned, "poverty_cause": cause, **income,
            "income_per_capita": per_capita(income["net_income"], size),
            "housing_safety": safety, "housing_solution": solution, "housing_progress": progress,
            "resettlement_site": site, "safe_water": True if cohort else d.chance(0.9),
            "has_power": True if d.chance(0.995) else False, "industry_support": industry, "employment": employment,
            "helper_name": helper[0], "helper_phone": helper[1], "helper_unit": helper[2],
            "_township_code": v.township_code, "_group": group, "_first": first, "_n": size, "_has_labour": any_labour,
        })


def split_income(d: Draw, net: int, welfare: bool, working: bool) -> dict[str, float]:
    """Income components (whole 元) adding up to the net income; per-capita rounded to 2 decimals by caller."""
    transfer = int(net * (d.uniform(0.3, 0.65) if welfare else d.uniform(0.05, 0.25)))
    prop = int(net * d.uniform(0.0, 0.05))
    rest = net - transfer - prop
    wage = int(rest * (d.uniform(0.45, 0.85) if working else d.uniform(0.0, 0.2)))
    business = rest - wage
    return {"net_income": net, "income_wage": wage, "income_business": business, "income_property": prop,
            "income_transfer": transfer}


def per_capita(net: float, size: int) -> float:
    return round(net / size, 2)
