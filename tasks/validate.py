"""Validate each county-wide frame once with its GX suites: failures as a long table (data-model.md §3)
plus the GX result JSON per suite. Bad data never raises; it comes back as failures."""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

import evalprep  # noqa: F401  (sets GX_ANALYTICS_ENABLED=false before GX is imported)
import great_expectations as gx
from evalprep.template import sheets
from expectations.catalogue import Profile
from expectations.suites import build_suites
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.batch_definition import BatchDefinition
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import ProgressBarsConfig

logger = logging.getLogger(__name__)

FAILURE_COLUMNS = (
    "table", "row", "key", "household_id", "village_code", "code", "severity", "family", "column", "expectation", "band",
)
DATASOURCE = "evalprep"
# No unexpected_index_column_names: GX then returns row labels (the frames' RangeIndex positions), which
# costs ≈ 2 s at worst on 140k failing rows against 30 s+ with index columns (notes/measured.md).
RESULT_FORMAT = {"result_format": "COMPLETE", "return_unexpected_index_query": False}


class Validation(NamedTuple):
    """failures: one row per failing row × expectation; results: GX result JSON by suite name."""

    failures: pd.DataFrame
    results: dict[str, dict[str, Any]]


def validate_profile(
    frames: Mapping[str, pd.DataFrame], profile: Profile, *, context: AbstractDataContext | None = None
) -> Validation:
    """Validate the criteria frames (tasks/criteria_frames) with all of the profile's suites."""
    return validate_frames(frames, build_suites(profile), context=context)


def validation_context() -> AbstractDataContext:
    """An ephemeral GX context (nothing written to disk) without progress bars."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def validate_frames(
    frames: Mapping[str, pd.DataFrame],
    suites: Mapping[str, gx.ExpectationSuite],
    *,
    context: AbstractDataContext | None = None,
) -> Validation:
    """Run every suite over its table's frame (suite.meta["table"]), one batch per frame."""
    context = validation_context() if context is None else context
    by_table: dict[str, list[gx.ExpectationSuite]] = {}
    for suite in suites.values():
        by_table.setdefault(suite.meta["table"], []).append(suite)
    missing = sorted(set(by_table) - set(frames))
    if missing:
        raise ValueError(f"no frame for tables {', '.join(missing)}")

    parts, results = [], {}
    for table, table_suites in by_table.items():
        frame = frames[table]
        if frame.index.name is not None or not frame.index.is_unique:
            # GX returns index values only for an unnamed index, and a row must map to one entity.
            raise ValueError(f"frame {table!r} needs a unique unnamed index (criteria_frames gives a RangeIndex)")
        batch = _batch_definition(context, table).get_batch(batch_parameters={"dataframe": frame})
        for suite in table_suites:
            started = time.perf_counter()
            result = batch.validate(suite, result_format=RESULT_FORMAT)
            results[suite.name] = without_values(result.to_json_dict())
            parts.append(suite_failures(table, frame, result))
            elapsed = time.perf_counter() - started
            logger.info("validated %s: %d rows × %d expectations in %.2f s", suite.name, len(frame), len(suite.expectations), elapsed)
    failures = pd.concat(parts, ignore_index=True) if parts else _empty_failures()
    return Validation(failures, results)


VALUE_LISTS = ("unexpected_list", "partial_unexpected_list", "partial_unexpected_counts")


def without_values(result: dict) -> dict:
    """A suite result without the failing values themselves (they include ID numbers, and a county's worth
    of them is memory the run does not need): row numbers and counts stay."""
    return {**result, "results": [
        {**r, "result": {k: v for k, v in (r.get("result") or {}).items() if k not in VALUE_LISTS}}
        for r in result.get("results", [])]}


def _batch_definition(context: AbstractDataContext, table: str) -> BatchDefinition:
    try:
        datasource = context.data_sources.get(DATASOURCE)
    except (KeyError, ValueError):
        datasource = context.data_sources.add_pandas(DATASOURCE)
    try:
        asset = datasource.get_asset(table)
    except LookupError:
        asset = datasource.add_dataframe_asset(name=table)
    try:
        return asset.get_batch_definition(table)
    except KeyError:
        return asset.add_batch_definition_whole_dataframe(table)


def suite_failures(table: str, frame: pd.DataFrame, result: ExpectationSuiteValidationResult) -> pd.DataFrame:
    """The failures of one suite result as rows of FAILURE_COLUMNS; an expectation that could not be
    evaluated (GX caught an exception) gives one row with row = <NA>."""
    rows, labels = [], []
    for res in result.results:
        if res.success:
            continue
        index = res.result.get("unexpected_index_list")
        if index is None or _raised(res.exception_info):
            index = [None]
        cfg = res.expectation_config
        kwargs = cfg.kwargs
        column = cfg.meta.get("column") or kwargs.get("column") or kwargs.get("column_A")
        meta = cfg.meta
        labels.append((len(index), meta.get("code"), meta.get("severity"), meta.get("family"), column, cfg.type, meta.get("band")))
        rows.append(index)
    if not rows:
        return _empty_failures()

    counts = [n for n, *_ in labels]
    flat = pd.array([r for chunk in rows for r in chunk], dtype="Int64")
    out = pd.DataFrame({"table": pd.array([table] * len(flat), dtype="str"), "row": flat})
    for i, name in enumerate(("code", "severity", "family", "column", "expectation", "band"), start=1):
        out[name] = pd.array(np.repeat(np.array([lab[i] for lab in labels], dtype=object), counts), dtype="str")
    positions = frame.index.get_indexer(flat.fillna(-1).to_numpy())
    key = sheets()[table].row_key
    for target, source in (("key", key), ("household_id", "household_id"), ("village_code", "village_code")):
        out[target] = _take(frame[source], positions) if source in frame else pd.array([None] * len(out), dtype="str")
    return out[list(FAILURE_COLUMNS)]


def _take(values: pd.Series, positions: np.ndarray) -> pd.array:
    """values at row positions; <NA> where the position is -1 (no row)."""
    return pd.array(values.astype("str").reset_index(drop=True).reindex(positions).to_numpy(), dtype="str")


def _raised(info: Mapping[str, Any] | None) -> bool:
    if not info:
        return False
    if "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(isinstance(v, Mapping) and v.get("raised_exception") for v in info.values())


def _empty_failures() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.array([], dtype="str") for c in FAILURE_COLUMNS})
    out["row"] = pd.array([], dtype="Int64")
    return out
