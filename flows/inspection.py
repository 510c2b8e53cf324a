"""On-demand runs before an inspection: one township's or one village's dossiers from the newest data."""
from __future__ import annotations

import evalprep  # noqa: F401  (telemetry off before Prefect is imported)
from prefect import flow

from expectations.catalogue import DEFAULT_PROFILE
from flows import prefect_tasks as t
from flows.weekly import weekly_county_run


@flow(name="inspection")
def inspection_run(townships: list[str] | None = None, villages: list[str] | None = None, week: str | None = None,
                   as_of: str | None = None, profile: str = DEFAULT_PROFILE, out: str | None = None) -> str:
    """The weekly flow narrowed to the inspected townships/villages, on the newest week unless given."""
    scope = t.scope(townships or [], villages or [])
    return weekly_county_run(inbox=None, week=week, out=out, profile=profile, as_of=as_of,
                             townships=scope["townships"], villages=scope["villages"])
