"""Shared fixtures: the small demo county, generated once per session, and one real flow run on it."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SMALL_SEED = 2016
LAST_WEEK = "2016-W39"
# The documents' generation date (生成于) pinned for every test and the runs it starts, so two runs compare
# byte for byte even across midnight: 2016-10-03 12:00 Asia/Shanghai.
os.environ.setdefault("SOURCE_DATE_EPOCH", "1475467200")


def files(folder: Path) -> dict[str, bytes]:
    """Every file under a run folder by its relative path, with its bytes (to compare two runs)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def small_county(tmp_path_factory) -> Path:
    from demo import generate_demo

    root = tmp_path_factory.mktemp("small-county")
    generate_demo(root, seed=SMALL_SEED, small=True)
    return root


@pytest.fixture(scope="session")
def small_manifest(small_county) -> dict:
    return json.loads((small_county / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def small_data_dir(tmp_path_factory) -> Path:
    """The data folder (archive, history) of small_run: read it from here, not from the environment, which
    a test's own monkeypatch may have changed since."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def small_run(small_county, prefect_harness, small_data_dir, tmp_path_factory, monkeypatch_session) -> Path:
    """The weekly flow, for real, on the last week of the small demo county."""
    from flows.weekly import weekly_county_run

    data_dir = small_data_dir
    monkeypatch_session.setenv("EVALPREP_DATA_DIR", str(data_dir))
    out = tmp_path_factory.mktemp("out")
    published = weekly_county_run(inbox=str(small_county / "inbox"), week=LAST_WEEK, out=str(out),
                                  reference=str(small_county / "reference"))
    return Path(published)


@pytest.fixture(scope="session")
def monkeypatch_session():
    with pytest.MonkeyPatch.context() as patch:
        yield patch
