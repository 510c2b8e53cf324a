"""The criteria catalogue (catalogue.yaml) as typed objects, resolved for one profile."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
DEFAULT_PROFILE = "xunyang-2016"
_EPS = 1e-12  # rates are ratios of floats: 1/50 must count as "at 2%"
BAND_FAIL, BAND_PASS, BAND_EXCELLENT = "fail", "pass", "excellent"


@dataclass(frozen=True)
class Criterion:
    """One evaluation criterion as a profile uses it."""

    code: str
    level: str
    table: str
    label: str
    rule: str
    measure: str
    veto: bool
    department: str
    co_departments: tuple[str, ...]
    source: str
    source_text: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def departments(self) -> tuple[str, ...]:
        return (self.department, *self.co_departments)

    def rectify_by(self, evaluation_date: dt.date) -> dt.date:
        """整改台账: the date an open item of this criterion is due — the evaluation date less the catalogue's
        rectify_days_before_evaluation (0 when the criterion gives none)."""
        return evaluation_date - dt.timedelta(days=int(self.params.get("rectify_days_before_evaluation", 0)))

    def band_of(self, values: Any) -> np.ndarray:
        """The band of hypothetical values of a rate criterion (a sample not yet drawn, a fake county): the
        same lines GX applies to the real data (expectations/suites.py), here for what GX never sees.
        `fail_below`/`excellent_from`: fail below the first, excellent from the second, pass between;
        `max`: pass strictly below. NaN fails. Compared exactly as GX compares (no tolerance: a rate k/n equal
        to a line is the line's own float). Real villages read their status from the validation."""
        values = np.asarray(values, dtype=float)
        known = ~np.isnan(values)
        if "fail_below" in self.params:
            v = np.nan_to_num(values, nan=-np.inf)
            bands = np.where(v < self.params["fail_below"], BAND_FAIL,
                             np.where(v < self.params.get("excellent_from", np.inf), BAND_PASS, BAND_EXCELLENT))
        elif "max" in self.params:
            bands = np.where(np.nan_to_num(values, nan=np.inf) < self.params["max"], BAND_PASS, BAND_FAIL)
        else:
            raise ValueError(f"{self.code} has no rate line")
        return np.where(known, bands, BAND_FAIL)


@dataclass(frozen=True)
class Profile:
    """A named selection of criteria with the year, poverty line and evaluation date."""

    name: str
    label: str
    year: int
    poverty_line: float
    evaluation_date: dt.date
    criteria: tuple[Criterion, ...]
    metrics: dict[str, dict[str, Any]]
    sampling: dict[str, Any]
    threshold_reading: dict[str, Any]
    source_texts: dict[str, str]
    sources: tuple[str, ...]
    data_rules: dict[str, dict[str, str]]
    departments: tuple[str, ...]

    def criterion(self, code: str) -> Criterion:
        for crit in self.criteria:
            if crit.code == code:
                return crit
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.criteria)

    def by_level(self, level: str) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.level == level)

    def metric_fails(self, key: str, values: Any) -> np.ndarray:
        """The one comparison of an evaluators' metric (错退率, 漏评率, 认可度, 综合贫困发生率) with its line:
        `max` passes only strictly below, `min` only strictly above when `threshold_reading.at_threshold` is
        fail (the catalogue says why); NaN never fails. Works on a number or an array."""
        metric, at_line_fails = self.metrics[key], self.threshold_reading["at_threshold"] == "fail"
        values = np.asarray(values, dtype=float)
        if "max" in metric:
            v = np.nan_to_num(values, nan=-np.inf)
            return v >= metric["max"] - _EPS if at_line_fails else v > metric["max"] + _EPS
        v = np.nan_to_num(values, nan=np.inf)
        return v <= metric["min"] + _EPS if at_line_fails else v < metric["min"] - _EPS


_BASE_FIELDS = {"level", "table", "label", "rule", "measure", "veto", "department", "co_departments", "source"}


@lru_cache(maxsize=None)
def raw_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def profile_names() -> list[str]:
    return list(raw_catalogue()["profiles"])


def _format_rule(text: str, values: dict[str, Any]) -> str:
    pct = {f"{k}_pct": f"{v * 100:g}%" for k, v in values.items() if isinstance(v, float) and v <= 1}
    try:
        return text.format(**values, **pct)
    except (KeyError, IndexError):
        return text


@lru_cache(maxsize=None)
def load_profile(name: str = DEFAULT_PROFILE, poverty_line: float | None = None) -> Profile:
    """Resolve a profile: base criteria merged with the profile's overrides, rules filled in."""
    cat = raw_catalogue()
    if name not in cat["profiles"]:
        raise ValueError(f"未知的评估标准 {name!r}；可选：{', '.join(cat['profiles'])}")
    prof = cat["profiles"][name]
    year = int(prof["year"])
    line = float(poverty_line if poverty_line is not None else cat["poverty_lines"][year])
    criteria = []
    for code, override in prof["criteria"].items():
        merged = {**cat["criteria"][code], **(override or {})}
        params = {k: v for k, v in merged.items() if k not in _BASE_FIELDS}
        params.setdefault("poverty_line", line)
        criteria.append(
            Criterion(
                code=code,
                level=merged["level"],
                table=merged["table"],
                label=merged["label"],
                rule=_format_rule(merged["rule"], {**params, "poverty_line": f"{line:g}"}),
                measure=merged["measure"],
                veto=bool(merged["veto"]),
                department=merged["department"],
                co_departments=tuple(merged.get("co_departments", ())),
                source=merged["source"],
                source_text=cat["sources"][merged["source"]],
                params=params,
            )
        )
    return Profile(
        name=name,
        label=prof["label"],
        year=year,
        poverty_line=line,
        evaluation_date=prof["evaluation_date"],
        criteria=tuple(criteria),
        metrics=cat["metrics"],
        sampling=cat["sampling"],
        threshold_reading=cat["threshold_reading"],
        source_texts=dict(cat["sources"]),
        sources=tuple(cat["sources"][s] for s in prof["sources"]),
        data_rules=cat["data_rules"],
        departments=tuple(cat["departments"]),
    )
