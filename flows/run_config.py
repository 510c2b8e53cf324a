"""Everything one run needs, resolved once from the command line or deployment parameters.

`check_inputs` validates every argument and input a run starts from — week, profile, cut-off date, codes, the
reference folder and its files, the inbox and the week's folder — and raises evalprep.errors.InputError with a
one-line reason. It imports nothing heavy (no pandas, no Prefect), so the CLI calls it before the flows load;
`resolve_run`, the flow's first step, calls it too, so a deployment run fails with the same error."""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from evalprep.errors import InputError, MissingInputError
from evalprep.inbox import check_week_folder, reference_dir
from evalprep.settings import Settings, load_settings
from evalprep.weeks import WEEK_RE, parse_week, week_sunday
from tasks.ingest.references import Contact, Register, load_contacts, load_register

if TYPE_CHECKING:
    import pandas as pd

    from expectations.catalogue import Profile
    from tasks.evaluation_design import EvaluationDesign
    from tasks.ingest.week import Deadline

DEFAULT_PROFILE = "xunyang-2016"  # expectations.catalogue.DEFAULT_PROFILE (not imported here: it loads numpy)
TARGET_KEYS = ("key_villages", "exit_households")


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
    contacts: tuple[Contact, ...] = ()  # reference/contacts.csv: who receives the week's outbox

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
        from tasks.ingest.week import Deadline

        return Deadline(self.settings.deadline_day, self.settings.deadline_time)

    @property
    def targets(self) -> dict[str, int]:
        """The profile year's exit targets from county.yaml (check_inputs made sure they are there)."""
        return self.county.get("targets", {})[self.profile.year]

    @property
    def county_rural_income(self) -> float | None:
        """全县农村居民人均可支配收入 (元) of the profile year, from county.yaml; None when it gives none."""
        return _for_year(self.county.get(RURAL_INCOME), self.profile.year)

    @property
    def evaluation_date(self) -> dt.date:
        """The day of the third-party evaluation the rectification deadlines count back from: county.yaml's
        evaluation_date of the profile year, else the catalogue profile's."""
        return _for_year(self.county.get(EVALUATION_DATE), self.profile.year) or self.profile.evaluation_date

    @property
    def previous_income_ratio(self) -> float | dict[str, float] | None:
        """Last year's exit-income ratio for the profile year: one county-wide figure or village code → ratio."""
        return _for_year(self.county.get(PREVIOUS_RATIO), self.profile.year)


COUNTY_FILE = "county.yaml"
RURAL_INCOME, PREVIOUS_RATIO = "rural_income", "previous_income_ratio"
EVALUATION_DATE = "evaluation_date"  # by year: the day the rectification ledger's deadlines count back from


class CountyFileError(InputError):
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


def county_file(reference: Path, fallback: Path | None) -> Path | None:
    """The county.yaml a run reads: the reference folder's, else the fallback's; None when neither has one."""
    for folder in (reference, fallback):
        if folder is not None and (folder / COUNTY_FILE).exists():
            return folder / COUNTY_FILE
    return None


def _targets(raw: object, path: Path) -> dict[int, dict[str, int]]:
    """targets: {year: {key_villages: n, exit_households: n}}, whole non-negative numbers."""
    out = {}
    for year, value in _by_year(raw, path, "targets").items():
        if not isinstance(value, dict):
            raise CountyFileError(f"{path}：targets.{year} 应写明 key_villages 和 exit_households，现为「{value}」")
        for key in TARGET_KEYS:
            number = value.get(key)
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise CountyFileError(f"{path}：targets.{year}.{key} 应为不小于 0 的整数，现为「{number}」")
        out[year] = {**value, **{key: int(value[key]) for key in TARGET_KEYS}}
    return out


def load_county(reference: Path, fallback: Path | None) -> dict:
    """county.yaml from the reference folder (else the fallback): county name, targets by year, and the inputs of
    V-INCOME-GROWTH by profile year — rural_income (元) and previous_income_ratio (one county-wide figure, or
    village code → figure). Absent inputs are allowed (the criterion is then 无法判定); malformed ones raise
    CountyFileError naming the file and the key. Whether the profile year's targets are there is checked by
    check_inputs (county_targets), which knows the year."""
    path = county_file(reference, fallback)
    if path is None:
        return {}
    try:
        county = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark is not None else "格式"
        raise CountyFileError(f"{path}：{where} YAML 格式错误，无法读取") from None
    except UnicodeDecodeError:
        raise CountyFileError(f"{path}：不是 UTF-8 编码，无法读取；请以 UTF-8 编码保存") from None
    if county is None:
        return {}
    if not isinstance(county, dict):
        raise CountyFileError(f"{path}：文件应为“键: 值”的映射，现为「{type(county).__name__}」")
    targets = _targets(county.get("targets"), path)
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
    dates = _by_year(county.get(EVALUATION_DATE), path, EVALUATION_DATE)
    for year, day in dates.items():
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise CountyFileError(f"{path}：{EVALUATION_DATE}.{year} 应为日期（如 2016-12-31），现为「{day}」")
    if county.get(DESIGN) is not None:
        from tasks.evaluation_design import load_design

        try:
            load_design(overrides=county[DESIGN])
        except (ValueError, TypeError) as exc:
            raise CountyFileError(f"{path}：{DESIGN} {exc}") from None
    loaded = {**county, RURAL_INCOME: incomes, PREVIOUS_RATIO: ratios, EVALUATION_DATE: dates}
    return {**loaded, "targets": targets} if "targets" in county else loaded


