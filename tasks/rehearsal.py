"""模拟评估 (rehearsal): ONE evaluators' sample, drawn by the evaluation design the simulator uses, and what the
county team takes to the door before the evaluators come — a cover listing the drawn villages, one visit sheet
(入户核查表) per registered household drawn, and visits.csv (one row per household to visit).

The draw: villages per stratum with `draw_villages(strata, design, rng, draws=1)`, then per village and kind
(design.households) the households without replacement, from the households sorted by id, with one numpy
Generator seeded from the seed: the same inputs and seed give the same draw and the same bytes. Ordinary
(not registered) households have no names in the register: the pack gives the number to screen and lists the
township's 疑似漏评户 of the village first.

Pure functions (no Prefect): flows/rehearsal.py is the thin flow over them. What a sheet shows, the questions
and the checks come from the catalogue's `rehearsal` block, the criteria labels and the template's headers.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalprep.idcard import mask, mask_phone
from evalprep.redaction import csv_bytes, redact_text
from evalprep.template import sheets, vocabularies
from expectations.catalogue import Profile, raw_catalogue
from tasks.criteria_frames import CANCELLED, EXIT_COHORT, REMAINING_POOR
from tasks.evaluation_design import (
    KIND_LABELS, KINDS, STRATUM_LABELS, EvaluationDesign, draw_villages, village_strata,
)
from tasks.render.formatting import (
    NOT_NAMED, STATUS_TEXT, VETO_MARK, as_flag, as_int, clean_text, codes_of, format_date, is_missing,
)
from tasks.assess import FAIL, PASS, Readiness
from tasks.simulate import DEFAULT_SEED as SIMULATION_SEED
from tasks.survey_answers import RECOGNISED, NOT_RECOGNISED, approvals

DEFAULT_SEED = SIMULATION_SEED
ORDINARY = "ordinary"
PDF_NAME, CSV_NAME = "rehearsal.pdf", "visits.csv"
MAX_MEMBER_ROWS = 12  # a visit sheet stays one page; more members are counted, not listed
YES, NO, BLANK = "是", "否", "未填"
CHECKED, UNCHECKED = "✔", "✘"
BOX = "☐"

VISIT_COLUMNS = ["village_code", "village_name", "township_code", "township_name", "stratum", "kind", "seq",
                 "household_id", "head_name", "head_id_number", "household_size", "suspect", "note"]


def rehearsal_config() -> dict[str, Any]:
    """The catalogue's `rehearsal` block."""
    return raw_catalogue()["rehearsal"]


def pack_folder(out_dir: Path | str, week: str, seed: int) -> Path:
    """OUT/rehearsal/<week>-seed<N>/"""
    return Path(out_dir) / "rehearsal" / f"{week}-seed{int(seed)}"


# ------------------------------------------------------------------------------------------------ the draw


@dataclass
class RehearsalDraw:
    """One evaluators' sample: the villages drawn (with households available and drawn per kind) and the
    households to visit (registered ones by id; ordinary ones as 疑似漏评户 first, then unnamed slots)."""

    seed: int
    design: EvaluationDesign
    villages: pd.DataFrame
    visits: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    present: dict[str, int] = field(default_factory=dict)  # the county's villages per stratum

    def drawn(self, kind: str) -> pd.DataFrame:
        return self.visits[self.visits["kind"] == kind]


def of_kind(households: pd.DataFrame, kind: str) -> pd.Series:
    """Per household row: whether it belongs to a registered kind of the design (exited = 预脱贫/已脱贫,
    remaining_poor = 新识别/未脱贫/返贫, registered = any not cancelled)."""
    status = households["exit_status"]
    if kind == "exited":
        return status.isin(EXIT_COHORT).fillna(False).astype(bool)
    if kind == "remaining_poor":
        return status.isin(REMAINING_POOR).fillna(False).astype(bool)
    if kind == "registered":
        return (status != CANCELLED).fillna(True).astype(bool)
    raise ValueError(f"not a registered kind: {kind}")


