"""Input limits before memory (issue 12, items 3 and 10c): zip bombs, stream-lying zips, sheets declaring or
using millions of cells, random bytes behind the OLE2 signature. Every bomb is small on disk; each week is
read in a child process (with an address-space ceiling so a regression fails the test, not the test run)
that reports its outcomes and its peak memory."""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tasks.ingest.limits import Limits, check_xlsx
from tasks.ingest.references import load_register
from tasks.ingest.submission import read_submission
from tasks.ingest.week import OFFICE_TZ

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
ROOT = Path(__file__).resolve().parents[2]
WEEK = "2016-W39"
LIMIT = 50 * 1024 * 1024  # EVALPREP_MAX_FILE_MB's default
GOOD = "610928103_蜀河镇_2016-W39.xlsx"
MB = 1024 * 1024

CHILD = r"""
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, 3 * 1024 ** 3))
from tasks.ingest.references import load_register
from tasks.ingest.week import ingest_week
inbox, archive, reference, limit = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
register = load_register(reference, reference)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = ingest_week(inbox, inbox.name, archive, register, limit)
rows = result.submissions[result.submissions["file"] != ""]
print(json.dumps({"outcomes": {f: [s, r] for f, s, r in zip(rows["file"], rows["status"], rows["reason"])},
                  "rules": {f: sorted(set(g["rule"])) for f, g in result.issues.groupby("file")},
                  "households": {c: int(n) for c, n in result.tables["households"]["township_code"].value_counts().items()},
                  "before_kib": before, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "reader_peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, ensure_ascii=False))
"""


def ingest_in_child(inbox: Path, tmp_path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(inbox), str(tmp_path / "archive"), str(REFERENCE), str(LIMIT)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, f"the week's ingestion died (status {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the bombs, built small ------------------------------------------------------------------------------

def patch_sizes(path: Path, member: str, declared: int, *, local: bool) -> None:
    """Rewrite a member's declared uncompressed size in the central directory (and its local header)."""
    data = bytearray(path.read_bytes())
    name = member.encode("utf-8")
    for signature, offset in ((b"PK\x01\x02", 24),) + (((b"PK\x03\x04", 22),) if local else ()):
        for m in re.finditer(re.escape(signature), data):
            start = m.start()
            name_offset = 46 if signature == b"PK\x01\x02" else 30
            length = struct.unpack_from("<H", data, start + (28 if signature == b"PK\x01\x02" else 26))[0]
            if bytes(data[start + name_offset:start + name_offset + length]) == name:
                struct.pack_into("<I", data, start + offset, declared)
    path.write_bytes(bytes(data))


def csv_zip_declaring_2gb(path: Path) -> None:
    """A zip of zeros whose central directory says 2 GB uncompressed (a few KB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("贫困户.csv", b"0" * (1 * MB))
    patch_sizes(path, "贫困户.csv", 2 * 1024 ** 3 - 1, local=True)


def csv_zip_of_zeros(path: Path, megabytes: int = 120) -> None:
    """A real ratio bomb: 120 MB of one repeated CSV line, ~0.2 MB deflated."""
    line = b"6109281032010001,0,0,0,0,0,0,0,0,0\r\n"
    block = line * (MB // len(line))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("贫困户.csv", "w") as out:
        for _ in range(megabytes):
            out.write(block)


def csv_zip_lying(path: Path) -> None:
    """A member declaring 1 KB (central directory and local header) that inflates to 60 MB."""
    csv_zip_of_zeros(path, 60)
    patch_sizes(path, "贫困户.csv", 1024, local=True)


def xlsx_rewritten(source: Path, target: Path, edit) -> None:
    """The good fixture workbook with the households sheet's XML passed through `edit`."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = edit(data)
            out.writestr(info.filename, data)


def xlsx_declaring(target: Path) -> None:
    """The sheet declares A1:Z3500000 (91 million cells)."""
    xlsx_rewritten(FIXTURES / GOOD, target, lambda x: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:Z3500000"', x))


def xlsx_using_far_cell(target: Path) -> None:
    """The sheet declares its true small range but holds one cell at Z3500000: a dense grid of 91 million."""
    far = b'<row r="3500000"><c r="Z3500000"><v>1</v></c></row></sheetData>'
    xlsx_rewritten(FIXTURES / GOOD, target, lambda x: x.replace(b"</sheetData>", far))


def ole2_random(target: Path) -> None:
    rng = random.Random(12)
    target.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rng.randrange(256) for _ in range(8192)))