def county_targets(county: dict, year: int, path: Path) -> dict[str, int]:
    """The year's exit targets; their absence is an error (a run against targets of 0 would print every share
    as reached or meaningless)."""
    targets = county.get("targets", {}).get(year)
    wanted = f"targets.{year}.key_villages 和 targets.{year}.exit_households"
    if targets is None and path.name != COUNTY_FILE:
        raise MissingInputError(f"参考数据目录 {path} 中找不到 {COUNTY_FILE}：需要其中的 {year} 年脱贫目标（{wanted}），"
                                "请补上该文件后重新运行")
    if targets is None:
        raise CountyFileError(f"{path}：没有 {year} 年的脱贫目标（{wanted}），请补填后重新运行")
    return targets


def latest_week(inbox_dir: Path) -> str:
    """The newest week folder (YYYY-Www) in an inbox: what an inspection or a scheduled run works on."""
    weeks = []
    for p in inbox_dir.iterdir() if inbox_dir.is_dir() else ():
        if p.is_dir() and WEEK_RE.match(p.name):
            try:
                weeks.append((parse_week(p.name), p.name))
            except ValueError:  # a folder named like a week that does not exist (2016-W99): not a week
                continue
    if not weeks:
        raise MissingInputError(f"收件箱中没有任何周次文件夹（YYYY-Www，如 2016-W39）：{inbox_dir}")
    return max(weeks)[1]


def check_week(week: object) -> str:
    """A week argument as the county writes it (2016-W39) that exists in the ISO calendar; checked before any
    path is built from it."""
    if not isinstance(week, str) or not WEEK_RE.match(week):
        raise InputError(f"周次（--week）格式不对：应为 YYYY-Www（如 2016-W39），收到「{week}」")
    try:
        parse_week(week)
    except ValueError:
        year = int(week[:4])
        last = dt.date(year, 12, 28).isocalendar()[1] if 1 <= year <= 9999 else 0
        span = f"{year} 年只有 {last} 周（{year}-W01 … {year}-W{last:02d}）" if last else "年份超出范围"
        raise InputError(f"周次（--week）「{week}」不存在：{span}") from None
    return week


@lru_cache(maxsize=1)
def profile_years() -> dict[str, int]:
    """Profile name → year, from the catalogue (expectations/catalogue.yaml, expectations.catalogue's file) read
    with libyaml and without importing that module, which loads numpy: the CLI answers a bad --profile fast."""
    origin = importlib.util.find_spec("expectations").origin  # the package is not imported by find_spec
    text = Path(origin).with_name("catalogue.yaml").read_text(encoding="utf-8")
    profiles = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["profiles"]
    return {name: int(body["year"]) for name, body in profiles.items()}


def check_profile(profile: str) -> str:
    names = list(profile_years())
    if profile not in names:
        raise InputError(f"未知的评估标准（--profile）「{profile}」；可选：{'、'.join(names)}")
    return profile


def check_as_of(as_of: str | None) -> dt.date | None:
    if as_of is None:
        return None
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise InputError(f"数据截止日期（--as-of）格式不对：应为 YYYY-MM-DD（如 2016-10-02），收到「{as_of}」") from None


def check_codes(townships: list[str] | tuple[str, ...], villages: list[str] | tuple[str, ...]) -> None:
    """--township / --village codes: 9 and 12 digits (they name the inspection's output folder)."""
    from tasks.ingest.references import CODE_FORMS

    bad = [f"--township {c}" for c in townships if not CODE_FORMS["township_code"].match(str(c))]
    bad += [f"--village {c}" for c in villages if not CODE_FORMS["village_code"].match(str(c))]
    if bad:
        raise InputError(f"代码格式不对（镇代码9位数字，村代码12位数字）：{'、'.join(bad)}")


@dataclass(frozen=True)
class CheckedInputs:
    """What check_inputs found: every path exists and every file read cleanly."""

    week: str
    inbox_dir: Path
    week_dir: Path
    reference_dir: Path
    county: dict
    register: Register
    profile: str
    as_of: dt.date | None
    settings: Settings
    contacts: tuple[Contact, ...] = ()


def reference_folders(inbox_dir: Path, reference: str | None, settings: Settings) -> tuple[Path, Path | None]:
    """The reference folder a run reads and the folder filling in what it lacks: a named --reference alone (a
    mistyped folder must not silently use another register), else the folder beside the inbox, then
    data/reference/."""
    if reference:
        return Path(reference).resolve(), None
    return reference_dir(inbox_dir, None), settings.reference_dir


