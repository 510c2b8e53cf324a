"""Pipeline stages: pure functions over DataFrames, each wrapped once as a thin Prefect task."""
from __future__ import annotations

from typing import Any, Callable

import evalprep  # noqa: F401  (telemetry off before Prefect is imported)
from prefect import task
from prefect.cache_policies import NO_CACHE


def stage_task(fn: Callable[..., Any], name: str, **options: Any):
    """A Prefect task over a pure stage function. No input hashing: the inputs are large DataFrames,
    and incremental reruns are keyed by content hashes of their own."""
    return task(fn, name=name, cache_policy=NO_CACHE, **options)
