"""GX expectation suites built from the criteria catalogue (criteria family) and the submission template
(quality family): one suite per (family, table), every expectation tagged with its code in `meta`."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import evalprep  # noqa: F401  (sets GX_ANALYTICS_ENABLED=false before GX is imported)
import great_expectations as gx
import great_expectations.expectations as gxe
from evalprep.template import sheets, vocabularies
from expectations.catalogue import Criterion, Profile, raw_catalogue
from expectations.gb11643 import ASCII_ID_PATTERN, ExpectColumnValuesToHaveGb11643CheckCharacter
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.expectations.row_conditions import Column
from expectations.vocabulary import (  # noqa: F401  (rule words; tests read them here too)
    DROPOUT, EXIT_COHORT, FULL_COVERAGE_PERCENT, HOUSING_DONE, HOUSING_SAFE, HOUSING_SOLUTIONS, MEMBERS_MISSING,
    NONE_MARKERS, TABLES, WELFARE_TYPES,
)

CRITERIA = "criteria"
QUALITY = "quality"
FAMILIES = (CRITERIA, QUALITY)

# The project alternatives of V-ROAD / V-POWER / V-WATER: the catalogue's `project_alternative` (the county's
# 双七 standard accepts a project; shaanxi-2017 requires the thing itself).

_GX_SEVERITY = {"error": FailureSeverity.CRITICAL, "warning": FailureSeverity.WARNING}

Builder = Callable[[Criterion, Profile], list[Expectation]]


def suite_name(family: str, table: str) -> str:
    """The name of the suite for a family and table, e.g. criteria.households."""
    return f"{family}.{table}"


def _tagged(expectations: Iterable[Expectation], **meta: object) -> list[Expectation]:
    out = []
    for exp in expectations:
        exp.meta = {**meta, **(exp.meta or {})}
        exp.severity = _GX_SEVERITY[exp.meta["severity"]]
        out.append(exp)
    return out


def _known_and(column: str, rule: Expectation, row_condition=None) -> list[Expectation]:
    """The rule plus a not-null check on the same rows: GX map expectations skip nulls, and an
    unknown value must fail the criterion (docs/decisions.md "Unknowable is failing")."""
    return [
        gxe.ExpectColumnValuesToNotBeNull(column=column, row_condition=row_condition, meta={"check": "known"}),
        rule,
    ]


def _is_true(column: str, row_condition=None) -> list[Expectation]:
    rule = gxe.ExpectColumnValuesToBeInSet(column=column, value_set=[True], row_condition=row_condition)
    return _known_and(column, rule, row_condition)


def _project_alternative(crit: Criterion, flag: str):
    """Row condition "no qualifying project" where the profile accepts a project instead (catalogue
    `project_alternative`)."""
    return Column(flag) == False if crit.params.get("project_alternative") else None  # noqa: E712


# --- criteria builders: one per catalogue criterion code -------------------------------------------


def _h_income(crit: Criterion, profile: Profile) -> list[Expectation]:
    rule = gxe.ExpectColumnValuesToBeBetween(column="income_per_capita", min_value=crit.params["poverty_line"])
    return _known_and("income_per_capita", rule)


def _h_housing(crit: Criterion, profile: Profile) -> list[Expectation]:
    unresolved = Column("housing_solution").is_not_in(HOUSING_SOLUTIONS) | Column("housing_progress").is_not_in(HOUSING_DONE)
    rule = gxe.ExpectColumnValuesToBeInSet(column="housing_safety", value_set=[HOUSING_SAFE], row_condition=unresolved)
    return _known_and("housing_safety", rule, unresolved)


def _h_water(crit: Criterion, profile: Profile) -> list[Expectation]:
    return _is_true("safe_water")


def _h_edu(crit: Criterion, profile: Profile) -> list[Expectation]:
    # An unreadable birth date cannot show the member is outside school age.
    in_range = (Column("age") >= crit.params["min_age"]) & (Column("age") <= crit.params["max_age"])
    school_age = in_range | Column("age").is_null()
    rule = gxe.ExpectColumnValuesToNotBeInSet(column="schooling", value_set=[DROPOUT], row_condition=school_age)
    return _known_and("schooling", rule, school_age)


def _h_medical(crit: Criterion, profile: Profile) -> list[Expectation]:
    return _is_true("insured_ncms") + _is_true("insured_critical")


def _h_skill(crit: Criterion, profile: Profile) -> list[Expectation]:
    # is_labour applies H-SKILL.labour_capacities (tasks/criteria_frames.labour_capacities).
    labour = Column("is_labour") == True  # noqa: E712
    return [gxe.ExpectColumnValuesToNotBeNull(column="skill_certificate_no", row_condition=labour)]


def _h_livelihood(crit: Criterion, profile: Profile) -> list[Expectation]:
    with_labour = Column("has_labour") == True  # noqa: E712
    without_labour = Column("has_labour") == False  # noqa: E712
    working = gxe.ExpectColumnValuesToBeInSet(column="livelihood_any", value_set=[True], row_condition=with_labour)
    welfare = gxe.ExpectColumnValuesToBeInSet(
        column="household_type", value_set=list(WELFARE_TYPES), row_condition=without_labour
    )
    return [working, *_known_and("household_type", welfare, without_labour)]


def _h_new_exit(crit: Criterion, profile: Profile) -> list[Expectation]:
    exiting = Column("exit_status").is_in(EXIT_COHORT)
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="identified_year", row_condition=exiting, meta={"check": "known"}),
        gxe.ExpectColumnValuesToNotBeInSet(
            column="exit_status", value_set=list(EXIT_COHORT), row_condition=Column("identified_year") == profile.year
        ),
    ]


def _v_incidence(crit: Criterion, profile: Profile) -> list[Expectation]:
    rule = gxe.ExpectColumnValuesToBeBetween(column="poverty_incidence", max_value=crit.params["max"], strict_max=True)
    return _known_and("poverty_incidence", rule)


def _v_road(crit: Criterion, profile: Profile) -> list[Expectation]:
    return _is_true("has_paved_road", _project_alternative(crit, "road_project_approved"))


def _v_power(crit: Criterion, profile: Profile) -> list[Expectation]:
    # "项目不启动，考核是不可能通过的": only a started project (started_build_statuses) stands in.
    return _is_true("power_full_coverage", _project_alternative(crit, "power_project_started"))


def _v_telecom(crit: Criterion, profile: Profile) -> list[Expectation]:
    any_carrier = f"(?:^|、)(?:{'|'.join(vocabularies()['carriers'])})(?:、|$)"
    return _known_and("telecom_carriers", gxe.ExpectColumnValuesToMatchRegex(column="telecom_carriers", regex=any_carrier))


def _v_water(crit: Criterion, profile: Profile) -> list[Expectation]:
    # The alternative: the backlog allocated to the village (a known km figure) and a scheduled project.
    unscheduled = None
    if crit.params.get("project_alternative"):
        unscheduled = (Column("water_project_scheduled") == False) | (Column("water_backlog_allocated") == False)  # noqa: E712
    rule = gxe.ExpectColumnValuesToBeBetween(
        column="safe_water_coverage", min_value=FULL_COVERAGE_PERCENT, row_condition=unscheduled
    )
    return _known_and("safe_water_coverage", rule, unscheduled)


def _v_clinic(crit: Criterion, profile: Profile) -> list[Expectation]:
    return _is_true("has_clinic")


def _v_culture(crit: Criterion, profile: Profile) -> list[Expectation]:
    return _is_true("has_culture_venue")


def _v_industry(crit: Criterion, profile: Profile) -> list[Expectation]:
    named = gxe.ExpectColumnValuesToNotBeInSet(column="industry_org", value_set=list(NONE_MARKERS))
    return _known_and("industry_org", named) + _is_true("industry_subsidy")


def _v_satisfaction(crit: Criterion, profile: Profile) -> list[Expectation]:
    fail_below, excellent_from = crit.params["fail_below"], crit.params["excellent_from"]
    pass_band = gxe.ExpectColumnValuesToBeBetween(
        column="satisfaction_rate", min_value=fail_below, meta={"band": "pass", "threshold": fail_below}
    )
    excellent = gxe.ExpectColumnValuesToBeBetween(
        column="satisfaction_rate",
        min_value=excellent_from,
        meta={"band": "excellent", "threshold": excellent_from, "severity": "warning"},
    )
    known = gxe.ExpectColumnValuesToNotBeNull(column="satisfaction_rate", meta={"check": "known", "band": "pass"})
    return [known, pass_band, excellent]


def _v_income_growth(crit: Criterion, profile: Profile) -> list[Expectation]:
    # The ratio needs the county's rural income and last year's ratio, which submissions do not carry:
    # without them the criterion is unknowable and fails (criteria_frames fills them when given).
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="exit_income_ratio", meta={"check": "known"}),
        gxe.ExpectColumnValuesToNotBeNull(column="exit_income_ratio_prev", meta={"check": "known"}),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="exit_income_ratio", column_B="exit_income_ratio_prev", ignore_row_if="either_value_is_missing"
        ),
    ]


def _v_collective(crit: Criterion, profile: Profile) -> list[Expectation]:
    no_org = Column("industry_org").is_null() | Column("industry_org").is_in(NONE_MARKERS)
    rule = gxe.ExpectColumnValuesToBeBetween(column="collective_income", min_value=0, strict_min=True, row_condition=no_org)
    return _known_and("collective_income", rule, no_org)


def _p_owner(crit: Criterion, profile: Profile) -> list[Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("department", "lead", "responsible_person")]


MEMBERS_COMPLETE = "members_complete"  # meta check: the household's member rows are all there


def _members_complete(crit: Criterion, profile: Profile) -> list[Expectation]:
    """On the households table, for a criterion judged on member rows: every member of 家庭人口数 has a row.
    A household with fewer rows (none included) or an unknown 家庭人口数 cannot show the criterion."""
    complete = gxe.ExpectColumnValuesToBeBetween(column=MEMBERS_MISSING, max_value=0, meta={"check": MEMBERS_COMPLETE})
    known = gxe.ExpectColumnValuesToNotBeNull(column=MEMBERS_MISSING, meta={"check": MEMBERS_COMPLETE})
    return [known, complete]


CRITERION_BUILDERS: dict[str, Builder] = {
    "H-INCOME": _h_income,
    "H-HOUSING": _h_housing,
    "H-WATER": _h_water,
    "H-EDU": _h_edu,
    "H-MEDICAL": _h_medical,
    "H-SKILL": _h_skill,
    "H-LIVELIHOOD": _h_livelihood,
    "H-NEW-EXIT": _h_new_exit,
    "V-INCIDENCE": _v_incidence,
    "V-ROAD": _v_road,
    "V-POWER": _v_power,
    "V-TELECOM": _v_telecom,
    "V-WATER": _v_water,
    "V-CLINIC": _v_clinic,
    "V-CULTURE": _v_culture,
    "V-INDUSTRY": _v_industry,
    "V-SATISFACTION": _v_satisfaction,
    "V-INCOME-GROWTH": _v_income_growth,
    "V-COLLECTIVE": _v_collective,
    "P-OWNER": _p_owner,
}


def criteria_suites(profile: Profile) -> dict[str, gx.ExpectationSuite]:
    """Criteria suites by name, one per table the profile's criteria run on."""
    missing = [c.code for c in profile.criteria if c.code not in CRITERION_BUILDERS]
    if missing:
        raise ValueError(f"no expectations for criteria {', '.join(missing)} (expectations/suites.py)")
    by_table: dict[str, list[Expectation]] = {}
    for crit in profile.criteria:
        severity = "error" if crit.veto else "warning"
        built = CRITERION_BUILDERS[crit.code](crit, profile)
        tagged = _tagged(built, code=crit.code, severity=severity, family=CRITERIA, table=crit.table)
        by_table.setdefault(crit.table, []).extend(tagged)
        if crit.table == "members":
            # Missing people are not passing people: judged on the households table, tagged with the code.
            complete = _tagged(_members_complete(crit, profile), code=crit.code, severity=severity,
                               family=CRITERIA, table="households")
            by_table.setdefault("households", []).extend(complete)
    return {suite_name(CRITERIA, t): _suite(CRITERIA, t, exps, profile) for t, exps in by_table.items()}


