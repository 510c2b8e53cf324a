"""One document never stops the county: names of any length fit the file system, a document that cannot be
linked is reported and the others go on, a render worker that dies is replaced and its documents retried once."""
from __future__ import annotations

import os

import pytest

from expectations.catalogue import load_profile
from tasks.assess import Readiness
from tasks.dossiers import VILLAGE, WORKER_DIED, DocumentJob, render_jobs, township_batches
from tasks.render.paths import (
    MAX_NAME_BYTES, attachment_path, department_list_path, dossier_path, township_summary_path,
)
from demo.preview import RUN, sample_county

PROFILE = load_profile("xunyang-2016")
COUNTY_FRAMES = sample_county(PROFILE, villages=4)
LONG = "王家坪" * 34  # 102 characters, 306 bytes in UTF-8
WIDE = "𠀀𠀁𠀂" * 40  # 120 characters of 4 bytes each (CJK Extension B)


def components(path: str) -> list[str]:
    return path.split("/")


@pytest.mark.parametrize("name", [LONG, WIDE, "a" * 400])
def test_every_name_the_tool_makes_fits_in_180_bytes_cut_on_a_character_and_keeps_its_code(name):
    village = {"township_code": "610928100", "township_name": name, "village_code": "610928100001",
               "village_name": name}
    paths = [dossier_path(village), attachment_path(dossier_path(village)), township_summary_path("610928100", name),
             department_list_path(name)]
    for path in paths:
        for part in components(path):
            assert len(part.encode("utf-8")) <= MAX_NAME_BYTES, part
            assert part.encode("utf-8").decode("utf-8") == part  # whole characters only
    assert components(dossier_path(village))[1].startswith("610928100_" + name[:5])
    assert components(dossier_path(village))[2].startswith("610928100001_" + name[:5])
    other = {**village, "village_code": "610928100002"}
    assert dossier_path(other) != dossier_path(village)  # the code keeps cut names apart
    assert dossier_path({**village, "village_name": "短名"}).endswith("/610928100001_短名.pdf")  # short names as before


def readiness_named(name: str) -> Readiness:
    villages = COUNTY_FRAMES["villages"].copy()
    villages.loc[villages.index[0], "village_name"] = name
    return Readiness(villages, COUNTY_FRAMES["village_criteria"], COUNTY_FRAMES["households"])


def first_batch(readiness: Readiness) -> list[DocumentJob]:
    return township_batches(readiness, (), COUNTY_FRAMES["projects"], COUNTY_FRAMES["issues"], COUNTY_FRAMES["trend"],
                            COUNTY_FRAMES["submissions"])[0]


def test_a_village_with_a_100_character_name_gets_its_dossier(tmp_path):
    batch = first_batch(readiness_named(LONG))
    assert LONG[:10] in batch[0].path
    stage = tmp_path / "stage"
    results = render_jobs(batch[:1], stage, PROFILE.name, RUN, processes=0)
    assert [r.ok for r in results] == [True], [r.error for r in results]
    assert (stage / batch[0].path).stat().st_size > 0 and (stage / attachment_path(batch[0].path)).exists()


def test_a_document_that_cannot_be_linked_is_reported_and_the_others_are_linked(tmp_path):
    batches = township_batches(readiness_named("某村"), (), COUNTY_FRAMES["projects"], COUNTY_FRAMES["issues"],
                               COUNTY_FRAMES["trend"], COUNTY_FRAMES["submissions"])
    jobs = [batches[0][0], batches[1][0]]  # two townships
    stage = tmp_path / "stage"
    blocked = stage / jobs[0].path
    blocked.parent.parent.mkdir(parents=True)
    blocked.parent.write_bytes(b"")  # a file where the first township's folder should be: linking into it fails
    results = render_jobs(jobs, stage, PROFILE.name, RUN, processes=0)
    assert not results[0].ok and "Error" in results[0].error and results[0].attachment == ""
    assert results[1].ok and (stage / jobs[1].path).exists()


class EndsTheProcess:
    """Data that ends the process reading it: unpickling it calls os._exit, so the render worker that receives
    a job carrying it dies at once, without an exception or a result, as a worker killed by the kernel's
    out-of-memory killer does. This is the seam: the worker is a real spawned process of the real pool and
    the product code has no test-only branch; only the job's data is unusual."""

    def __reduce__(self):
        return os._exit, (70,)

    def __repr__(self) -> str:  # the document key hashes unknown objects by their repr
        return "EndsTheProcess()"


@pytest.mark.slow
def test_a_worker_that_dies_is_replaced_its_batch_retried_once_and_only_its_document_fails(tmp_path):
    """Also: a document whose data cannot be sent to a worker is reported with its reason."""
    batches = township_batches(Readiness(COUNTY_FRAMES["villages"], COUNTY_FRAMES["village_criteria"],
                                         COUNTY_FRAMES["households"]), (), COUNTY_FRAMES["projects"],
                               COUNTY_FRAMES["issues"], COUNTY_FRAMES["trend"], COUNTY_FRAMES["submissions"])
    jobs = [job for batch in batches for job in batch]
    killer = DocumentJob(VILLAGE, "dossiers/x/killer.pdf", {**jobs[0].args, "poison": EndsTheProcess()}, "killer")
    unsendable = DocumentJob(VILLAGE, "dossiers/x/unsendable.pdf", {**jobs[0].args, "hook": lambda: None}, "unsendable")
    stage = tmp_path / "stage"
    results = render_jobs([killer, *jobs, unsendable], stage, PROFILE.name, RUN, processes=2)
    assert [r.ok for r in results] == [False] + [True] * len(jobs) + [False], [r.error for r in results]
    assert results[0].error == WORKER_DIED
    assert results[-1].error and results[-1].error != WORKER_DIED  # its own reason: it could not be sent
    for job in jobs:
        assert (stage / job.path).stat().st_size > 0
    assert not (stage / killer.path).exists()
    # the next batch of the run gets a working pool
    again = render_jobs(jobs, tmp_path / "stage-2", PROFILE.name, {**RUN, "as_of": "2016-10-02"}, processes=2)
    assert all(r.ok and not r.reused for r in again)