BOMBS = {
    "610928104_双河镇_2GB声明.zip": (csv_zip_declaring_2gb, "DQ-FILE-TOO-LARGE", "2,048 MB"),
    "610928105_小河镇_零.zip": (csv_zip_of_zeros, "DQ-FILE-TOO-LARGE", "解压后 120 MB"),
    "610928106_赵湾镇_谎报.zip": (csv_zip_lying, "DQ-FILE-CORRUPT", ""),
    "610928107_麻坪镇_声明.xlsx": (xlsx_declaring, "DQ-FILE-TOO-LARGE", "声明的范围为 3,500,000 行 × 26 列"),
    "610928108_甘溪镇_远格.xlsx": (xlsx_using_far_cell, "DQ-FILE-TOO-LARGE", "实际用到 3,500,000 行"),
    "610928109_白柳镇_随机.xls": (ole2_random, "DQ-FILE-CORRUPT", ""),
}


@pytest.fixture(scope="module")
def bomb_week(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("bombs") / WEEK
    inbox.mkdir()
    for hour, (name, (build, _, _)) in enumerate(BOMBS.items()):
        build(inbox / name)
    shutil.copyfile(FIXTURES / GOOD, inbox / GOOD)
    stamp = dt.datetime(2016, 10, 3, 9, tzinfo=OFFICE_TZ).timestamp()
    for path in inbox.iterdir():
        os.utime(path, (stamp, stamp))
    return inbox


def test_the_bombs_are_small_on_disk(bomb_week):
    assert all(p.stat().st_size < 2 * MB for p in bomb_week.iterdir())


@pytest.fixture(scope="module")
def bomb_outcome(bomb_week, tmp_path_factory) -> dict:
    return ingest_in_child(bomb_week, tmp_path_factory.mktemp("bomb-archive"))


@pytest.mark.parametrize("name", list(BOMBS))
def test_every_bomb_is_refused_with_a_clerk_level_reason(name, bomb_outcome):
    _, rule, words = BOMBS[name]
    status, reason = bomb_outcome["outcomes"][name]
    assert status == "rejected"
    assert bomb_outcome["rules"][name] == [rule]
    assert re.search(r"[\u4e00-\u9fff]", reason) and words in reason, reason


def test_the_other_townships_of_the_week_are_still_read_and_memory_stays_small(bomb_outcome):
    assert bomb_outcome["outcomes"][GOOD][0] == "accepted"
    assert bomb_outcome["households"] == {"610928103": 2}
    grown_mib = (bomb_outcome["peak_kib"] - bomb_outcome["before_kib"]) / 1024
    assert grown_mib < 300, f"reading the bombs grew the process by {grown_mib:.0f} MiB"
    reader_mib = bomb_outcome["reader_peak_kib"] / 1024  # the reader process(es), libraries included (~150 MiB)
    assert reader_mib < 500, f"the reader process peaked at {reader_mib:.0f} MiB"


def test_random_bytes_behind_the_ole2_signature_are_corrupt_and_a_real_encrypted_workbook_is_password_protected(tmp_path):
    register = load_register(REFERENCE, REFERENCE)
    ole2_random(tmp_path / "随机.xls")
    shutil.copyfile(tmp_path / "随机.xls", tmp_path / "随机.xlsx")
    for name in ("随机.xls", "随机.xlsx"):
        result = read_submission(tmp_path / name, "sha", register, LIMIT)
        assert [i.rule for i in result.issues] == ["DQ-FILE-CORRUPT"], name
        assert "损坏" in result.reason
    encrypted = read_submission(FIXTURES / "encrypted.xlsx", "sha", register, LIMIT)
    assert [i.rule for i in encrypted.issues] == ["DQ-FILE-ENCRYPTED"] and "密码" in encrypted.reason


def test_a_zip_member_hiding_more_than_it_declares_in_the_central_directory_only_is_refused(tmp_path):
    """Central directory says 1 KB, local header the truth: the streaming check stops it all the same."""
    register = load_register(REFERENCE, REFERENCE)
    path = tmp_path / "谎报.zip"
    csv_zip_of_zeros(path, 60)
    patch_sizes(path, "贫困户.csv", 1024, local=False)
    result = read_submission(path, "sha", register, LIMIT)
    assert result.status == "rejected" and [i.rule for i in result.issues] in (["DQ-FILE-CORRUPT"], ["DQ-FILE-TOO-LARGE"])


def test_the_demo_countys_real_workbooks_are_all_within_the_limits(small_county):
    limits = Limits.for_max_bytes(LIMIT)
    files = sorted(small_county.glob("inbox/*/*.xlsx"))
    assert files
    for path in files:
        check_xlsx(path, limits)  # raises Rejected on any refusal


def test_a_township_workbook_of_20000_rows_by_40_columns_is_within_the_limits(tmp_path):
    """The largest real township workbook the issue describes, written by Excel's own layout (xlsxwriter)."""
    import xlsxwriter

    path = tmp_path / "大表.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("家庭成员")
    for r in range(20_000):
        sheet.write_row(r, 0, [f"61092810320100{r:05d}", "张三丰", 3, 5210.5, "是", "2016-09-28"] * 6 + ["户主", "初中", "健康", "无"])
    book.close()
    check_xlsx(path, Limits.for_max_bytes(LIMIT))


def big_plain_csv(path: Path, megabytes: int = 40) -> None:
    """40 MB of digits and commas: within every byte limit (a plain .csv, 50 MB allowed), but several hundred
    MB once split into cells."""
    table = bytes(b"\n"[0] if i < 2 else b","[0] if i < 64 else b"0123456789"[i % 10] for i in range(256))
    with open(path, "wb") as out:
        for _ in range(megabytes):
            out.write(os.urandom(MB).translate(table))


def test_a_file_that_exhausts_the_reader_memory_ceiling_rejects_only_itself(tmp_path, monkeypatch):
    """The backstop for what the pre-checks cannot foresee: the reader runs in a child process whose address
    space is capped; running out there rejects that file, and a fresh child reads the next one."""
    from tasks.ingest.week import ingest_week

    monkeypatch.setenv("EVALPREP_INGEST_MEMORY_MB", "400")  # reading this file needs ~700 MB more
    inbox = tmp_path / "inbox" / WEEK
    inbox.mkdir(parents=True)
    big_plain_csv(inbox / "610928104_双河镇_2016-W39.csv")
    shutil.copyfile(FIXTURES / GOOD, inbox / GOOD)
    for hour, name in enumerate(("610928104_双河镇_2016-W39.csv", GOOD), start=8):
        stamp = dt.datetime(2016, 10, 3, hour, tzinfo=OFFICE_TZ).timestamp()
        os.utime(inbox / name, (stamp, stamp))
    result = ingest_week(inbox, WEEK, tmp_path / "archive", load_register(REFERENCE, REFERENCE), LIMIT)
    rows = result.submissions.set_index("file")
    assert rows.loc["610928104_双河镇_2016-W39.csv", "status"] == "rejected"
    rules = set(result.issues.loc[result.issues["file"] == "610928104_双河镇_2016-W39.csv", "rule"])
    assert rules <= {"DQ-FILE-TOO-LARGE", "DQ-FILE-CORRUPT"} and rules, rules
    assert rows.loc[GOOD, "status"] == "accepted"
    assert (result.tables["households"]["township_code"] == "610928103").sum() == 2


def test_any_failure_of_the_reader_child_rejects_only_the_file(tmp_path, monkeypatch):
    """Near the ceiling a child fails in ways other than MemoryError (an encoding module that cannot be
    imported: LookupError). Whatever the child raises, the file is rejected and ingestion goes on."""
    from tasks.ingest.week import ingest_week

    monkeypatch.setenv("EVALPREP_INGEST_ISOLATION", "1")
    monkeypatch.setenv("EVALPREP_INGEST_MEMORY_MB", "0")
    inbox = tmp_path / "inbox" / WEEK
    inbox.mkdir(parents=True)
    shutil.copyfile(FIXTURES / GOOD, inbox / GOOD)
    result = ingest_week(inbox, WEEK, tmp_path / "archive", load_register(REFERENCE, REFERENCE), LIMIT)
    assert result.submissions.set_index("file").loc[GOOD, "status"] == "rejected"
    assert set(result.issues.loc[result.issues["file"] == GOOD, "rule"]) <= {"DQ-FILE-TOO-LARGE", "DQ-FILE-CORRUPT"}