# --- data-quality suites: from the submission template ----------------------------------------------


def quality_suites(profile: Profile) -> dict[str, gx.ExpectationSuite]:
    """Data-quality suites by name, one per validated table (households, members, villages, projects,
    surveys): required fields, ID format and check character, vocabularies, unique keys, village codes."""
    return {suite_name(QUALITY, t): _suite(QUALITY, t, _quality_expectations(t, profile), profile) for t in TABLES}


def _quality_expectations(table: str, profile: Profile) -> list[Expectation]:
    sheet = sheets()[table]
    vocab = vocabularies()
    rules: list[tuple[str, Expectation]] = []
    for col in sheet.columns:
        if col.required:
            rules.append(("DQ-REQUIRED", gxe.ExpectColumnValuesToNotBeNull(column=col.name)))
        if col.kind == "id_number":
            rules.append(("DQ-ID-FORMAT", gxe.ExpectColumnValuesToMatchRegex(column=col.name, regex=ASCII_ID_PATTERN)))
            rules.append(("DQ-ID-CHECK", ExpectColumnValuesToHaveGb11643CheckCharacter(column=col.name)))
        if col.vocabulary:
            allowed = list(vocab[col.vocabulary])
            in_vocabulary = gxe.ExpectColumnValuesToBeInSet(column=col.name, value_set=allowed, meta={"allowed": "、".join(allowed)})
            rules.append(("DQ-DICT", in_vocabulary))
        if col.kind == "carriers":
            names = "|".join(vocab["carriers"])
            pattern = f"^(?:{'|'.join(NONE_MARKERS)}|(?:{names})(?:、(?:{names}))*)$"
            carriers = gxe.ExpectColumnValuesToMatchRegex(column=col.name, regex=pattern, meta={"allowed": "、".join(vocab["carriers"])})
            rules.append(("DQ-DICT", carriers))
    if table == "projects":
        codes = list(raw_catalogue()["criteria"])
        known_code = gxe.ExpectColumnValuesToBeInSet(column="criterion_code", value_set=codes, meta={"allowed": "、".join(codes)})
        rules.append(("DQ-DICT", known_code))
    if sheet.row_key:
        rules.append(("DQ-DUPLICATE", gxe.ExpectColumnValuesToBeUnique(column=sheet.row_key)))
    rules += _consistency_rules(table, profile)
    if "village_code" in sheet.column_names:
        # village_code_in_township: see tasks/criteria_frames.village_code_in_township.
        in_township = gxe.ExpectColumnValuesToBeInSet(
            column="village_code_in_township", value_set=[True], meta={"column": "village_code"}
        )
        rules.append(("DQ-VILLAGE-CODE", in_township))
    out: list[Expectation] = []
    for code, exp in rules:
        out += _tagged([exp], code=code, severity=profile.data_rules[code]["severity"], family=QUALITY, table=table)
    return out