def suspects(missed: pd.DataFrame | None, households: pd.DataFrame) -> pd.DataFrame:
    """The township's 疑似漏评户 rows that are outside the register (head ID not a registered head's),
    each head once, in a stable order (village, ID, name)."""
    if missed is None or not len(missed):
        return pd.DataFrame(columns=["village_code", "head_name", "head_id_number", "household_size", "note"])
    rows = missed.copy()
    rows["village_code"] = rows["village_code"].astype(str)
    ids = rows["head_id_number"] if "head_id_number" in rows else pd.Series(pd.NA, index=rows.index)
    heads = set(households["head_id_number"].dropna().astype(str)) if "head_id_number" in households else set()
    registered = ids.notna() & ids.astype(str).isin(heads)
    rows = rows[~registered]
    rows = rows.sort_values(["village_code", "head_id_number", "head_name"], kind="stable", na_position="last")
    ids = rows["head_id_number"]
    rows = rows[~(ids.duplicated() & ids.notna())]
    return rows.reset_index(drop=True)


def _choose(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """k of n positions without replacement, in ascending order (all of them when k ≥ n, drawing nothing)."""
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.arange(0)
    return np.sort(rng.choice(n, size=k, replace=False))


def draw_rehearsal(readiness: Readiness, design: EvaluationDesign, seed: int = DEFAULT_SEED,
                   missed: pd.DataFrame | None = None) -> RehearsalDraw:
    """One evaluators' sample from the readiness tables (villages, households) by `design`, deterministic from
    `seed`. Per stratum min(asked, present) villages; per drawn village and kind min(asked, available)
    households. Ordinary households available = the village's 总户数 minus its registered households (at
    least its 疑似漏评户); 总户数 unknown → the design's number."""
    rng = np.random.default_rng(int(seed))
    notes: list[str] = []
    villages = (readiness.villages.drop_duplicates("village_code")
                .sort_values("village_code", kind="stable").reset_index(drop=True))
    strata = village_strata(villages, design)
    chosen = np.sort(draw_villages(strata, design, rng, draws=1)[0])
    present = strata.value_counts()
    for stratum, asked in design.villages.items():
        if int(present.get(stratum, 0)) < asked:
            notes.append(f"{STRATUM_LABELS[stratum]}仅 {int(present.get(stratum, 0))} 个，少于抽样设计的 {asked} 个，全部抽取")

    households = readiness.households
    households = households[households["exit_status"] != CANCELLED] if "exit_status" in households else households
    households = households.sort_values("household_id", kind="stable").reset_index(drop=True)
    pool = dict(tuple(households.groupby(households["village_code"].astype(str), sort=True)))
    outside = suspects(missed, households)
    outside_by_village = dict(tuple(outside.groupby("village_code", sort=True))) if len(outside) else {}

    village_rows, visits = [], []
    unknown_totals = []
    for position in chosen:
        village = villages.iloc[int(position)]
        code = str(village["village_code"])
        base = {"village_code": code, "village_name": clean_text(village.get("village_name")),
                "township_code": clean_text(village.get("township_code")),
                "township_name": clean_text(village.get("township_name")), "stratum": strata.iloc[int(position)]}
        row = dict(base)
        here = pool.get(code, households.iloc[0:0])
        seq = 0
        for kind in (k for k in KINDS if k in design.households):
            asked = int(design.households[kind])
            if kind == ORDINARY:
                listed = outside_by_village.get(code, outside.iloc[0:0])
                total = as_int(village.get("total_households"))
                if total is None:
                    unknown_totals.append(base["village_name"] or code)
                    available = max(asked, len(listed))
                else:
                    available = max(total - len(here), len(listed), 0)
                take = min(asked, available)
                picked = listed.iloc[_choose(len(listed), take, rng)]
                row.update({f"{kind}_available": available, f"{kind}_drawn": take, "suspects": len(picked),
                            "suspects_submitted": len(listed)})
                for suspect in picked.to_dict("records"):
                    seq += 1
                    visits.append({**base, "kind": kind, "seq": seq, "household_id": "",
                                   "head_name": clean_text(suspect.get("head_name")),
                                   "head_id_number": clean_text(suspect.get("head_id_number")),
                                   "household_size": as_int(suspect.get("household_size")), "suspect": True,
                                   "note": clean_text(suspect.get("note"))})
                for _ in range(take - len(picked)):
                    seq += 1
                    visits.append({**base, "kind": kind, "seq": seq, "household_id": "", "head_name": "",
                                   "head_id_number": "", "household_size": None, "suspect": False, "note": ""})
                continue
            candidates = here[of_kind(here, kind)] if len(here) else here
            picked = candidates.iloc[_choose(len(candidates), asked, rng)]
            row.update({f"{kind}_available": len(candidates), f"{kind}_drawn": len(picked)})
            for household in picked.to_dict("records"):
                seq += 1
                visits.append({**base, "kind": kind, "seq": seq, "household_id": str(household["household_id"]),
                               "head_name": clean_text(household.get("head_name")),
                               "head_id_number": clean_text(household.get("head_id_number")),
                               "household_size": as_int(household.get("household_size")), "suspect": False,
                               "note": ""})
        village_rows.append(row)
    if unknown_totals:
        notes.append(f"{len(unknown_totals)} 个村总户数未填（{'、'.join(unknown_totals)}），一般农户按抽样设计的户数排查")
    columns = ["village_code", "village_name", "township_code", "township_name", "stratum",
               *[f"{k}_{s}" for k in design.households for s in ("available", "drawn")], "suspects", "suspects_submitted"]
    table = pd.DataFrame(village_rows).reindex(columns=columns)
    for column in columns[5:]:
        table[column] = table[column].fillna(0).astype(int)
    return RehearsalDraw(seed=int(seed), design=design, villages=table,
                         visits=pd.DataFrame(visits, columns=[c for c in VISIT_COLUMNS]), notes=notes,
                         present={s: int(present.get(s, 0)) for s in design.villages})


# ----------------------------------------------------------------------------------------- view models


def _label(profile: Profile, code: str) -> tuple[str, bool]:
    """A criterion's label and veto flag, from the profile where it has it, else the catalogue."""
    if code in profile.codes:
        crit = profile.criterion(code)
        return crit.label, crit.veto
    spec = raw_catalogue()["criteria"][code]
    return spec["label"], bool(spec["veto"])


def _header(sheet: str, column: str) -> str:
    return sheets()[sheet].column(column).header


def _flag(value: Any) -> str:
    return BLANK if is_missing(value) else YES if bool(value) else NO


def _money(value: Any) -> str:
    return BLANK if is_missing(value) else f"{float(value):,.0f} 元"


def _edu_range(profile: Profile) -> tuple[int, int]:
    params = profile.criterion("H-EDU").params if "H-EDU" in profile.codes else raw_catalogue()["criteria"]["H-EDU"]
    return int(params["min_age"]), int(params["max_age"])


def _income(profile: Profile, household: Mapping[str, Any], members: list[dict[str, Any]]) -> str:
    income = household.get("income_per_capita")
    text = f"{_header('households', 'income_per_capita')}：{_money(income)}；扶贫标准 {profile.poverty_line:,.0f} 元"
    if not is_missing(income) and "H-INCOME" in codes_of(household.get("failing_criteria")):  # GX's verdict
        text += f"（低于标准 {profile.poverty_line - float(income):,.0f} 元）"
    return text


def _housing(profile: Profile, household: Mapping[str, Any], members: list[dict[str, Any]]) -> str:
    parts = [f"{_header('households', c)}：{clean_text(household.get(c), BLANK)}"
             for c in ("housing_safety", "housing_solution", "housing_progress")]
    site = clean_text(household.get("resettlement_site"))
    return "；".join(parts) + (f"；{_header('households', 'resettlement_site')}：{site}" if site else "")


def _water(profile: Profile, household: Mapping[str, Any], members: list[dict[str, Any]]) -> str:
    return f"{_header('households', 'safe_water')}：{_flag(household.get('safe_water'))}"


def _school(profile: Profile, household: Mapping[str, Any], members: list[dict[str, Any]]) -> str:
    low, high = _edu_range(profile)
    school_age = [m for m in members if m["age"] is not None and low <= m["age"] <= high]
    if not school_age:
        return f"无 {low}—{high} 周岁成员"
    return f"{low}—{high} 周岁成员：" + "；".join(f"{m['name']}（{m['age']}岁）{m['schooling']}" for m in school_age)


def _medical(profile: Profile, household: Mapping[str, Any], members: list[dict[str, Any]]) -> str:
    ncms, critical = _header("members", "insured_ncms"), _header("members", "insured_critical")
    missing = [f"{m['name']}（{'、'.join(h for h, v in ((ncms, m['ncms']), (critical, m['critical'])) if v != CHECKED)}）"
               for m in members if m["ncms"] != CHECKED or m["critical"] != CHECKED]
    size = as_int(household.get("household_size"))
    text = f"成员表 {len(members)} 人（{_header('households', 'household_size')} {size if size is not None else BLANK} 人）"
    if missing:
        return text + "；未参保或未填：" + "、".join(missing)
    return text + f"；全部{ncms}、{critical}" if members else text


REGISTER_ANSWER = {"H-INCOME": _income, "H-HOUSING": _housing, "H-WATER": _water, "H-EDU": _school, "H-MEDICAL": _medical}


def _mark(value: Any) -> str:
    """A yes/no cell as ✔ / ✘, 未填 when blank."""
    return BLANK if is_missing(value) else CHECKED if as_flag(value) else UNCHECKED


def _member_rows(members: pd.DataFrame) -> list[dict[str, Any]]:
    order = members.sort_values(["person_id"], kind="stable") if "person_id" in members else members
    rows = []
    for m in order.to_dict("records"):
        age = m.get("age")
        rows.append({
            "name": clean_text(m.get("name"), BLANK),
            "relation": clean_text(m.get("relation")),
            "id": mask(m.get("id_number")) or BLANK,
            "age": None if is_missing(age) else int(age),
            "schooling": clean_text(m.get("schooling"), BLANK),
            "labour": clean_text(m.get("labour_capacity")),
            "ncms": _mark(m.get("insured_ncms")),
            "critical": _mark(m.get("insured_critical")),
        })
    return rows


def _survey(survey: pd.DataFrame) -> dict[str, Any] | None:
    """The register's latest survey answer of a household, and whether the official 认可度 counts it."""
    if survey is None or not len(survey):
        return None
    latest = survey.sort_values(["surveyed_on", "survey_id"], kind="stable", na_position="first").iloc[[-1]]
    row = latest.iloc[0]
    return {
        "date": format_date(row.get("surveyed_on")),
        "answers": {q["column"]: clean_text(row.get(q["column"]), BLANK) for q in rehearsal_config()["questions"]},
        "counted": RECOGNISED if bool(approvals(latest).iloc[0]) else NOT_RECOGNISED,
    }


def boxes(options: list[str]) -> str:
    """Answer options as boxes to tick on paper: ☐满意　☐基本满意 …"""
    return "　".join(f"{BOX}{option}" for option in options)


def visit_sheet(profile: Profile, household: Mapping[str, Any], members: pd.DataFrame, survey: pd.DataFrame | None,
                kind: str, stratum: str, number: int, total: int) -> dict[str, Any]:
    """One 入户核查表: who the household is, what the evaluators check with the register's answer and the
    register's verdict, the members (IDs masked), the helper (phone masked), the 认可度 questions with boxes
    and the register's own survey answer."""
    config = rehearsal_config()
    failing = codes_of(household.get("failing_criteria"))
    member_rows = _member_rows(members)
    checks = []
    for code in profile.metrics[config["checks_metric"]]["criteria"]:
        label, veto = _label(profile, code)
        judged = code in profile.codes
        checks.append({
            "code": code, "label": label, "veto_mark": VETO_MARK if veto else "",
            "register": REGISTER_ANSWER[code](profile, household, member_rows) if code in REGISTER_ANSWER else "",
            "status": STATUS_TEXT[FAIL if code in failing else PASS] if judged else "—",
            "failing": code in failing,
        })
    failing_words = []
    for code in failing:
        label, veto = _label(profile, code) if code in raw_catalogue()["criteria"] else (code, False)
        failing_words.append(f"{label}（{VETO_MARK}）" if veto else label)
    survey_view = _survey(survey)
    surveys = sheets()["surveys"]
    questions = []
    for q in config["questions"]:
        column = surveys.column(q["column"])
        options = list(vocabularies()[column.vocabulary])
        questions.append({"text": q["text"], "header": column.header, "options": options, "boxes": boxes(options),
                          "register": survey_view["answers"][q["column"]] if survey_view else None})
    size = as_int(household.get("household_size"))
    return {
        "number": number, "total": total,
        "household_id": clean_text(household.get("household_id")),
        "kind": KIND_LABELS[kind], "stratum": STRATUM_LABELS.get(stratum, stratum),
        "head_name": clean_text(household.get("head_name"), BLANK),
        "head_id": mask(household.get("head_id_number")) or BLANK,
        "village": clean_text(household.get("village_name")),
        "village_code": clean_text(household.get("village_code")),
        "township": clean_text(household.get("township_name")),
        "size": size if size is not None else BLANK,
        "household_type": clean_text(household.get("household_type"), BLANK),
        "exit_status": clean_text(household.get("exit_status"), BLANK),
        "planned_exit_year": as_int(household.get("planned_exit_year")),
        "identified_year": as_int(household.get("identified_year")),
        "checks": checks,
        "failing": "、".join(failing_words),
        "members": member_rows[:MAX_MEMBER_ROWS],
        "members_more": max(0, len(member_rows) - MAX_MEMBER_ROWS),
        "members_short": size is not None and len(member_rows) < size,
        "member_rows": len(member_rows),
        "helper": redact_text(clean_text(household.get("helper_name"), NOT_NAMED)),
        "helper_unit": redact_text(clean_text(household.get("helper_unit"), NOT_NAMED)),
        "helper_phone": mask_phone(clean_text(household.get("helper_phone"))) if clean_text(household.get("helper_phone")) else BLANK,
        "questions": questions,
        "survey": survey_view,
        "verify": list(config["verify"]),
        "verify_boxes": boxes(config["verify"]),
        "members_scope": "；".join([_label(profile, "H-MEDICAL")[0],
                                   "—".join(map(str, _edu_range(profile))) + " 周岁" + _label(profile, "H-EDU")[0]]),
    }


def pack_document_id(run: Mapping[str, Any], draw: RehearsalDraw) -> str:
    """The id the pack prints: the run's inputs, the design and the seed."""
    identity = "|".join([str(run["run_id"]), draw.design.name, str(draw.seed), "rehearsal"])
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12]


