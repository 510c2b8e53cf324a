"""The document store: keys from content (stable across processes, blind to the run id), linking, pruning."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pandas as pd

from tasks import document_store
from tasks.document_store import DocumentStore, document_key, renderer_fingerprint
from demo.preview import RUN

FRAME = pd.DataFrame({"household_id": ["h1", "h2"], "income": [3200.5, float("nan")],
                      "failing_criteria": [["H-INCOME"], []], "week": pd.to_datetime(["2016-09-25", "2016-09-25"])})
ARGS = {"village": {"village_code": "610928100001", "grade": "合格", "rate": 0.91}, "households": FRAME}


def key(args=ARGS, run=RUN, profile="xunyang-2016", path="dossiers/a.pdf") -> str:
    return document_key("village", path, args, profile, run)


def test_same_content_same_key_whatever_the_run_id():
    assert key() == key(args={"village": dict(ARGS["village"]), "households": FRAME.copy()})
    assert key() == key(run={**RUN, "run_id": "another-run"})


def test_any_change_to_data_path_profile_or_printed_run_facts_changes_the_key():
    changed = FRAME.copy()
    changed.loc[1, "failing_criteria"] = ["H-HOUSING"]
    variants = [
        key(args={**ARGS, "households": changed}),
        key(args={**ARGS, "households": FRAME.assign(income=[3200.6, float("nan")])}),
        key(args={**ARGS, "village": {**ARGS["village"], "grade": "未达标"}}),
        key(run={**RUN, "as_of": "2016-10-02"}),
        key(profile="shaanxi-2017"),
        key(path="dossiers/b.pdf"),
    ]
    assert len({key(), *variants}) == len(variants) + 1


def test_the_key_is_the_same_in_another_process():
    code = ("from tests.test_document_store import key; print(key())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "123"})
    assert out.stdout.strip() == key()


def test_a_template_change_changes_every_key(tmp_path, monkeypatch):
    before = key()
    template = tmp_path / "templates"
    template.mkdir()
    (template / "x.html.j2").write_text("a", encoding="utf-8")
    monkeypatch.setattr(document_store, "RENDERER_SOURCES", (template,))
    renderer_fingerprint.cache_clear()
    try:
        first = key()
        (template / "x.html.j2").write_text("b", encoding="utf-8")
        renderer_fingerprint.cache_clear()
        assert len({before, first, key()}) == 3
    finally:
        renderer_fingerprint.cache_clear()


def test_stored_files_link_into_a_run_and_unused_ones_are_pruned(tmp_path):
    store = DocumentStore(tmp_path)
    store.put("ab" * 32, ".pdf", b"%PDF-old")
    store.put("cd" * 32, ".pdf", b"%PDF-new")
    assert store.has("ab" * 32, (".pdf",)) and not store.has("ab" * 32, (".pdf", ".xlsx"))
    old = time.time() - 40 * 86400
    os.utime(store.path("ab" * 32, ".pdf"), (old, old))
    os.utime(store.path("cd" * 32, ".pdf"), (old, old))
    store.link("cd" * 32, ".pdf", tmp_path / "run" / "x.pdf")  # used now: kept
    assert store.prune(28) == 1
    assert not store.has("ab" * 32, (".pdf",)) and store.has("cd" * 32, (".pdf",))
    assert (tmp_path / "run" / "x.pdf").read_bytes() == b"%PDF-new"


def test_threads_storing_the_same_document_at_once_all_succeed(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    store = DocumentStore(tmp_path)
    data = b"%PDF-" + bytes(200_000)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: store.put("ef" * 32, ".pdf", data), range(200)))
    assert store.path("ef" * 32, ".pdf").read_bytes() == data
    assert sorted(p.name for p in store.path("ef" * 32, ".pdf").parent.iterdir()) == [f"{'ef' * 32}.pdf",
                                                                                      f"{'ef' * 32}.pdf.sha256"]


def test_a_slice_of_a_row_hashed_frame_has_the_digest_of_that_slice_alone():
    """RowHashed cuts a subset's digest from the whole frame's row hashes: it must equal hashing the subset
    as a frame of its own — for a mask, a group, no rows at all and the whole frame."""
    frame = pd.DataFrame({"township_code": ["2", "1", "2", "1"], "name": ["甲", "乙", "丙", "丁"],
                          "codes": [["H-INCOME"], [], ["H-HOUSING"], []], "n": [1.0, 2.0, float("nan"), 4.0]})
    hashed = document_store.RowHashed(frame)
    alone = lambda part: document_store._frame_digest(part).hex()  # noqa: E731  (what digest() puts for a frame)
    mask = frame["n"] > 1
    assert hashed.where(mask).digest == alone(frame[mask]) != alone(frame)
    assert hashed.where(False).digest == alone(frame.iloc[0:0])
    assert hashed.whole().digest == alone(frame)
    groups = hashed.groups("township_code")
    assert list(groups) == ["2", "1"]
    for code, part in groups.items():
        assert part.frame.equals(frame[frame["township_code"] == code])
        assert part.digest == alone(frame[frame["township_code"] == code])
    assert hashed.digests("township_code") == {code: part.digest for code, part in groups.items()}