def _consistency_rules(table: str, profile: Profile) -> list[tuple[str, Expectation]]:
    """Rules across columns and tables (derived columns from tasks/criteria_frames.py)."""
    rules = profile.data_rules
    if table == "members":
        return [
            ("DQ-ID-SEX", gxe.ExpectColumnPairValuesToBeEqual(
                column_A="sex", column_B="id_sex", ignore_row_if="either_value_is_missing", meta={"column": "sex"})),
            ("DQ-MEMBER-ORPHAN", gxe.ExpectColumnValuesToBeInSet(
                column="household_listed", value_set=[True], meta={"column": "household_id"})),
            ("DQ-PERSON-TWICE", gxe.ExpectColumnValuesToBeUnique(column="id_number")),
        ]
    if table == "households":
        return [
            ("DQ-HOUSEHOLD-SIZE", gxe.ExpectColumnPairValuesToBeEqual(
                column_A="household_size", column_B="member_rows", ignore_row_if="either_value_is_missing",
                meta={"column": "household_size"})),
            ("DQ-INCOME-SUM", gxe.ExpectColumnValuesToBeBetween(
                column="income_components_gap", max_value=rules["DQ-INCOME-SUM"]["tolerance"], meta={"column": "net_income"})),
            ("DQ-INCOME-PER-CAPITA", gxe.ExpectColumnValuesToBeBetween(
                column="income_per_capita_gap", max_value=rules["DQ-INCOME-PER-CAPITA"]["tolerance"],
                meta={"column": "income_per_capita"})),
        ]
    return []


def _suite(family: str, table: str, expectations: list[Expectation], profile: Profile) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name=suite_name(family, table),
        expectations=expectations,
        meta={"family": family, "table": table, "profile": profile.name},
    )


def build_suites(profile: Profile) -> dict[str, gx.ExpectationSuite]:
    """All suites for a profile by name: the criteria family, then the quality family."""
    return {**criteria_suites(profile), **quality_suites(profile)}


def criterion_codes(suites: Mapping[str, gx.ExpectationSuite] | Iterable[gx.ExpectationSuite]) -> dict[str, int]:
    """Criterion codes that have expectations in the criteria suites, with how many each."""
    counts: dict[str, int] = {}
    for suite in suites.values() if isinstance(suites, Mapping) else suites:
        for exp in suite.expectations:
            if exp.meta.get("family") == CRITERIA:
                counts[exp.meta["code"]] = counts.get(exp.meta["code"], 0) + 1
    return counts
