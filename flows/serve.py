"""The one serve entry point: the weekly county run on a cron schedule, the on-demand inspection and the
on-demand rehearsal (模拟评估)."""
from __future__ import annotations

import evalprep  # noqa: F401  (telemetry off before Prefect is imported)
from prefect import serve
from prefect.schedules import Cron

from evalprep.settings import load_settings
from expectations.catalogue import DEFAULT_PROFILE
from flows.inspection import inspection_run
from flows.rehearsal import rehearsal_run
from flows.weekly import weekly_county_run
from tasks.rehearsal import DEFAULT_SEED

WEEKLY = "weekly-county"
INSPECTION = "inspection"
REHEARSAL = "rehearsal"


def deployments() -> list:
    """The three deployments, schedule and defaults from the settings (EVALPREP_WEEKLY_CRON, _TIMEZONE)."""
    settings = load_settings()
    weekly = weekly_county_run.to_deployment(
        name=WEEKLY,
        schedule=Cron(settings.weekly_cron, timezone=settings.timezone),
        parameters={"inbox": None, "week": None, "profile": DEFAULT_PROFILE},
        concurrency_limit=1,
        description="每周一全县迎评运行：收件箱最新一周的各镇报表 → 校验 → 评定 → 档案",
        tags=["evalprep", "weekly"],
    )
    inspection = inspection_run.to_deployment(
        name=INSPECTION,
        parameters={"townships": [], "villages": [], "week": None, "profile": DEFAULT_PROFILE},
        description="检查前按需运行：指定镇或村，用最新数据生成档案",
        tags=["evalprep", "inspection"],
    )
    rehearsal = rehearsal_run.to_deployment(
        name=REHEARSAL,
        parameters={"inbox": None, "week": None, "seed": DEFAULT_SEED, "profile": DEFAULT_PROFILE},
        description="模拟评估按需运行：按评估组抽样方式抽一次样本，生成抽中村名单和每户一页的入户核查表",
        tags=["evalprep", "rehearsal"],
    )
    return [weekly, inspection, rehearsal]


def serve_deployments() -> None:
    """Register the deployments with the Prefect API and run their flow runs from this process."""
    serve(*deployments(), pause_on_shutdown=False)  # a stop (reboot, service restart) never pauses the schedule
