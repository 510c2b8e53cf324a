"""The readiness tables agree with the demo generator's truth for every village and household, every week
(pure pipeline functions, no Prefect: the flow itself is covered in tests/flows)."""
from __future__ import annotations

from pathlib import Path

import pytest

from evalprep.weeks import week_sunday
from expectations.catalogue import load_profile
from tasks.assess import assess_readiness
from tasks.criteria_frames import criteria_frames
from tasks.ingest.references import load_register
from tasks.ingest.week import ingest_week
from tasks.validate import validate_profile

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
WEEKS = ["2016-W36", "2016-W37", "2016-W38", "2016-W39"]


@pytest.mark.parametrize("week", WEEKS)
def test_every_village_and_household_matches_the_truth(week, small_county, small_manifest, tmp_path):
    profile = load_profile("xunyang-2016")
    register = load_register(small_county / "reference", REFERENCE)
    ingest = ingest_week(small_county / "inbox" / week, week, tmp_path / "archive", register, 50 * 1024 * 1024)
    frames = criteria_frames(ingest.tables, week_sunday(week), profile)
    readiness = assess_readiness(frames, validate_profile(frames, profile).failures, profile)
    truth = small_manifest["by_week"][week]

    villages = readiness.villages.set_index("village_code")
    assert set(villages.index) == set(truth["villages"])
    for code, expected in truth["villages"].items():
        got = villages.loc[code]
        assert (got["grade"], sorted(got["failing_criteria"])) == (expected["grade"], expected["failing_criteria"]), code
        assert got["satisfaction_rate"] == pytest.approx(expected["satisfaction_rate"], abs=1e-6)
        assert got["poverty_incidence"] == pytest.approx(expected["poverty_incidence"], abs=1e-6)
        assert got["wrong_exit_rate"] == pytest.approx(expected["wrong_exit_rate"], abs=1e-6)
        assert (got["households"], got["households_failing"]) == (expected["households"], expected["households_failing"])

    failing = {h: sorted(c) for h, c in zip(readiness.households["household_id"], readiness.households["failing_criteria"]) if c}
    assert failing == {h: sorted(c) for h, c in truth["households_failing"].items()}