def rehearsal_context(draw: RehearsalDraw, readiness: Readiness, members: pd.DataFrame, surveys: pd.DataFrame,
                      profile: Profile, run: Mapping[str, Any]) -> dict[str, Any]:
    """The whole pack's view model: furniture, the cover (design, drawn villages and counts, 疑似漏评户 to
    screen first, notes) and one visit sheet per registered household drawn, in the cover's order."""
    from tasks.render.view_models import document_furniture

    config = rehearsal_config()
    design = draw.design
    run = {**run, "document_id": pack_document_id(run, draw)}
    document = document_furniture(profile, run, f"{config['title']}{config['sheet_title']}", [])
    document["footer"] += f" · 随机种子 {draw.seed}"
    registered = draw.visits[draw.visits["kind"] != ORDINARY]
    wanted = set(registered["household_id"])
    table = readiness.households
    households = {h["household_id"]: h for h in table[table["household_id"].isin(wanted)].to_dict("records")}
    members = members[members["household_id"].isin(wanted)]
    members_by = dict(tuple(members.groupby("household_id", sort=False))) if len(members) else {}
    surveyed = surveys[surveys["household_id"].isin(wanted)] if "household_id" in surveys else surveys.iloc[0:0]
    surveys_by = dict(tuple(surveyed.groupby("household_id", sort=False))) if len(surveyed) else {}
    sheets_view = []
    for number, visit in enumerate(registered.to_dict("records"), start=1):
        household = households[visit["household_id"]]
        sheets_view.append(visit_sheet(profile, household, members_by.get(visit["household_id"], members.iloc[0:0]),
                                       surveys_by.get(visit["household_id"]), visit["kind"], visit["stratum"],
                                       number, len(registered)))
    kinds = [k for k in KINDS if k in design.households]
    rows = []
    for index, village in enumerate(draw.villages.to_dict("records"), start=1):
        rows.append({
            "number": index, "township": village["township_name"], "village": village["village_name"],
            "village_code": village["village_code"], "stratum": STRATUM_LABELS.get(village["stratum"], village["stratum"]),
            "counts": [{"drawn": village[f"{k}_drawn"], "available": village[f"{k}_available"]} for k in kinds],
            "suspects": village.get("suspects", 0),
        })
    present = draw.present
    suspect_rows = [
        {"village": v["village_name"], "township": v["township_name"], "head_name": v["head_name"] or BLANK,
         "head_id": mask(v["head_id_number"]) or BLANK, "size": v["household_size"] if v["household_size"] is not None else BLANK,
         "note": redact_text(v["note"])}
        for v in draw.visits[draw.visits["suspect"].astype(bool)].to_dict("records")
    ]
    cover = {
        "title": f"{run['county']}{config['title']}",
        "week": run["week"], "as_of": format_date(run["as_of"]), "profile": profile.label,
        "design": design.label, "design_name": design.name, "seed": draw.seed,
        "strata": "、".join(f"{STRATUM_LABELS[s]} {present[s]} 个" for s in design.villages),
        "asked": "、".join(f"{STRATUM_LABELS[s]} {n} 个" for s, n in design.villages.items()),
        "per_village": "、".join(f"{KIND_LABELS[k]} {n} 户" for k, n in design.households.items()),
        "kinds": [KIND_LABELS[k] for k in kinds],
        "rows": rows,
        "totals": [int(draw.villages[f"{k}_drawn"].sum()) for k in kinds],
        "sheets": len(sheets_view),
        "suspects": suspect_rows,
        "ordinary": int(draw.villages[f"{ORDINARY}_drawn"].sum()) if ORDINARY in design.households else 0,
        "notes": list(draw.notes),
        "document_id": document_id_of(run),
    }
    return _redacted({"document": document, "cover": cover, "sheets": sheets_view})


