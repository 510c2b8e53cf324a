"""The deployments load with the right schedule and parameters; an inspection renders only its village."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import LAST_WEEK, files


def test_weekly_inspection_and_rehearsal_deployments_load_with_their_schedule_and_parameters():
    from flows.serve import INSPECTION, REHEARSAL, WEEKLY, deployments

    weekly, inspection, rehearsal = deployments()
    assert (weekly.name, inspection.name, rehearsal.name) == (WEEKLY, INSPECTION, REHEARSAL)
    (schedule,) = weekly.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 7 * * 1", "Asia/Shanghai")
    assert weekly.parameters == {"inbox": None, "week": None, "profile": "xunyang-2016"}
    assert not inspection.schedules
    assert set(inspection.parameters) == {"townships", "villages", "week", "profile"}
    assert not rehearsal.schedules  # on demand
    assert rehearsal.parameters == {"inbox": None, "week": None, "seed": 2016, "profile": "xunyang-2016"}


def test_the_schedule_comes_from_the_settings(monkeypatch):
    from flows.serve import deployments

    monkeypatch.setenv("EVALPREP_WEEKLY_CRON", "30 6 * * 1")
    (schedule,) = deployments()[0].schedules
    assert schedule.schedule.cron == "30 6 * * 1"


@pytest.mark.slow
def test_an_inspection_of_one_village_renders_only_that_dossier(small_run, small_county, small_manifest, tmp_path,
                                                                 monkeypatch):
    from flows.inspection import inspection_run

    village = sorted(small_manifest["by_week"][LAST_WEEK]["villages"])[3]
    monkeypatch.setenv("EVALPREP_INBOX", str(small_county / "inbox"))
    # the week's complete output in the same output folder the inspection publishes to
    shutil.copytree(small_run, tmp_path / LAST_WEEK)
    week_before = files(tmp_path / LAST_WEEK)
    published = Path(inspection_run(villages=[village], out=str(tmp_path)))
    assert published.name == f"{LAST_WEEK}-inspection-{village}" and published.parent == tmp_path
    dossiers = [p.name for p in (published / "dossiers").rglob("*.pdf")]
    assert len(dossiers) == 1 and dossiers[0].startswith(village)
    assert not (published / "summaries").exists() and not (published / "departments").exists()
    assert files(tmp_path / LAST_WEEK) == week_before  # the week's complete output is untouched, byte for byte
