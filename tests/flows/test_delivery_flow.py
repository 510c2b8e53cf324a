"""Delivery through the real weekly flow (issue 13, item 4): the small demo county run three times on one week —
.eml files only, then with SMTP (a local aiosmtpd server), then again — and a run that fails notifies the office."""
from __future__ import annotations

import csv
import shutil
from email import message_from_bytes, policy
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import LAST_WEEK
from tests.test_delivery import attachments, smtp_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow
REFUSED = "dept05@xunyang.example.org"  # 水利局 in the demo's contacts.csv


@pytest.fixture(scope="module")
def prefect_harness():
    """The session's Prefect harness when one is up already; else one that may take longer to start (on this
    shared 2-core machine at load 12 the ephemeral API took 240 s, beyond conftest's 120 s)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    if PREFECT_API_URL.value():
        yield
        return
    with prefect_test_harness(server_startup_timeout=600):
        yield


def reference_copy(small_county: Path, root: Path) -> tuple[Path, str]:
    """The demo county's reference folder without the contact of its first township; returns it and that
    township's name."""
    reference = root / "reference"
    shutil.copytree(small_county / "reference", reference)
    with open(reference / "townships.csv", encoding="utf-8") as fh:
        first = next(csv.DictReader(fh))["township_name"]
    lines = (reference / "contacts.csv").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith(f"水利局,") and REFUSED in line for line in lines)
    (reference / "contacts.csv").write_text("\n".join(l for l in lines if not l.startswith(f"{first},")) + "\n",
                                            encoding="utf-8")
    return reference, first


def test_weekly_run_writes_the_outbox_then_sends_each_message_once(small_county, prefect_harness, smtp_server,
                                                                   tmp_path, monkeypatch):
    from flows.weekly import weekly_county_run

    monkeypatch.setenv("EVALPREP_DATA_DIR", str(tmp_path / "data"))
    reference, unaddressed_township = reference_copy(small_county, tmp_path)
    out = tmp_path / "out"
    smtp_server.refuse.add(REFUSED)

    def run() -> Path:
        return Path(weekly_county_run(inbox=str(small_county / "inbox"), week=LAST_WEEK, out=str(out),
                                      reference=str(reference)))

    # 1. the default: .eml files in the published week, nothing sent
    monkeypatch.delenv("EVALPREP_SMTP_HOST")
    published = run()
    outbox = published / "outbox"
    emls = {p.name: p.read_bytes() for p in outbox.glob("*.eml")}
    assert not smtp_server.messages and not (outbox / "sent.csv").exists()
    unaddressed = pd.read_csv(outbox / "unaddressed.csv", encoding="utf-8-sig", dtype=str)
    assert unaddressed_township in set(unaddressed["unit"])
    townships = sorted((published / "summaries").glob("6*.pdf"))
    assert f"部门_水利局.eml" in emls and len([n for n in emls if n[0].isdigit()]) == len(townships) - 1
    assert not (published / "index.html").read_text(encoding="utf-8").count("outbox/")  # not linked for all to see

    # 2. with SMTP: every message arrives once, with the published files attached; the refused address is reported
    monkeypatch.setenv("EVALPREP_SMTP_HOST", "127.0.0.1")
    published = run()
    outbox = published / "outbox"
    assert {p.name: p.read_bytes() for p in outbox.glob("*.eml")} == emls  # a rerun writes the same bytes
    assert len(smtp_server.messages) == len(emls) - 1  # 水利局's only address refused: no data sent
    sent = pd.read_csv(outbox / "sent.csv", encoding="utf-8-sig", dtype=str)
    assert sent.loc[sent["address"] == REFUSED, "result"].tolist() == ["refused"]
    assert (sent["result"] == "sent").sum() == len(emls) - 1
    summary = next(p for p in townships if unaddressed_township not in p.name)
    code = summary.name.split("_")[0]
    [got] = [message_from_bytes(data, policy=policy.default) for _, rcpts, data in smtp_server.messages
             if f"town{code}@xunyang.example.org" in rcpts]
    feedback = {p.name: p.read_bytes() for p in (published / "feedback").glob(f"{code}_*.xlsx")}
    assert feedback  # the township's own feedback workbook travels with its summary
    assert attachments(got) == {summary.name: (published / "summaries" / summary.name).read_bytes(), **feedback}
    [department] = [message_from_bytes(data, policy=policy.default) for _, rcpts, data in smtp_server.messages
                    if "dept01@xunyang.example.org" in rcpts]  # 扶贫局: its list and spreadsheet
    assert attachments(department) == {name: (published / "departments" / name).read_bytes()
                                       for name in ("扶贫局.pdf", "扶贫局.xlsx")}

    # 3. the same week again: nothing new is sent (the refused address is tried again and refused again)
    published = run()
    assert len(smtp_server.messages) == len(emls) - 1
    again = pd.read_csv(published / "outbox" / "sent.csv", encoding="utf-8-sig", dtype=str)
    assert (again["result"] == "sent").sum() == len(emls) - 1 and (again["result"] == "refused").sum() == 2


def test_a_failed_run_notifies_the_office(small_county, prefect_harness, smtp_server, tmp_path, monkeypatch):
    from flows.weekly import weekly_county_run

    monkeypatch.setenv("EVALPREP_DATA_DIR", str(tmp_path / "data"))
    reference_copy(small_county, tmp_path)
    (tmp_path / "inbox" / LAST_WEEK).mkdir(parents=True)  # an empty week: the run stops
    with pytest.raises(Exception, match="没有任何报表文件"):
        weekly_county_run(inbox=str(tmp_path / "inbox"), week=LAST_WEEK, out=str(tmp_path / "out"))
    [(_, recipients, data)] = smtp_server.messages
    assert recipients == ["office@xunyang.example.org"]
    notice = message_from_bytes(data, policy=policy.default)
    assert LAST_WEEK in notice["Subject"] and "失败" in notice.get_body().get_content()
    assert len(list((tmp_path / "out" / "failures").glob("*.eml"))) == 1
