"""Everything one run needs, resolved once from the command line or deployment parameters."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from evalprep.settings import Settings, load_settings
from evalprep.weeks import WEEK_RE, parse_week, week_sunday
from expectations.catalogue import DEFAULT_PROFILE, Profile, load_profile
from tasks.ingest.references import Register, load_register
from tasks.evaluation_design import EvaluationDesign, load_design
from tasks.ingest.week import Deadline


@dataclass(frozen=True)
class RunConfig:
    week: str
    week_dir: Path
    out_dir: Path
    profile: Profile
    as_of: dt.date
    register: Register
    county: dict
    settings: Settings
    design: EvaluationDesign
    townships: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        """OUT/<folder>: the week for a county run; for a narrowed run (inspection) the week and its scope,
        so that it never replaces the week's complete output."""
        codes = self.villages or self.townships
        if not codes:
            return self.week
        scope = "_".join(codes) if len(codes) <= 3 else f"{len(codes)}-{hashlib.sha256('|'.join(codes).encode()).hexdigest()[:8]}"
        return f"{self.week}-inspection-{scope}"

    @property
    def rollups(self) -> str:
        """Which roll-ups the run renders: all of them for the county ("county"); for an inspection of some
        townships only theirs ("townships"), whose data it read whole; none for an inspection of some villages
        ("none"): a county summary or department list of a narrowed run would count part of the county."""
        return "none" if self.villages else "townships" if self.townships else "county"

    @property
    def deadline(self) -> Deadline:
        return Deadline(self.settings.deadline_day, self.settings.deadline_time)

    @property
    def targets(self) -> dict[str, int]:
        return self.county.get("targets", {}).get(self.profile.year, {"key_villages": 0, "exit_households": 0})

    @property
    def county_rural_income(self) -> float | None:
        """全县农村居民人均可支配收入 (元) of the profile year, from county.yaml; None when it gives none."""
        return _for_year(self.county.get(RURAL_INCOME), self.profile.year)

    @property
    def previous_income_ratio(self) -> float | dict[str, float] | None:
        """Last year's exit-income ratio for the profile year: one county-wide figure or village code → ratio."""
        return _for_year(self.county.get(PREVIOUS_RATIO), self.profile.year)


COUNTY_FILE = "county.yaml"
RURAL_INCOME, PREVIOUS_RATIO = "rural_income", "previous_income_ratio"


class CountyFileError(ValueError):
    """county.yaml cannot be used: the message is one line naming the file and the key."""


def _for_year(by_year: dict | None, year: int):
    return (by_year or {}).get(year)


