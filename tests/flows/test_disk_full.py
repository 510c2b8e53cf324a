"""A disk that fills during a run, for real: the output folder is a small tmpfs (mounted when the tests run as
root, as CI does; skipped otherwise). Chosen over RLIMIT_FSIZE because that limit applies to every file the
process writes (Prefect's database too) and gives EFBIG, not the ENOSPC a full disk gives; a tmpfs fills like a
real disk and only the output folder is on it."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import LAST_WEEK, files

pytestmark = pytest.mark.slow
EARLIER_WEEK = "2016-W38"


@pytest.fixture()
def small_disk(tmp_path):
    """A 64 MB tmpfs at tmp_path/out, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "out"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def run_cli(county: Path, out: Path, week: str, capsys) -> tuple[int, str]:
    from evalprep.cli import main

    code = main(["run", "--inbox", str(county / "inbox"), "--week", week, "--out", str(out),
                 "--reference", str(county / "reference")])
    return code, capsys.readouterr().err


def fill(disk: Path, leave: int) -> None:
    """Leave only `leave` bytes free on the disk."""
    free = shutil.disk_usage(disk).free
    with open(disk / "filler.bin", "wb") as handle:
        handle.write(bytes(max(free - leave, 0)))


@pytest.mark.parametrize("leave", [40_000, 1_500_000])  # full while writing the tables / while storing documents
def test_a_full_disk_ends_the_run_with_one_line_and_exit_2_and_gives_the_space_back(
        small_county, prefect_harness, small_disk, tmp_path, monkeypatch, capsys, leave):
    monkeypatch.setenv("EVALPREP_DATA_DIR", str(tmp_path / "data"))
    code, _ = run_cli(small_county, small_disk, EARLIER_WEEK, capsys)
    assert code == 0
    earlier = files(small_disk / EARLIER_WEEK)
    fill(small_disk, leave)

    code, err = run_cli(small_county, small_disk, LAST_WEEK, capsys)

    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "磁盘空间不足" in lines[0] and "disk full" in lines[0], err
    assert str(small_disk) in lines[0]
    assert "Traceback" not in err
    assert not (small_disk / LAST_WEEK).exists()
    assert not list(small_disk.glob(".staging-*"))  # the run's staging folder is removed
    assert not [p for p in small_disk.rglob("*") if p.name.endswith(".part")]
    assert files(small_disk / EARLIER_WEEK) == earlier  # the published week as it was
    from tasks.history import weeks_recorded

    assert LAST_WEEK not in weeks_recorded(tmp_path / "data" / "history", "xunyang-2016")  # nothing published
