"""The county-wide frames the GX suites validate: one row per entity, canonical columns plus the few
derived columns a rule needs across rows or tables (data-model.md §1–2)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from evalprep.idcard import ID_PATTERN, ages
from evalprep.template import sheets
from expectations.catalogue import Profile, raw_catalogue
from expectations.vocabulary import (  # noqa: F401  (the words the frames are built with; re-exported for stages)
    APPROVED, CANCELLED, EXIT_COHORT, MEMBERS_MISSING, NONE_MARKERS, NOT_AN_ANSWER, REMAINING_POOR, SATISFIED, TABLES,
)

BORDER_COLUMNS = ("township_code", "_file", "_sheet", "_row")

INCOME_COMPONENTS = ("income_wage", "income_business", "income_property", "income_transfer")

_DTYPES = {"int": "float64", "number": "float64", "percent": "float64", "bool": "boolean", "date": "datetime64[ns]"}


def canonical_frame(sheet: str, records: Iterable[Mapping[str, object]] = ()) -> pd.DataFrame:
    """A canonical table (data-model.md §1) with every template column in its border dtype."""
    columns = {c.name: _DTYPES.get(c.kind.split(":")[0], "str") for c in sheets()[sheet].columns}
    columns.update({"township_code": "str", "_file": "str", "_sheet": "str", "_row": "int64"})
    frame = pd.DataFrame(list(records), columns=list(columns))
    if frame.empty:
        return frame.astype(columns)
    if frame["_row"].isna().any():
        frame["_row"] = np.arange(2, len(frame) + 2)
    return frame.astype(columns)


def criteria_frames(
    tables: Mapping[str, pd.DataFrame],
    as_of: dt.date,
    profile: Profile,
    *,
    county_rural_income: float | None = None,
    previous_income_ratio: Mapping[str, float] | float | None = None,
) -> dict[str, pd.DataFrame]:
    """Frames by table name (households, members, villages, projects, surveys), each with a fresh
    RangeIndex so GX's unexpected_index_list is a row position into the frame. county_rural_income
    (元) and previous_income_ratio (village_code → last year's ratio, or one county-wide ratio) feed
    V-INCOME-GROWTH; without them that criterion is unknowable."""
    canon = {name: _table(tables, name) for name in TABLES}
    members = member_frame(canon["members"], canon["households"], as_of, labour_capacities(profile))
    households = household_frame(canon["households"], members)
    villages = village_frame(
        canon["villages"],
        households,
        canon["surveys"],
        canon["projects"],
        power_started=power_started_statuses(profile),
        county_rural_income=county_rural_income,
        previous_income_ratio=previous_income_ratio,
    )
    known = villages.dropna(subset=["village_code"]).groupby("township_code")["village_code"].agg(set).to_dict()
    frames = {
        "households": households,
        "members": members,
        "villages": villages,
        "projects": canon["projects"].reset_index(drop=True),
        "surveys": canon["surveys"].reset_index(drop=True),
    }
    for name in ("households", "projects", "surveys"):
        frames[name]["village_code_in_township"] = village_code_in_township(frames[name], known)
    villages["village_code_in_township"] = village_code_in_township(villages, None)
    return frames


def labour_capacities(profile: Profile) -> tuple[str, ...]:
    """The labour capacities that count as "labour" (H-SKILL.labour_capacities, data-model.md §2)."""
    if "H-SKILL" in profile.codes:
        return tuple(profile.criterion("H-SKILL").params["labour_capacities"])
    return tuple(raw_catalogue()["criteria"]["H-SKILL"]["labour_capacities"])


def power_started_statuses(profile: Profile) -> tuple[str, ...]:
    """Build statuses of a started power project (V-POWER.started_build_statuses, data-model.md §2)."""
    if "V-POWER" in profile.codes:
        return tuple(profile.criterion("V-POWER").params.get("started_build_statuses", ()))
    return tuple(raw_catalogue()["criteria"]["V-POWER"]["started_build_statuses"])


def _table(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    frame = tables.get(name)
    return canonical_frame(name) if frame is None else frame.reset_index(drop=True)


def member_frame(members: pd.DataFrame, households: pd.DataFrame, as_of: dt.date, labour: tuple[str, ...]) -> pd.DataFrame:
    """Members + age on the as-of date (from the ID's birth date), is_labour, and the household's
    village_code and in_exit_cohort."""
    out = members.reset_index(drop=True).copy()
    out["age"] = ages(out["id_number"], as_of).astype("float64")
    out["is_labour"] = out["labour_capacity"].isin(labour).astype(bool)
    first = households.drop_duplicates("household_id").set_index("household_id")
    if "village_code" in out:
        out = out.drop(columns="village_code")
    out["village_code"] = out["household_id"].map(first["village_code"]).astype("str")
    out["in_exit_cohort"] = out["household_id"].map(first["exit_status"]).isin(EXIT_COHORT).astype(bool)
    out["household_listed"] = out["household_id"].isin(first.index).astype(bool)
    out["id_sex"] = id_sex(out["id_number"])
    return out


def id_sex(ids: pd.Series) -> pd.Series:
    """男/女 from the ID's 17th digit (odd = male) where the ID has the 18-character shape, else missing."""
    text = ids.astype("string")
    shaped = text.str.fullmatch(ID_PATTERN).fillna(False).astype(bool)
    digit = pd.to_numeric(text.str[16].where(shaped), errors="coerce").astype("float64").to_numpy()
    sex = np.where(np.isnan(digit), None, np.where(digit % 2 == 1, "男", "女"))
    return pd.Series(sex, index=ids.index, dtype="str")


def household_frame(households: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Households + in_exit_cohort, is_remaining_poor, has_labour (≥ 1 labour member), livelihood_any
    (an industry project or employment named), member_rows and members_missing (家庭人口数 less the member
    rows, never negative; NaN when 家庭人口数 is unknown)."""
    out = households.reset_index(drop=True).copy()
    out["in_exit_cohort"] = out["exit_status"].isin(EXIT_COHORT).astype(bool)
    out["is_remaining_poor"] = out["exit_status"].isin(REMAINING_POOR).astype(bool)
    labour_households = set(members.loc[members["is_labour"], "household_id"].dropna())
    out["has_labour"] = out["household_id"].isin(labour_households).astype(bool)
    out["livelihood_any"] = (_named(out["industry_support"]) | _named(out["employment"])).astype(bool)
    out["member_rows"] = out["household_id"].map(members.groupby("household_id").size()).fillna(0).astype("float64")
    out[MEMBERS_MISSING] = (out["household_size"] - out["member_rows"]).clip(lower=0).astype("float64")
    components = out[list(INCOME_COMPONENTS)]
    summed = components.fillna(0).sum(axis=1).where(components.notna().any(axis=1))
    out["income_components_gap"] = (out["net_income"] - summed).abs()
    out["income_per_capita_gap"] = (out["income_per_capita"] - out["net_income"] / out["household_size"].where(out["household_size"] > 0)).abs()
    return out


def _named(values: pd.Series) -> pd.Series:
    """True where a free-text cell names something (not empty, not 无)."""
    text = values.astype("string").str.strip()
    return (text.notna() & (text != "") & ~text.isin(NONE_MARKERS)).fillna(False).astype(bool)


def village_frame(
    villages: pd.DataFrame,
    households: pd.DataFrame,
    surveys: pd.DataFrame,
    projects: pd.DataFrame,
    *,
    power_started: Iterable[str] = (),
    county_rural_income: float | None = None,
    previous_income_ratio: Mapping[str, float] | float | None = None,
) -> pd.DataFrame:
    """Villages + incidence, satisfaction counts and rate, project alternatives and the exit-income
    ratio; NaN wherever the figure is unknowable (which fails the criterion). power_started: the build
    statuses that count as a started power project (V-POWER.started_build_statuses)."""
    out = villages.reset_index(drop=True).copy()
    code = out["village_code"]

    remaining = households[households["is_remaining_poor"]]
    # skipna=False: one remaining-poor household of unknown size makes the village's count unknowable.
    people = remaining.groupby("village_code")["household_size"].sum(min_count=1, skipna=False)
    out["remaining_poor_people"] = code.map(people).where(code.isin(people.index), 0.0).astype("float64")
    population = out["rural_population"].where(out["rural_population"] > 0)
    out["poverty_incidence"] = out["remaining_poor_people"] / population

    answer = surveys["satisfaction"]
    counted = surveys[answer.notna() & ~answer.isin(NOT_AN_ANSWER)]
    answers = counted.groupby("village_code").size()
    yes = counted[counted["satisfaction"].isin(SATISFIED)].groupby("village_code").size()
    out["satisfaction_answers"] = code.map(answers).fillna(0).astype("int64")
    out["satisfaction_yes"] = code.map(yes).fillna(0).astype("int64")
    answered = out["satisfaction_answers"].where(out["satisfaction_answers"] > 0)
    out["satisfaction_rate"] = (out["satisfaction_yes"] / answered).astype("float64")

    crit = projects["criterion_code"]
    approved = projects["approval_status"] == APPROVED
    out["road_project_approved"] = code.isin(projects.loc[(crit == "V-ROAD") & approved, "village_code"]).astype(bool)
    power = crit == "V-POWER"
    out["power_project_exists"] = code.isin(projects.loc[power, "village_code"]).astype(bool)
    started = power & projects["build_status"].isin(tuple(power_started))
    out["power_project_started"] = code.isin(projects.loc[started, "village_code"]).astype(bool)
    scheduled = (crit == "V-WATER") & approved & projects["planned_completion"].notna()
    out["water_project_scheduled"] = code.isin(projects.loc[scheduled, "village_code"]).astype(bool)
    # Allocated: the village's 待建供水管网 is a known number of km (0 allowed: nothing left to lay).
    backlog = out["pipeline_backlog_km"]
    out["water_backlog_allocated"] = (backlog.notna() & (backlog >= 0)).fillna(False).astype(bool)

    exit_income = _exit_income_per_capita(households)
    out["exit_income_per_capita"] = code.map(exit_income).astype("float64")
    income = county_rural_income if county_rural_income else np.nan
    out["county_rural_income"] = float(income)
    out["exit_income_ratio"] = out["exit_income_per_capita"] / income
    if isinstance(previous_income_ratio, Mapping) or previous_income_ratio is None:
        out["exit_income_ratio_prev"] = code.map(dict(previous_income_ratio or {})).astype("float64")
    else:  # one county-wide figure for every village
        out["exit_income_ratio_prev"] = float(previous_income_ratio)
    return out


def _exit_income_per_capita(households: pd.DataFrame) -> pd.Series:
    """Per village: the exit cohort's per-capita income, weighted by household size. Summed in household order:
    the last bits of a float sum depend on the order of its terms, and the rows' order is the files' (a township's
    resubmission moved other villages' rows, changed their figures in the 16th digit and re-rendered their
    dossiers; bench/run, session 7)."""
    cohort = households[households["in_exit_cohort"]].sort_values(["village_code", "household_id"], kind="stable")
    weights = cohort["household_size"]
    total = (cohort["income_per_capita"] * weights).groupby(cohort["village_code"]).sum(min_count=1)
    people = weights.groupby(cohort["village_code"]).sum(min_count=1)
    return total / people.where(people > 0)


def village_code_in_township(frame: pd.DataFrame, known: Mapping[str, set[str]] | None) -> pd.Series:
    """True where village_code starts with the row's township_code (and, given the township's villages,
    is one of them); <NA> where village_code is missing (DQ-REQUIRED reports that)."""
    code = frame["village_code"].astype("string")
    township = frame["township_code"].astype("string")
    ok = code.str.slice(0, 9) == township
    if known is not None:
        pairs = {f"{t}|{c}" for t, codes in known.items() for c in codes}
        ok = ok & (township + "|" + code).isin(pairs)
    return ok.fillna(False).astype("boolean").mask(code.isna())
