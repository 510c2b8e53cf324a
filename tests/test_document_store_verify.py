"""Stored documents are checked (size, then sha256, recorded when stored) before they are reused: a damaged one
is rendered again under a new file, never repaired in place (published weeks hard-link the old one)."""
from __future__ import annotations

import os
import stat

from expectations.catalogue import load_profile
from tasks.assess import Readiness
from tasks.dossiers import render_jobs, township_batches
from tasks.document_store import DocumentStore, document_key
from demo.preview import RUN, sample_county

KEY = "ab" * 32


def test_put_records_size_and_hash_and_both_files_are_read_only(tmp_path):
    store = DocumentStore(tmp_path)
    store.put(KEY, ".pdf", b"%PDF-1.7 whole")
    assert store.has(KEY, (".pdf",)) and store.damaged(KEY, (".pdf",)) == []
    for path in (store.path(KEY, ".pdf"), store.check_path(KEY, ".pdf")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert store.check_path(KEY, ".pdf").read_text().split()[1] == str(len(b"%PDF-1.7 whole"))


def damage(path, data: bytes) -> None:
    os.chmod(path, 0o644)
    path.write_bytes(data)  # in place, as a failing disk or a stray editor would
    os.chmod(path, 0o444)


def test_a_truncated_a_changed_or_an_unchecked_file_is_not_reused(tmp_path):
    store = DocumentStore(tmp_path)
    store.put(KEY, ".pdf", b"%PDF-1.7 whole")
    damage(store.path(KEY, ".pdf"), b"%PDF-1.7")
    assert not store.has(KEY, (".pdf",)) and store.damaged(KEY, (".pdf",)) == [store.path(KEY, ".pdf")]
    store.put(KEY, ".pdf", b"%PDF-1.7 whole")
    damage(store.path(KEY, ".pdf"), b"%PDF-1.7 WHOLE")  # same size, other bytes
    assert not store.has(KEY, (".pdf",))
    store.put(KEY, ".pdf", b"%PDF-1.7 whole")
    store.check_path(KEY, ".pdf").unlink()  # stored before checks existed, or the check lost
    assert not store.has(KEY, (".pdf",))


def test_pruning_removes_a_document_with_its_check(tmp_path):
    store = DocumentStore(tmp_path)
    store.put(KEY, ".pdf", b"%PDF-1.7 whole")
    os.utime(store.path(KEY, ".pdf"), (0, 0))
    assert store.prune(28) == 1
    assert list(store.root.glob("*/*")) == []


def test_a_stored_pdf_truncated_between_two_runs_is_rendered_again_and_the_earlier_week_left_as_it_is(tmp_path):
    profile = load_profile("xunyang-2016")
    frames = sample_county(profile, villages=4)
    readiness = Readiness(frames["villages"], frames["village_criteria"], frames["households"])
    batch = township_batches(readiness, (), frames["projects"], frames["issues"], frames["trend"],
                             frames["submissions"])[0]
    job = batch[0]
    out = tmp_path / "out"
    first = render_jobs(batch, out / "week-1", profile.name, RUN, processes=0)  # "published" week 1
    assert all(r.ok for r in first)
    whole = (out / "week-1" / job.path).read_bytes()
    store = DocumentStore(out)
    key = document_key(job.kind, job.path, job.args, profile.name, RUN, job.inputs)
    stored = store.path(key, ".pdf")
    damage(stored, whole[: len(whole) // 2])  # damages week 1's copy too: the same file (hard link)

    second = render_jobs(batch, out / "week-2", profile.name, RUN, processes=0)

    assert second[0].ok and not second[0].reused  # rendered again, not linked damaged
    assert all(r.reused for r in second[1:])
    assert (out / "week-2" / job.path).read_bytes() == whole
    assert store.has(key, (".pdf", ".xlsx")) and stored.read_bytes() == whole
    assert stat.S_IMODE(stored.stat().st_mode) == 0o444
    assert (out / "week-1" / job.path).stat().st_ino != stored.stat().st_ino  # a new file, not repaired in place
    assert (out / "week-1" / job.path).read_bytes() == whole[: len(whole) // 2]  # left as it is (reported in the log)