def county_name(inbox: str | None, reference: str | None, settings: Settings | None = None) -> str:
    """The county's name as a run with these arguments prints it (county.yaml's county_name, else the setting),
    for messages about a run that may have failed before reading its inputs: never raises."""
    settings = settings or load_settings()
    try:
        inbox_dir = Path(inbox).resolve() if inbox else settings.inbox_dir
        county = load_county(*reference_folders(inbox_dir, reference, settings))
        return str(county.get("county_name") or settings.county_name)
    except (CountyFileError, OSError, ValueError):
        return settings.county_name


def check_inputs(inbox: str | None, week: str | None, profile: str | None = None, as_of: str | None = None,
                 townships: list[str] | tuple[str, ...] = (), villages: list[str] | tuple[str, ...] = (),
                 reference: str | None = None, settings: Settings | None = None) -> CheckedInputs:
    """Every argument and input of a run, in this order: the arguments (week, profile, cut-off date, codes),
    the reference data (the folder when named, county.yaml with the profile year's targets, townships.csv,
    villages.csv), then the inbox and the week's folder (it exists and is not empty). Raises InputError
    (MissingInputError for what does not exist) with one line naming the argument or file.

    A named --reference is used alone (no file falls back to data/reference/: a mistyped folder must not
    silently use another register); without one, the folder beside the inbox is read and data/reference/
    fills in the files it lacks."""
    settings = settings or load_settings()
    if week is not None:
        check_week(week)
    profile = check_profile(profile or DEFAULT_PROFILE)
    cut_off = check_as_of(as_of)
    check_codes(townships, villages)
    inbox_dir = Path(inbox).resolve() if inbox else settings.inbox_dir
    folder, fallback = reference_folders(inbox_dir, reference, settings)
    if reference and not folder.is_dir():
        raise MissingInputError(f"参考数据目录（--reference）不存在：{folder}；请检查路径")
    county = load_county(folder, fallback)
    county_targets(county, profile_years()[profile], county_file(folder, fallback) or folder)
    register = load_register(folder, fallback)
    contacts = load_contacts(folder)
    if not inbox_dir.is_dir():
        how = "--inbox" if inbox else "EVALPREP_INBOX 或 data/inbox"
        raise MissingInputError(f"收件箱不存在：{inbox_dir}（{how}）；请检查路径")
    week = week or latest_week(inbox_dir)
    week_dir = inbox_dir / week
    check_week_folder(week_dir, week)
    return CheckedInputs(week, inbox_dir, week_dir, folder, county, register, profile, cut_off, settings, contacts)


def resolve_run(inbox: str | None, week: str | None, out: str | None = None, profile: str | None = DEFAULT_PROFILE,
                as_of: str | None = None, townships: list[str] | tuple[str, ...] = (),
                villages: list[str] | tuple[str, ...] = (), reference: str | None = None) -> RunConfig:
    """Paths, profile, register and cut-off date of a run, after check_inputs (InputError when it cannot start)."""
    from expectations.catalogue import load_profile
    from tasks.evaluation_design import load_design

    checked = check_inputs(inbox, week, profile, as_of, townships, villages, reference)
    settings = checked.settings
    return RunConfig(
        week=checked.week,
        week_dir=checked.week_dir,
        out_dir=Path(out).resolve() if out else settings.out_dir,
        profile=load_profile(checked.profile),
        as_of=checked.as_of or week_sunday(checked.week),
        register=checked.register,
        county=checked.county,
        settings=settings,
        design=load_design(overrides=checked.county.get(DESIGN)),
        townships=tuple(townships),
        villages=tuple(villages),
        contacts=checked.contacts,
    )


SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"  # https://reproducible-builds.org/specs/source-date-epoch/


def generation_date(timezone: str, environ: Mapping[str, str] | None = None) -> dt.date:
    """The calendar day a run makes its documents (生成于), in the county's time zone: today, or the day of
    SOURCE_DATE_EPOCH (seconds since 1970, UTC) when it is set, so tests and reproducible builds pin it."""
    from zoneinfo import ZoneInfo

    environ = os.environ if environ is None else environ
    epoch = (environ.get(SOURCE_DATE_EPOCH) or "").strip()
    if epoch:
        try:
            instant = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise InputError(f"环境变量 {SOURCE_DATE_EPOCH} 应为整数秒数（如 1475467200），现为 {epoch!r}") from None
    else:
        instant = dt.datetime.now(dt.timezone.utc)
    return instant.astimezone(ZoneInfo(timezone)).date()


def run_metadata(config: RunConfig, submissions: pd.DataFrame) -> dict:
    """What every document prints about its run; the run id derives from the inputs, so the same
    inputs give the same documents, byte for byte. The generation date (生成于) is taken once here, the
    calendar day of the run (generation_date); it is not part of a document's store key, so a document
    reused from the store keeps the date it was made (tasks/document_store.py)."""
    used = sorted(submissions.loc[submissions["used"], "sha256"]) if len(submissions) else []
    identity = "|".join([config.week, config.profile.name, config.as_of.isoformat(), *used])
    return {
        "county": config.county.get("county_name", config.settings.county_name),
        "week": config.week,
        "as_of": config.as_of,
        "generated_on": generation_date(config.settings.timezone),
        "run_id": hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12],
        "profile": config.profile.name,
        "targets": config.targets,
    }
