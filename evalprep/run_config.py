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


def _county(reference: Path, fallback: Path) -> dict:
    for folder in (reference, fallback):
        path = folder / "county.yaml"
        if path.exists():
            return yaml.safe_load(path.read_text(encoding="utf-8"))
    return {}


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
    reference_dir = Path(reference).resolve() if reference else inbox_dir.parent / "reference"
    county = _county(reference_dir, settings.reference_dir)
    return RunConfig(
        week=week,
        week_dir=week_dir,
        out_dir=Path(out).resolve() if out else settings.out_dir,
        profile=load_profile(profile),
        as_of=dt.date.fromisoformat(as_of) if as_of else week_sunday(week),
        register=load_register(reference_dir, settings.reference_dir),
        county=county,
        settings=settings,
        design=load_design(overrides=county.get("evaluation_design")),
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
