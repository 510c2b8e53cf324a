"""Pipeline stages: pure functions over DataFrames, each wrapped once as a thin Prefect task.

`direct_calls()` runs the same flow body with every stage called as the plain function (no Prefect run, no
API), which is how the benchmarks measure what orchestration costs."""
from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from typing import Any, Callable

import evalprep  # noqa: F401  (telemetry off before Prefect is imported)

_DIRECT: contextvars.ContextVar[list | None] = contextvars.ContextVar("evalprep_direct_calls", default=None)


@contextmanager
def direct_calls() -> Iterator[list[tuple[str, float]]]:
    """Within this block, stage tasks are plain function calls (maps run in threads, as Prefect's default
    runner does) and tasks that only talk to Prefect (artifacts, progress) are skipped. Yields the list of
    (task name, seconds) the calls add to."""
    timings: list[tuple[str, float]] = []
    token = _DIRECT.set(timings)
    try:
        yield timings
    finally:
        _DIRECT.reset(token)


class StageTask:
    """A stage function as a Prefect task, built on first use: importing a stage module does not import
    Prefect (the render worker processes import the rendering code and never need it, ≈ 60 MB each).
    Inside `direct_calls()` it is a plain call."""

    def __init__(self, fn: Callable[..., Any], name: str, prefect_only: bool, options: dict[str, Any]) -> None:
        self.fn, self.name, self.prefect_only, self.options = fn, name, prefect_only, options

    @cached_property
    def task(self) -> Any:
        from prefect import task
        from prefect.cache_policies import NO_CACHE

        return task(self.fn, name=self.name, cache_policy=NO_CACHE, **self.options)

    def __getattr__(self, item: str) -> Any:  # with_options, submit, … of the Prefect task
        if item in ("fn", "name", "prefect_only", "options", "task"):
            raise AttributeError(item)
        return getattr(self.task, item)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        timings = _DIRECT.get()
        if timings is None:
            return self.task(*args, **kwargs)
        kwargs.pop("wait_for", None)
        started = time.perf_counter()
        result = None if self.prefect_only else self.fn(*args, **kwargs)
        timings.append((self.name, time.perf_counter() - started))
        return result

    def map(self, *args: Any, **kwargs: Any) -> Any:
        timings = _DIRECT.get()
        if timings is None:
            return self.task.map(*args, **kwargs)
        from prefect.utilities.annotations import unmapped
        from prefect.utilities.collections import isiterable

        kwargs.pop("wait_for", None)
        started = time.perf_counter()
        mapped = [a for a in (*args, *kwargs.values()) if isiterable(a) and not isinstance(a, unmapped)]
        count = len(mapped[0]) if mapped else 0

        def item(value: Any, index: int) -> Any:  # Prefect's rules: unmapped and non-iterables go to every call
            if isinstance(value, unmapped):
                return value.value
            return value[index] if isiterable(value) else value

        calls = [([item(a, i) for a in args], {k: item(v, i) for k, v in kwargs.items()}) for i in range(count)]
        context = contextvars.copy_context()
        with ThreadPoolExecutor(max(count, 1)) as pool:
            results = list(pool.map(lambda call: context.copy().run(self.fn, *call[0], **call[1]), calls))
        timings.append((self.name, time.perf_counter() - started))
        return results


def stage_task(fn: Callable[..., Any], name: str, prefect_only: bool = False, **options: Any) -> StageTask:
    """A Prefect task over a pure stage function. No input hashing: the inputs are large DataFrames, and
    incremental reruns are keyed by content hashes of their own (tasks/document_store.py). `prefect_only`:
    the stage only reports to Prefect (artifacts), so a direct run skips it."""
    return StageTask(fn, name, prefect_only, options)