def _redacted(value: Any) -> Any:
    """Every text of the pack with ID and phone numbers masked wherever they were typed (a name, a village,
    a note): one pass over the whole view model, so no field can be missed."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redacted(v) for v in value)
    return value


def document_id_of(run: Mapping[str, Any]) -> str:
    return str(run.get("document_id") or run["run_id"])


# ----------------------------------------------------------------------------------------- visits.csv


def visits_table(draw: RehearsalDraw, readiness: Readiness) -> pd.DataFrame:
    """visits.csv: one row per household to visit (registered ones by id; 疑似漏评户 by name; the other
    ordinary ones as numbered slots to pick on site), ID and phone columns masked; csv_bytes redacts the rest
    and keeps any cell from running in a spreadsheet."""
    households = readiness.households.drop_duplicates("household_id").set_index("household_id")
    visits = draw.visits
    ids = visits["household_id"]
    known = ids.isin(households.index)

    def column(name: str) -> pd.Series:
        if name not in households:
            return pd.Series("", index=visits.index)
        return ids.where(known).map(households[name]).where(known, None)

    failing = column("failing_criteria").map(lambda c: ";".join(codes_of(c)) if isinstance(c, (list, tuple)) else "")
    table = pd.DataFrame({
        "village_code": visits["village_code"],
        "village_name": visits["village_name"],
        "township_name": visits["township_name"],
        "stratum": visits["stratum"].map(STRATUM_LABELS),
        "seq": visits["seq"].astype(int),
        "kind": visits["kind"],
        "kind_label": visits["kind"].map(KIND_LABELS),
        "household_id": ids,
        "head_name": visits["head_name"],
        "head_id": visits["head_id_number"].map(lambda v: mask(v) if v else ""),
        "household_size": visits["household_size"].map(lambda v: "" if v is None or is_missing(v) else str(int(v))),
        "exit_status": column("exit_status").map(lambda v: clean_text(v)),
        "failing_criteria": failing,
        "helper_name": column("helper_name").map(lambda v: redact_text(clean_text(v))),
        "helper_phone": column("helper_phone").map(lambda v: mask_phone(clean_text(v)) if clean_text(v) else ""),
        "suspect": visits["suspect"].map({True: YES, False: NO}),
        "note": visits.apply(lambda v: "疑似漏评户：" + redact_text(v["note"]) if v["suspect"] and v["note"]
                             else "疑似漏评户" if v["suspect"] else "现场随机抽取一般农户" if v["kind"] == ORDINARY else "",
                             axis=1) if len(visits) else pd.Series(dtype="str"),
    })
    return table  # free text typed anywhere and formula cells: the CSV writer's gate (csv_bytes)


# -------------------------------------------------------------------------------------------- writing


def write_pack(context: Mapping[str, Any], table: pd.DataFrame, folder: Path | str) -> Path:
    """rehearsal.pdf and visits.csv into the folder (each written whole or not at all)."""
    from evalprep.files import write_atomic
    from tasks.render.pdf import REHEARSAL, render_document

    folder = Path(folder)
    write_atomic(folder / PDF_NAME, render_document(REHEARSAL, context))
    write_atomic(folder / CSV_NAME, csv_bytes(table))  # the one CSV writer (evalprep/redaction.py)
    return folder
