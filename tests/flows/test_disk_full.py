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


@pytest.fixture(scope="module")
def earlier_week_on_a_small_disk(small_county, prefect_harness, tmp_path_factory):
    """A 64 MB tmpfs holding the week before, published by a real run (unmounted afterwards); the history
    folder is elsewhere."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    root = tmp_path_factory.mktemp("disk-full")
    disk = root / "out"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("EVALPREP_DATA_DIR", str(root / "data"))
            assert run_cli(small_county, disk, EARLIER_WEEK) == 0
            yield disk, root / "data"
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def run_cli(county: Path, out: Path, week: str) -> int:
    from flows.cli import main

    return main(["run", "--inbox", str(county / "inbox"), "--week", week, "--out", str(out),
                 "--reference", str(county / "reference")])


def fill(disk: Path, leave: int) -> None:
    """Leave only `leave` bytes free on the disk."""
    free = shutil.disk_usage(disk).free
    with open(disk / "filler.bin", "wb") as handle:
        handle.write(bytes(max(free - leave, 0)))


def tables_bytes(week: Path) -> int:
    return sum(p.stat().st_size for p in week.rglob("*") if p.is_file() and p.suffix not in (".pdf", ".xlsx"))


@pytest.mark.parametrize("where", ["tables", "documents"])
def test_a_full_disk_ends_the_run_with_one_line_and_exit_2_and_gives_the_space_back(
        small_county, earlier_week_on_a_small_disk, capsys, where):
    disk, data = earlier_week_on_a_small_disk
    earlier = files(disk / EARLIER_WEEK)
    # full while writing the tables, or with room for the tables but not for the documents (Prefect's log then
    # shows the render-township-dossiers and render-roll-ups tasks failing with OSError 28, seen when written)
    fill(disk, 40_000 if where == "tables" else tables_bytes(disk / EARLIER_WEEK) + 400_000)
    capsys.readouterr()
    try:
        code = run_cli(small_county, disk, LAST_WEEK)
        err = capsys.readouterr().err
    finally:
        (disk / "filler.bin").unlink()

    assert code == 2  # returned, not raised: no traceback at the end
    ours = [line for line in err.splitlines() if line.startswith("evalprep: ")]
    assert len(ours) == 1 and err.rstrip().endswith(ours[0]), err[-3000:]
    assert "磁盘空间不足" in ours[0] and "disk full" in ours[0] and str(disk) in ours[0]
    assert not (disk / LAST_WEEK).exists()
    assert not list(disk.glob(".staging-*"))  # the run's staging folder is removed
    assert not [p for p in disk.rglob("*") if p.name.endswith(".part")]
    assert files(disk / EARLIER_WEEK) == earlier  # the published week as it was
    from tasks.history import weeks_recorded

    assert LAST_WEEK not in weeks_recorded(data / "history", "xunyang-2016")  # nothing published, nothing recorded
