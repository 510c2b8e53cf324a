"""The deterministic demo county generator (demo): layout, determinism, data validity, truth."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml
from python_calamine import CalamineWorkbook

from evalprep import idcard
from demo import generate_demo
from evalprep.template import sheets
from expectations.catalogue import load_profile

WEEKS = ["2016-W36", "2016-W37", "2016-W38", "2016-W39"]
SHEET_ORDER = ["填报说明", "贫困户", "家庭成员", "村基本情况", "满意度调查", "双七项目"]
GRADES = ("未达标", "合格", "优秀")
PROFILE = load_profile("xunyang-2016")
VETO = {c.code for c in PROFILE.criteria if c.veto}
SAT = PROFILE.criterion("V-SATISFACTION").params
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def county(small_county, small_manifest):
    """The small demo county (seed 2016) of conftest.py, generated once per session; never modified here."""
    return small_county, small_manifest


@pytest.fixture(scope="module")
def books(county):
    """(week, file name) → {sheet name: list of row dicts keyed by header, with '_row' = Excel row}."""
    out, manifest = county
    result = {}
    for week in WEEKS:
        for rel in manifest["by_week"][week]["files"]:
            path = out / rel
            wb = CalamineWorkbook.from_path(str(path))
            sheets_ = {}
            for name in wb.sheet_names:
                rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
                header = rows[0]
                sheets_[name] = [dict(zip(header, r), _row=i) for i, r in enumerate(rows[1:], start=2)]
            result[(week, path.name)] = {"_order": wb.sheet_names, **sheets_}
    return result


def _all_files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


# ---- layout and determinism ---------------------------------------------------------------------------------


def test_output_layout(county):
    out, manifest = county
    townships = [line.split(",") for line in (REPO / "data/reference/townships.csv").read_text("utf-8").split()[1:3]]
    expected = {Path("manifest.json"), Path("reference/villages.csv"), Path("reference/townships.csv"),
                Path("reference/county.yaml"), Path("reference/contacts.csv")}
    for week in WEEKS:
        for code, name in townships:
            expected.add(Path("inbox") / week / f"{code}_{name}_{week}.xlsx")
    assert set(_all_files(out)) == expected
    listed = [line.split(",") for line in (out / "reference/townships.csv").read_text("utf-8").split()[1:]]
    assert listed == townships  # the small county's own townships only
    assert manifest["weeks"] == WEEKS and manifest["profile"] == "xunyang-2016" and manifest["small"] is True
    text = (out / "manifest.json").read_text("utf-8")
    assert "未达标" in text  # ensure_ascii=False
    county_facts = yaml.safe_load((out / "reference/county.yaml").read_text("utf-8"))
    assert county_facts["targets"][2016] == manifest["targets"]
    assert json.loads(text) == manifest


def test_same_seed_same_bytes_other_seed_differs(county, tmp_path):
    out, _ = county
    again = tmp_path / "again"
    generate_demo(again, seed=2016, small=True)
    files = _all_files(out)
    assert files == _all_files(again)
    for rel in files:
        assert (out / rel).read_bytes() == (again / rel).read_bytes(), rel
    generate_demo(again, seed=7, small=True)  # into the same folder: every file is replaced
    assert _all_files(again) == files
    assert (again / "manifest.json").read_bytes() != (out / "manifest.json").read_bytes()
    for rel in files:
        if rel.suffix == ".xlsx":
            assert (again / rel).read_bytes() != (out / rel).read_bytes(), rel


def test_workbooks_are_clean_template_workbooks(county, books):
    out, manifest = county
    spec = {s.name: s for s in sheets().values()}
    for (week, name), book in books.items():
        assert book["_order"] == SHEET_ORDER
        wb = CalamineWorkbook.from_path(str(out / "inbox" / week / name))
        for sheet in SHEET_ORDER:
            header = wb.get_sheet_by_name(sheet).to_python()[0]
            assert header == [c.header for c in spec[sheet].columns], (name, sheet)
        cover = book["填报说明"]
        assert len(cover) == 1
        code, township = name.split("_")[:2]
        monday = dt.date.fromisocalendar(2016, int(week[-2:]), 1)
        assert cover[0]["填报单位"] == township
        assert cover[0]["统计截止日期"] == monday + dt.timedelta(days=6)
        assert cover[0]["填报日期"] == monday + dt.timedelta(days=7)
        assert len(cover[0]["联系电话"]) == 11 and cover[0]["联系电话"].isdigit()
        for row in book["贫困户"]:
            assert isinstance(row["户编号"], str) and len(row["户编号"]) == 16
            assert isinstance(row["户主证件号码"], str)
            assert row["饮水安全"] in ("是", "否")
            assert isinstance(row["家庭年纯收入(元)"], float)
            assert row["户编号"].startswith(row["村代码"]) and row["乡(镇)"] == township
        for row in book["家庭成员"]:
            assert row["人编号"].startswith(row["户编号"]) and len(row["人编号"]) == 18
        for row in book["满意度调查"]:
            assert isinstance(row["调查日期"], dt.date) and monday <= row["调查日期"] <= monday + dt.timedelta(days=6)
        for row in book["村基本情况"]:
            assert row["村代码"].startswith(code) and 200 <= int(row["村代码"][9:]) <= 399


# ---- sizes and targets ----------------------------------------------------------------------------------------


def test_small_county_sizes_and_targets(county, books):
    out, manifest = county
    counts, targets = manifest["counts"], manifest["targets"]
    assert counts["townships"] == 2
    assert 16 <= counts["villages"] <= 24
    assert counts["key_villages"] == targets["key_villages"] == 2
    assert 1_500 <= counts["households"] <= 2_500
    assert 2.8 <= counts["people"] / counts["households"] <= 3.8
    assert targets["exit_households"] == round(10_114 * counts["households"] / 30_000)
    w39 = [b for (week, _), b in books.items() if week == "2016-W39"]
    households = [r for b in w39 for r in b["贫困户"]]
    assert len(households) == counts["households"]
    assert sum(r["计划脱贫年度"] == 2016 for r in households) == targets["exit_households"] == counts["exit_households"]
    statuses = Counter(r["脱贫属性"] for r in households if r["计划脱贫年度"] == 2016)
    assert set(statuses) == {"预脱贫", "已脱贫"} and statuses["预脱贫"] > 5 * statuses["已脱贫"] > 0
    statuses = Counter(r["脱贫属性"] for r in households)
    assert statuses["未脱贫"] > statuses["新识别"] > 0 and statuses["返贫"] >= 0 and statuses["注销"] > 0
    earlier = Counter(r["计划脱贫年度"] for r in households if r["脱贫属性"] == "已脱贫")
    assert earlier[2014] > 0 and earlier[2015] > 0
    villages = [r for b in w39 for r in b["村基本情况"]]
    assert sum(r["是否重点村"] == "是" for r in villages) == 2
    assert all(r["计划退出年度"] == 2016 for r in villages if r["是否重点村"] == "是")
    register = (out / "reference/villages.csv").read_text("utf-8").splitlines()
    assert register[0] == "village_code,village_name,township_code,township_name,is_key_village"
    assert sorted(line.split(",")[0] for line in register[1:]) == sorted(r["村代码"] for r in villages)
    names = Counter((r["村代码"][:9], r["行政村"]) for r in villages)
    assert max(names.values()) == 1
    per_village = Counter(r["村代码"] for r in households)
    assert all(r["总户数"] >= per_village[r["村代码"]] for r in villages)
    surveys = Counter(r["村代码"] for b in w39 for r in b["满意度调查"])
    assert all(20 <= surveys[r["村代码"]] <= 40 for r in villages)
    projects = [r for b in w39 for r in b["双七项目"]]
    assert {r["对应标准"] for r in projects} >= {"V-ROAD", "V-POWER", "V-WATER", "V-INDUSTRY"}
    assert set(r["主责部门"] for r in projects if r["主责部门"]) <= set(PROFILE.departments)


# ---- data validity --------------------------------------------------------------------------------------------


def test_ids_valid_except_injected_defects(county, books):
    _, manifest = county
    for week in WEEKS:
        injected = {(d["file"], d["sheet"], d["row"]): d for d in manifest["by_week"][week]["defects"]
                    if d["kind"] == "id_check_digit"}
        assert all(d["code"] == "DQ-ID-CHECK" for d in injected.values())
        seen = set()
        for (w, name), book in books.items():
            if w != week:
                continue
            for sheet, column in (("家庭成员", "证件号码"), ("贫困户", "户主证件号码")):
                for row in book[sheet]:
                    value = row[column]
                    where = (name, sheet, row["_row"])
                    if where in injected:
                        seen.add(where)
                        d = injected[where]
                        assert d["column"] == column and value == d["value"]
                        assert not idcard.is_valid(value)
                        assert idcard.birth_date(value) is not None  # the birth date part is intact
                        assert idcard.check_char(value[:17]) != value[17]
                    else:
                        assert idcard.is_valid(value), (week, where, value)
        assert seen == set(injected)
    members = manifest["counts"]["people"]
    w36 = [d for d in manifest["by_week"]["2016-W36"]["defects"] if d["kind"] == "id_check_digit"]
    assert 3 <= len({d["person_id"] for d in w36}) <= max(3, 0.0015 * members)


def test_household_size_equals_member_rows(books):
    for book in books.values():
        members = Counter(r["户编号"] for r in book["家庭成员"])
        assert set(members) == {r["户编号"] for r in book["贫困户"]}
        for r in book["贫困户"]:
            assert members[r["户编号"]] == r["家庭人口数"]


def test_people_are_consistent(books):
    male_relations = {"之子", "之孙子", "之父", "之女婿"}
    female_relations = {"之女", "之孙女", "之母", "之儿媳"}
    ids = set()
    for (week, _), book in books.items():
        heads = {r["户编号"]: r for r in book["家庭成员"] if r["与户主关系"] == "户主"}
        households = {r["户编号"]: r for r in book["贫困户"]}
        for hid, head in heads.items():
            assert households[hid]["户主姓名"] == head["姓名"]
        for r in book["家庭成员"]:
            number = r["证件号码"]
            assert number[:6] == "610928"
            assert idcard.sex(number) == r["性别"]
            head = heads[r["户编号"]]
            born, head_born = idcard.birth_date(number), idcard.birth_date(head["证件号码"])
            if r["与户主关系"] == "配偶":
                assert r["性别"] != head["性别"]
            if r["与户主关系"] in male_relations:
                assert r["性别"] == "男"
            if r["与户主关系"] in female_relations:
                assert r["性别"] == "女"
            if r["与户主关系"] in ("之子", "之女", "之孙子", "之孙女"):
                assert born.year - head_born.year >= 18
            if r["与户主关系"] in ("之父", "之母"):
                assert head_born.year - born.year >= 18
            if week == "2016-W39":
                ids.add(number[:17])
        assert len(heads) == len(households)
    assert len(ids) == sum(len(b["家庭成员"]) for (w, _), b in books.items() if w == "2016-W39")


def test_no_child_near_the_school_age_boundaries(books):
    as_ofs = [dt.date.fromisocalendar(2016, int(w[-2:]), 7) for w in WEEKS]
    edu = PROFILE.criterion("H-EDU").params
    for (week, _), book in books.items():
        if week != "2016-W39":
            continue
        for r in book["家庭成员"]:
            born = idcard.birth_date(r["证件号码"])
            for years in (edu["min_age"], edu["max_age"] + 1):
                birthday = dt.date(born.year + years, born.month, 28 if (born.month, born.day) == (2, 29) else born.day)
                assert all(abs((birthday - d).days) > 7 for d in as_ofs), r


def test_incomes_add_up(books):
    for book in books.values():
        for r in book["贫困户"]:
            parts = r["工资性收入"] + r["生产经营性收入"] + r["财产性收入"] + r["转移性收入"]
            assert parts == r["家庭年纯收入(元)"]
            assert r["人均纯收入(元)"] == round(r["家庭年纯收入(元)"] / r["家庭人口数"], 2)
            if r["脱贫属性"] in ("预脱贫", "已脱贫"):
                assert r["人均纯收入(元)"] > 2300


def test_projects_have_chinese_owners_and_statuses(books):
    vocab = {"审批状态": {"未申报", "已申报", "已批复"}, "建设状态": {"未开工", "在建", "已完工", "已验收"}}
    for book in books.values():
        for r in book["双七项目"]:
            for column, allowed in vocab.items():
                assert r[column] in allowed
            for column in ("工作主抓人", "工作责任人"):
                assert r[column] in ("", None) or 2 <= len(r[column]) <= 3


# ---- the truth -----------------------------------------------------------------------------------------------


def test_grades_follow_the_decisions_rule(county):
    _, manifest = county
    for week in WEEKS:
        for code, v in manifest["by_week"][week]["villages"].items():
            failing = set(v["failing_criteria"])
            rate = v["satisfaction_rate"]
            assert failing <= set(PROFILE.codes)
            if failing & VETO or rate is None or rate < SAT["fail_below"]:
                assert v["grade"] == "未达标", (week, code)
            elif not failing and rate >= SAT["excellent_from"] and v["wrong_exit_rate"] < 0.02:
                assert v["grade"] == "优秀", (week, code)
            else:
                assert v["grade"] == "合格", (week, code)
            assert ("V-SATISFACTION" in failing) == (rate < SAT["fail_below"])
            assert ("V-INCIDENCE" in failing) == (v["poverty_incidence"] >= 0.03)


def test_failing_criteria_are_exactly_the_injected_gaps(county):
    _, manifest = county
    for week in WEEKS:
        block = manifest["by_week"][week]
        injected = defaultdict(set)
        for d in block["defects"]:
            if d["kind"] == "criterion":
                injected[d["village_code"]].add(d["code"])
                assert d["code"] in PROFILE.codes
        for code, v in block["villages"].items():
            assert set(v["failing_criteria"]) == injected[code], (week, code)
        # household-level gaps name the household, and it is listed as failing that criterion
        for d in block["defects"]:
            if d["kind"] == "criterion" and d["code"].startswith("H-"):
                assert d["code"] in block["households_failing"][d["household_id"]]


def test_defects_point_at_the_cells_that_show_them(county, books):
    _, manifest = county
    keys = {"household_id": "户编号", "person_id": "人编号", "project_id": "项目编号"}
    for week in WEEKS:
        for d in manifest["by_week"][week]["defects"]:
            rows = [r for r in books[(week, d["file"])][d["sheet"]] if r["_row"] == d["row"]]
            assert len(rows) == 1, d
            row = rows[0]
            assert d["column"] in row
            assert row.get("村代码", d["village_code"]) == d["village_code"]
            for field, header in keys.items():
                if field in d and header in row:
                    assert row[header] == d[field], d
            if d["code"] in ("H-INCOME", "V-TELECOM", "DQ-ID-CHECK"):
                assert row[d["column"]] == d["value"], d
            if d["code"] in ("H-WATER", "H-MEDICAL", "V-CLINIC", "V-CULTURE"):
                assert row[d["column"]] == "否", d
            if d["code"] == "H-EDU":
                assert row[d["column"]] == "辍学"
            if d["code"] == "P-OWNER":
                assert row[d["column"]] in ("", None)
            assert d["fixed_in"] is None or d["fixed_in"] > week


def test_manifest_figures_match_the_workbooks(county, books):
    _, manifest = county
    for week in WEEKS:
        villages = manifest["by_week"][week]["villages"]
        answers, yes = Counter(), Counter()
        remaining, households, rural = Counter(), Counter(), {}
        for (w, _), book in books.items():
            if w != week:
                continue
            for r in book["满意度调查"]:
                if r["帮扶工作满意度"] != "不了解":
                    answers[r["村代码"]] += 1
                    yes[r["村代码"]] += r["帮扶工作满意度"] in ("满意", "基本满意")
            for r in book["贫困户"]:
                if r["脱贫属性"] in ("新识别", "未脱贫", "返贫"):
                    remaining[r["村代码"]] += r["家庭人口数"]
                if r["脱贫属性"] != "注销":
                    households[r["村代码"]] += 1
            for r in book["村基本情况"]:
                rural[r["村代码"]] = r["乡村总人口"]
        assert set(villages) == set(rural)
        for code, v in villages.items():
            assert v["satisfaction_rate"] == pytest.approx(yes[code] / answers[code], abs=1e-6)
            assert v["poverty_incidence"] == pytest.approx(remaining[code] / rural[code], abs=1e-6)
            assert v["households"] == households[code]
            # no village sits on a threshold (no boundary flakiness)
            assert abs(v["satisfaction_rate"] - SAT["fail_below"]) > 1e-3
            assert abs(v["satisfaction_rate"] - SAT["excellent_from"]) > 1e-3
            assert abs(v["poverty_incidence"] - 0.03) > 2e-3
        failing = Counter(hid[:12] for hid in manifest["by_week"][week]["households_failing"])
        assert all(v["households_failing"] == failing[code] for code, v in villages.items())


def test_outcomes_are_realistic_and_improve(county):
    _, manifest = county
    blocks = manifest["by_week"]
    w36, w39 = blocks["2016-W36"], blocks["2016-W39"]
    grades = Counter(v["grade"] for v in w39["villages"].values())
    assert grades["未达标"] > grades["合格"] > 0 and grades["优秀"] >= 1
    assert set(w39["summary"]["villages_failing_by_criterion"]) == set(PROFILE.codes)  # every criterion fails somewhere
    fails = [Counter(v["grade"] for v in blocks[w]["villages"].values())["未达标"] for w in WEEKS]
    assert fails == sorted(fails, reverse=True) and fails[-1] < fails[0]
    for code, v in w39["villages"].items():
        assert v["satisfaction_rate"] >= w36["villages"][code]["satisfaction_rate"]
        assert set(v["failing_criteria"]) <= set(w36["villages"][code]["failing_criteria"])
    rates = [v["satisfaction_rate"] for v in w39["villages"].values()]
    assert min(rates) < 0.7 and max(rates) > 0.9
    assert len(w39["defects"]) < len(w36["defects"])


def test_a_five_times_county_layout_for_the_benchmarks():
    import numpy as np

    from demo.draw import Draw
    from demo.layout import FULL_EXIT_TARGET, FULL_KEY_VILLAGES, build_layout

    profile = load_profile("xunyang-2016")
    veto = frozenset(c.code for c in profile.criteria if c.veto)
    one = build_layout(Draw(np.random.default_rng(7)), False, veto, profile.codes)
    five = build_layout(Draw(np.random.default_rng(7)), False, veto, profile.codes, scale=5)
    assert 4 * len(one.villages) < len(five.villages) < 6 * len(one.villages)  # 5× the villages per township, on average
    assert len({v.code for v in five.villages}) == len({v.name for v in five.villages}) == len(five.villages)
    assert five.targets == {"key_villages": 5 * FULL_KEY_VILLAGES, "exit_households": 5 * FULL_EXIT_TARGET}
    assert one.targets["key_villages"] == FULL_KEY_VILLAGES
