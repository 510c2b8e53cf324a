"""Ingestion: township submissions → archived raw files, canonical tables, outcomes and issues.

The names below load on first use, so that importing a light submodule (references, archive) does not import
the readers and pandas: the CLI checks reference files before anything heavy loads."""
from __future__ import annotations

from typing import Any

__all__ = ["WeekIngest", "ingest_week"]


def __getattr__(name: str) -> Any:
    if name in ("WeekIngest", "ingest_week"):
        from tasks.ingest import week

        return getattr(week, name)
    raise AttributeError(name)
