"""Archiving and receipts after a kill at any point: the states a kill leaves behind, made on disk, then the real
archive step run again — every archived file ends with exactly one receipt, and the log stays readable."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tasks.ingest.archive import RECEIPTS, archive_submission, content_hash, read_receipts
from tasks.ingest.references import load_register
from tasks.ingest.week import ingest_week

FIXTURES = Path(__file__).parent / "ingest" / "fixtures"
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
WEEK = "2016-W39"
BOOK = "610928103_蜀河镇_2016-W39.xlsx"


@pytest.fixture()
def inbox(tmp_path) -> Path:
    folder = tmp_path / "inbox" / WEEK
    folder.mkdir(parents=True)
    shutil.copyfile(FIXTURES / BOOK, folder / BOOK)
    shutil.copyfile(FIXTURES / "corrupt.xlsx", folder / "610928104_双河镇.xlsx")
    return folder


def receipt_lines(archive: Path) -> list[str]:
    return (archive / RECEIPTS).read_text(encoding="utf-8").splitlines()


def shas(archive: Path) -> list[str]:
    return [json.loads(line)["sha256"] for line in receipt_lines(archive)]


def archived(archive: Path) -> set[str]:
    return {p.parent.name for p in archive.glob("??/*/*") if not p.name.startswith(".")}


def test_a_file_archived_without_its_receipt_gets_it_on_the_next_run_and_only_once(inbox, tmp_path):
    archive = tmp_path / "archive"
    source = inbox / BOOK
    sha = content_hash(source)
    (archive / sha[:2] / sha).mkdir(parents=True)
    shutil.copy2(source, archive / sha[:2] / sha / BOOK)  # the copy was renamed in; the kill came before the receipt
    assert not (archive / RECEIPTS).exists()

    first = archive_submission(source, archive, WEEK)
    again = archive_submission(source, archive, WEEK)
    assert first == again == (sha, archive / sha[:2] / sha / BOOK, False)
    assert shas(archive) == [sha]


def test_a_last_line_cut_short_neither_breaks_reading_nor_swallows_the_next_receipt(inbox, tmp_path):
    archive = tmp_path / "archive"
    book, other = inbox / BOOK, inbox / "610928104_双河镇.xlsx"
    archive_submission(book, archive, WEEK)
    sha_other = content_hash(other)
    whole = json.dumps({"sha256": sha_other, "file": other.name, "week": WEEK, "archived_at": "2016-10-03T09:00:00"})
    with open(archive / RECEIPTS, "a", encoding="utf-8") as log:  # killed while appending the second receipt
        log.write(whole[: len(whole) // 2])
    target = archive / sha_other[:2] / sha_other
    target.mkdir(parents=True)
    shutil.copy2(other, target / other.name)

    assert [r["sha256"] for r in read_receipts(archive)] == [content_hash(book)]  # the cut line is skipped
    archive_submission(other, archive, WEEK)
    lines = receipt_lines(archive)
    assert [json.loads(line)["sha256"] for line in lines] == [content_hash(book), sha_other]  # every line whole


def test_a_copy_cut_short_is_copied_again(inbox, tmp_path):
    archive = tmp_path / "archive"
    source = inbox / BOOK
    sha = content_hash(source)
    folder = archive / sha[:2] / sha
    folder.mkdir(parents=True)
    (folder / f".{BOOK}.x1y2z3.part").write_bytes(source.read_bytes()[:100])  # killed while copying

    assert archive_submission(source, archive, WEEK) == (sha, folder / BOOK, True)
    assert (folder / BOOK).read_bytes() == source.read_bytes()
    assert [p.name for p in folder.iterdir()] == [BOOK]
    assert shas(archive) == [sha]


def test_the_week_ingest_after_every_kill_state_leaves_one_receipt_per_archived_file(inbox, tmp_path):
    """Every kill state at once, then a whole real ingest, twice: one receipt per archived file, no leftovers."""
    archive = tmp_path / "archive"
    register = load_register(REFERENCE, REFERENCE)
    book, other = inbox / BOOK, inbox / "610928104_双河镇.xlsx"
    sha_book, sha_other = content_hash(book), content_hash(other)
    (archive / sha_book[:2] / sha_book).mkdir(parents=True)
    shutil.copy2(book, archive / sha_book[:2] / sha_book / BOOK)  # archived, no receipt
    (archive / sha_other[:2] / sha_other).mkdir(parents=True)
    (archive / sha_other[:2] / sha_other / f".{other.name}.abc.part").write_bytes(b"PK")  # half copied
    (archive / RECEIPTS).write_text('{"sha256": "' + sha_book[:20], encoding="utf-8")  # half a receipt

    for _ in range(2):
        ingest_week(inbox, WEEK, archive, register, 10 * 1024 * 1024)
    assert sorted(shas(archive)) == sorted([sha_book, sha_other]) and archived(archive) == {sha_book, sha_other}
    assert not list(archive.glob("??/*/.*"))