def _number(value: object, path: Path, key: str, *, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 or (upper and value > upper):
        bound = f"，且不大于 {upper:g}" if upper else ""
        raise CountyFileError(f"{path}：{key} 应为大于 0 的数字{bound}，现为「{value}」")
    return float(value)


def _by_year(raw: object, path: Path, key: str) -> dict[int, object]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CountyFileError(f"{path}：{key} 应按年度填写（如 {key}: {{2016: …}}），现为「{raw}」")
    out = {}
    for year, value in raw.items():
        if not str(year).isdigit() or len(str(year)) != 4:
            raise CountyFileError(f"{path}：{key} 的年度「{year}」不是四位年份")
        out[int(year)] = value
    return out


DESIGN = "evaluation_design"  # the county's overrides of the catalogue's evaluation design


def load_county(reference: Path, fallback: Path) -> dict:
    """county.yaml from the reference folder (else the fallback): county name, targets by year, and the inputs of
    V-INCOME-GROWTH by profile year — rural_income (元) and previous_income_ratio (one county-wide figure, or
    village code → figure). Absent inputs are allowed (the criterion is then 无法判定); malformed ones raise
    CountyFileError naming the file and the key."""
    for folder in (reference, fallback):
        path = folder / COUNTY_FILE
        if path.exists():
            break
    else:
        return {}
    try:
        county = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark is not None else "格式"
        raise CountyFileError(f"{path}：{where} YAML 格式错误，无法读取") from None
    if county is None:
        return {}
    if not isinstance(county, dict):
        raise CountyFileError(f"{path}：文件应为“键: 值”的映射，现为「{type(county).__name__}」")
    incomes = {y: _number(v, path, f"{RURAL_INCOME}.{y}") for y, v in _by_year(county.get(RURAL_INCOME), path, RURAL_INCOME).items()}
    ratios: dict[int, object] = {}
    for year, value in _by_year(county.get(PREVIOUS_RATIO), path, PREVIOUS_RATIO).items():
        key = f"{PREVIOUS_RATIO}.{year}"
        if isinstance(value, dict):
            for code in value:
                if not (isinstance(code, str) and code.isdigit() and len(code) == 12):
                    raise CountyFileError(f"{path}：{key} 的村代码「{code}」应为带引号的12位村代码")
            ratios[year] = {code: _number(v, path, f"{key}.{code}", upper=10) for code, v in value.items()}
        else:
            ratios[year] = _number(value, path, key, upper=10)
    if county.get(DESIGN) is not None:
        try:
            load_design(overrides=county[DESIGN])
        except (ValueError, TypeError) as exc:
            raise CountyFileError(f"{path}：{DESIGN} {exc}") from None
    return {**county, RURAL_INCOME: incomes, PREVIOUS_RATIO: ratios}


def reference_dir(inbox_dir: Path, reference: str | None) -> Path:
    """--reference, else the reference folder beside the inbox."""
    return Path(reference).resolve() if reference else inbox_dir.parent / "reference"


def latest_week(inbox_dir: Path) -> str:
    """The newest week folder (YYYY-Www) in an inbox: what an inspection or a scheduled run works on."""
    weeks = [p.name for p in inbox_dir.iterdir() if p.is_dir() and WEEK_RE.match(p.name)] if inbox_dir.is_dir() else []
    if not weeks:
        raise FileNotFoundError(f"收件箱中没有任何周次文件夹（YYYY-Www）：{inbox_dir}")
    return max(weeks, key=parse_week)


def resolve_run(inbox: str | None, week: str | None, out: str | None = None, profile: str = DEFAULT_PROFILE,
                as_of: str | None = None, townships: list[str] | tuple[str, ...] = (),
                villages: list[str] | tuple[str, ...] = (), reference: str | None = None) -> RunConfig:
    """Paths, profile, register and cut-off date of a run; a missing inbox or reference is an error."""
    settings = load_settings()
    inbox_dir = Path(inbox).resolve() if inbox else settings.inbox_dir
    week = week or latest_week(inbox_dir)
    week_dir = inbox_dir / week
    if not week_dir.is_dir():
        raise FileNotFoundError(f"收件箱中没有 {week} 文件夹：{week_dir}")
    reference_folder = reference_dir(inbox_dir, reference)
    county = load_county(reference_folder, settings.reference_dir)
    return RunConfig(
        week=week,
        week_dir=week_dir,
        out_dir=Path(out).resolve() if out else settings.out_dir,
        profile=load_profile(profile),
        as_of=dt.date.fromisoformat(as_of) if as_of else week_sunday(week),
        register=load_register(reference_folder, settings.reference_dir),
        county=county,
        settings=settings,
        design=load_design(overrides=county.get(DESIGN)),
        townships=tuple(townships),
        villages=tuple(villages),
    )


def run_metadata(config: RunConfig, submissions: pd.DataFrame) -> dict:
    """What every document prints about its run; the run id derives from the inputs, so the same
    inputs give the same documents, byte for byte."""
    used = sorted(submissions.loc[submissions["used"], "sha256"]) if len(submissions) else []
    identity = "|".join([config.week, config.profile.name, config.as_of.isoformat(), *used])
    return {
        "county": config.county.get("county_name", config.settings.county_name),
        "week": config.week,
        "as_of": config.as_of,
        "generated_on": config.as_of,
        "run_id": hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12],
        "profile": config.profile.name,
        "targets": config.targets,
    }
