"""The synthetic county: every table of every week, as plain tables and as canonical DataFrames."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalprep.template import sheets
from expectations.catalogue import Profile, load_profile

from .draw import Draw
from .edits import Edits, Gap
from .household_gaps import HouseholdGaps, inject_id_defects
from .households import Register, RegisterMaker
from .layout import Layout, build_layout
from .names import Names
from .projects import ProjectMaker
from .surveys import Surveys
from .table import Table
from .villages import build_villages
from .weeks import WEEKS, as_of, number, submitted_on

PROFILE = "xunyang-2016"
SHEET_KEYS = ("cover", "households", "members", "villages", "surveys", "projects")
COVER_COLUMNS = [c.name for c in sheets()["cover"].columns] + ["_township_code"]
STREAMS = ("layout", "register", "villages", "projects", "household_gaps", "surveys", "id_defects", "cover")


@dataclass
class County:
    seed: int
    small: bool
    profile: Profile
    layout: Layout
    register: Register
    villages: Table
    projects: Table
    surveys: Surveys
    reporters: dict[str, tuple[str, str]]  # township code → (填报人, 联系电话)
    edits: Edits
    gaps: list[Gap]

    @property
    def townships(self) -> list[tuple[str, str]]:
        return self.layout.townships

    def tables(self, week: str) -> dict[str, Table]:
        """Every sheet of the week as a county-wide table (rows grouped by township, internal `_` columns kept).

        The projects table has a `_base` column: the project's index in the base table (gaps point there).
        """
        w = number(week)
        e = self.edits
        projects = self.projects.with_changes(e.for_week("projects", w))
        keep = [i for i, first in enumerate(projects["_from"]) if first <= w]
        projects = projects.take(keep)
        projects.cols["_base"] = keep
        cover = Table(COVER_COLUMNS)
        for code, name in self.townships:
            reporter, phone = self.reporters[code]
            cover.append({"township_name": name, "reporter": reporter, "reporter_phone": phone,
                          "submitted_on": submitted_on(week), "as_of": as_of(week), "_township_code": code})
        return {
            "cover": cover,
            "households": self.register.households.with_changes(e.for_week("households", w)),
            "members": self.register.members.with_changes(e.for_week("members", w)),
            "villages": self.villages.with_changes(e.for_week("villages", w)),
            "surveys": self.surveys.table(week),
            "projects": projects,
        }

    def frames(self, week: str, tables: dict[str, Table] | None = None) -> dict[str, pd.DataFrame]:
        """Canonical DataFrames (docs/data-model.md section 1): template columns + township_code, typed."""
        tables = tables or self.tables(week)
        return {key: canonical_frame(key, tables[key]) for key in SHEET_KEYS}


def canonical_frame(key: str, table: Table) -> pd.DataFrame:
    data = {}
    for col in sheets()[key].columns:
        values = table[col.name]
        kind = col.kind
        if kind in ("int", "number", "percent"):
            data[col.name] = pd.Series(values, dtype="float64")
        elif kind == "bool":
            data[col.name] = pd.Series(values, dtype="boolean")
        elif kind == "date":
            data[col.name] = pd.to_datetime(pd.Series(values, dtype="object")).astype("datetime64[ns]")
        else:
            data[col.name] = pd.Series(values, dtype="str")
    data["township_code"] = pd.Series(table["_township_code"], dtype="str")
    return pd.DataFrame(data)


def build_county(seed: int = 2016, small: bool = False, scale: int = 1) -> County:
    profile = load_profile(PROFILE)
    streams = dict(zip(STREAMS, np.random.default_rng(seed).spawn(len(STREAMS))))
    draws = {k: Draw(rng) for k, rng in streams.items()}
    veto = frozenset(c.code for c in profile.criteria if c.veto)
    edu = profile.criterion("H-EDU").params
    layout = build_layout(draws["layout"], small, veto, profile.codes, scale)
    villages = layout.villages

    maker = RegisterMaker(draws["register"], Names(draws["register"]), int(edu["min_age"]), int(edu["max_age"]),
                          profile.evaluation_date)
    register = maker.build(villages)

    edits, gaps = Edits(), []
    hgaps = HouseholdGaps(draws["household_gaps"], register, edits, gaps)
    hgaps.inject(villages)
    village_table = build_villages(draws["villages"], Names(draws["villages"]), villages, register, edits, gaps,
                                   float(profile.criterion("V-INCIDENCE").params["max"]))
    departments = {}
    for crit in profile.criteria:
        departments[crit.code] = tuple(dep for dep in crit.departments if dep in profile.departments) or (crit.department,)
    projects = ProjectMaker(draws["projects"], Names(draws["projects"]), departments, edits, gaps).build(villages, village_table)
    sat = profile.criterion("V-SATISFACTION").params
    surveys = Surveys(draws["surveys"], Names(draws["surveys"]), villages, register, float(sat["fail_below"]),
                      float(sat["excellent_from"]))
    gaps.extend(surveys.gaps(villages))
    inject_id_defects(draws["id_defects"], register, edits, gaps, hgaps.touched_households)
    cover_names = Names(draws["cover"])
    reporters = {code: (cover_names.person(), cover_names.mobile()) for code, _ in layout.townships}
    return County(seed=seed, small=small, profile=profile, layout=layout, register=register, villages=village_table,
                  projects=projects, surveys=surveys, reporters=reporters, edits=edits, gaps=gaps)


def created_at(week: str) -> dt.datetime:
    """The fixed creation time written into a week's workbooks: 填报日期 at 09:00."""
    return dt.datetime.combine(submitted_on(week), dt.time(9, 0))


__all__ = ["County", "build_county", "canonical_frame", "created_at", "SHEET_KEYS", "WEEKS"]
