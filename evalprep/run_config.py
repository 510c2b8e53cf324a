"""Everything one run needs, resolved once from the command line or deployment parameters."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from evalprep.settings import Settings, load_settings
from evalprep.weeks import week_sunday
from expectations.catalogue import DEFAULT_PROFILE, Profile, load_profile
from tasks.ingest.references import Register, load_register
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
    townships: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()

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


def resolve_run(inbox: str, week: str, out: str | None = None, profile: str = DEFAULT_PROFILE,
                as_of: str | None = None, townships: list[str] | tuple[str, ...] = (),
                villages: list[str] | tuple[str, ...] = (), reference: str | None = None) -> RunConfig:
    """Paths, profile, register and cut-off date of a run; a missing inbox or reference is an error."""
    settings = load_settings()
    inbox_dir = Path(inbox).resolve()
    week_dir = inbox_dir / week
    if not week_dir.is_dir():
        raise FileNotFoundError(f"收件箱中没有 {week} 文件夹：{week_dir}")
    reference_dir = Path(reference).resolve() if reference else inbox_dir.parent / "reference"
    return RunConfig(
        week=week,
        week_dir=week_dir,
        out_dir=Path(out).resolve() if out else settings.out_dir,
        profile=load_profile(profile),
        as_of=dt.date.fromisoformat(as_of) if as_of else week_sunday(week),
        register=load_register(reference_dir, settings.reference_dir),
        county=_county(reference_dir, settings.reference_dir),
        settings=settings,
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
