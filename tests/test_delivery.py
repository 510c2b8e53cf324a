"""Delivery (issue 13, item 4): contacts.csv, the week's outbox (.eml files), SMTP sending against a real local SMTP
server (aiosmtpd) with a refused recipient, a transient 451 and a resend, and the failure notice."""
from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path

import pandas as pd
import pytest

from evalprep.errors import InputError
from evalprep.settings import load_smtp_settings
from tasks.ingest.references import Contact, Register, load_contacts
from tasks.outbox import (
    OUTBOX, contacts_by_unit, deliver_week, delivery_units, failure_notice, is_office, ledger_path, write_outbox,
)
from tests.servers import free_port

WEEK, AS_OF = "2016-W39", dt.date(2016, 10, 2)
REGISTER = Register({"610928100": "城关镇", "610928101": "棕溪镇", "610928102": "关口镇"})
CONTACTS = (
    Contact("县脱贫攻坚指挥部办公室", "办公室", "office@xunyang.example.org"),
    Contact("水利局", "王水利", "water@xunyang.example.org"),
    Contact("水利局", "", "water2@xunyang.example.org"),
    Contact("扶贫局", "李扶贫", "poverty@xunyang.example.org"),
    Contact("城关镇", "张城关", "chengguan@xunyang.example.org"),
    Contact("610928101", "", "zongxi@xunyang.example.org"),
    # 关口镇 has no contact
)


# ------------------------------------------------------------------------------------------- the SMTP server

class Inbox:
    """aiosmtpd handler: keeps every message; refuses `refuse` (550), answers 451 to `flaky` addresses as many
    times as their count says."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.flaky: dict[str, int] = {}
        self.rcpt_tries: dict[str, int] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_tries[address] = self.rcpt_tries.get(address, 0) + 1
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if self.flaky.get(address, 0) > 0:
            self.flaky[address] -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"

    def received(self, address: str) -> list:
        return [message_from_bytes(data, policy=policy.default) for _, rcpts, data in self.messages if address in rcpts]


@pytest.fixture
def smtp_server(monkeypatch):
    """A real SMTP server on a free local port, and EVALPREP_SMTP_* pointing at it (no waiting between tries)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("EVALPREP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("EVALPREP_SMTP_PORT", str(port))
    monkeypatch.setenv("EVALPREP_SMTP_SECURITY", "none")
    monkeypatch.setenv("EVALPREP_SMTP_BACKOFF", "0")
    monkeypatch.setenv("EVALPREP_SMTP_TRIES", "3")
    try:
        yield inbox
    finally:
        controller.stop()


# ------------------------------------------------------------------------------------------- a run folder

def run_folder(root: Path, feedback: bool = True) -> tuple[Path, list]:
    """A staged run folder with the files the outbox attaches, and its units."""
    stage = root / "stage"
    files = {
        "departments/水利局.pdf": b"%PDF-1.7 water list",
        "departments/水利局.xlsx": b"PK water sheet",
        "departments/扶贫局.pdf": b"%PDF-1.7 poverty list",
        "departments/扶贫局.xlsx": b"PK poverty sheet",
        "summaries/610928100_城关镇.pdf": b"%PDF-1.7 chengguan",
        "summaries/610928101_棕溪镇.pdf": b"%PDF-1.7 zongxi",
        "summaries/610928102_关口镇.pdf": b"%PDF-1.7 guankou",
    }
    if feedback:
        files["feedback/610928100_城关镇.xlsx"] = b"PK chengguan feedback with names"
    for path, data in files.items():
        (stage / path).parent.mkdir(parents=True, exist_ok=True)
        (stage / path).write_bytes(data)
    rendering = pd.DataFrame({"path": [p for p in files if p.endswith(".pdf")], "ok": True})
    problems = pd.DataFrame({
        "item_id": ["a", "b", "c", "c"], "department": ["水利局", "水利局", "扶贫局", "水利局"],
        "township_code": ["610928100", "610928100", "610928101", "610928101"],
    })
    villages = pd.DataFrame({
        "village_code": ["610928100201", "610928100202", "610928101201", "610928102201"],
        "township_code": ["610928100", "610928100", "610928101", "610928102"],
        "township_name": ["城关镇", "城关镇", "棕溪镇", "关口镇"], "grade": ["未达标", "合格", "未达标", "优秀"],
    })
    issues = pd.DataFrame({"township_code": ["610928100", "610928100", "610928102"]})
    units = delivery_units(stage, rendering, problems, villages, issues, ["扶贫局", "水利局", "财政局"])
    return stage, units


def write(stage: Path, units, contacts=CONTACTS, ledger: Path | None = None) -> pd.DataFrame:
    return write_outbox(stage, units, contacts, REGISTER, WEEK, AS_OF, "旬阳县", "office@xunyang.example.org", ledger)


def parsed(path: Path):
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_payload(decode=True) for part in message.iter_attachments()}


# ------------------------------------------------------------------------------------------------ contacts

def test_contacts_csv_is_read_and_checked(tmp_path):
    assert load_contacts(tmp_path) == ()  # no contacts.csv: nothing addressed, not an error
    (tmp_path / "contacts.csv").write_text("\ufeffUnit,Name,Email\n水利局,王水利, water@example.org \n\n城关镇,,a@example.org\n",
                                           encoding="utf-8")
    assert load_contacts(tmp_path) == (Contact("水利局", "王水利", "water@example.org"), Contact("城关镇", "", "a@example.org"))
    (tmp_path / "contacts.csv").write_text("unit,name,email\n水利局,王水利,water-at-example.org\n", encoding="utf-8")
    with pytest.raises(InputError, match="第 2 行.*水利局.*water-at-example.org"):
        load_contacts(tmp_path)
    (tmp_path / "contacts.csv").write_text("单位,邮箱\n水利局,water@example.org\n", encoding="utf-8")
    with pytest.raises(InputError, match="缺少表头 unit、email"):
        load_contacts(tmp_path)


def test_units_are_matched_by_department_township_name_or_code_and_office():
    found = contacts_by_unit(CONTACTS + (Contact("旬阳县脱贫攻坚指挥部办公室", "", "o2@example.org"),), REGISTER)
    assert [c.email for c in found[("department", "水利局")]] == ["water@xunyang.example.org", "water2@xunyang.example.org"]
    assert found[("township", "610928100")][0].email == "chengguan@xunyang.example.org"
    assert found[("township", "610928101")][0].email == "zongxi@xunyang.example.org"
    assert len(found[("office", "县脱贫攻坚指挥部办公室")]) == 2
    assert is_office("办公室") and is_office("office") and not is_office("发改局(移民搬迁办)")


def test_demo_and_bundled_contacts_cover_every_unit(small_county):
    from expectations.catalogue import raw_catalogue

    bundled = load_contacts(Path(__file__).resolve().parents[1] / "data" / "reference")
    units = {c.unit for c in bundled}
    assert set(raw_catalogue()["departments"]) <= units and any(is_office(u) for u in units)
    assert all(c.email.endswith(".invalid") for c in bundled)  # fictional: never a real mailbox
    assert len([u for u in units if u.endswith(("镇", "乡"))]) == 21
    demo = load_contacts(small_county / "reference")
    assert all(c.email.endswith("@xunyang.example.org") for c in demo) and set(raw_catalogue()["departments"]) <= {c.unit for c in demo}


# ------------------------------------------------------------------------------------------------- outbox

def test_outbox_writes_one_message_per_addressed_unit(tmp_path):
    stage, units = run_folder(tmp_path)
    unaddressed = write(stage, units)
    outbox = stage / OUTBOX
    assert sorted(p.name for p in outbox.glob("*.eml")) == ["610928100_城关镇.eml", "610928101_棕溪镇.eml",
                                                             "部门_扶贫局.eml", "部门_水利局.eml"]
    # 关口镇 has no address, 财政局 no list this week: both listed for the office
    assert unaddressed[["unit", "kind"]].values.tolist() == [["财政局", "department"], ["关口镇", "township"]]
    listed = pd.read_csv(outbox / "unaddressed.csv", encoding="utf-8-sig", dtype=str)
    assert listed["unit"].tolist() == ["财政局", "关口镇"] and "610928102_关口镇.pdf" in listed["files"].tolist()

    water = parsed(outbox / "部门_水利局.eml")
    assert water["Subject"] == "【旬阳县迎评准备】2016-W39 部门问题清单：水利局"
    assert [a.addr_spec for a in water["To"].addresses] == ["water@xunyang.example.org", "water2@xunyang.example.org"]
    assert water["To"].addresses[0].display_name == "王水利"
    assert water["Date"] == "Sun, 02 Oct 2016 00:00:00 +0800"
    assert attachments(water) == {"水利局.pdf": b"%PDF-1.7 water list", "水利局.xlsx": b"PK water sheet"}
    body = water.get_body().get_content()
    assert "2016-W39" in body and "共 3 项" in body and "水利局.xlsx" in body and "超过整改期限" not in body
    raw = (outbox / "部门_水利局.eml").read_bytes()
    assert b"filename*=utf-8''%E6%B0%B4%E5%88%A9%E5%B1%80.pdf" in raw  # RFC 2231
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF lines (RFC 5322)

    town = parsed(outbox / "610928100_城关镇.eml")
    assert attachments(town) == {"610928100_城关镇.pdf": b"%PDF-1.7 chengguan",
                                 "610928100_城关镇.xlsx": b"PK chengguan feedback with names"}
    text = town.get_body().get_content()
    assert "2 个村，其中未达标 1 个" in text and "待整改事项 2 项" in text and "数据问题 2 条" in text
    assert "个人信息" in text and "只含本镇" in text
    zongxi = parsed(outbox / "610928101_棕溪镇.eml")  # no feedback workbook: the summary alone, no such warning
    assert list(attachments(zongxi)) == ["610928101_棕溪镇.pdf"] and "个人信息" not in zongxi.get_body().get_content()


def test_outbox_bytes_are_deterministic_and_follow_the_content(tmp_path):
    first, units = run_folder(tmp_path / "a")
    write(first, units)
    second, units2 = run_folder(tmp_path / "b")
    write(second, units2)
    names = sorted(p.name for p in (first / OUTBOX).iterdir())
    assert names == sorted(p.name for p in (second / OUTBOX).iterdir())
    for name in names:
        assert (first / OUTBOX / name).read_bytes() == (second / OUTBOX / name).read_bytes(), name
    (second / "departments/水利局.xlsx").write_bytes(b"PK changed")
    write(second, units2)
    before, after = parsed(first / OUTBOX / "部门_水利局.eml"), parsed(second / OUTBOX / "部门_水利局.eml")
    assert before["Message-ID"] != after["Message-ID"]
    assert (first / OUTBOX / "部门_扶贫局.eml").read_bytes() == (second / OUTBOX / "部门_扶贫局.eml").read_bytes()


def test_overdue_is_counted_when_the_items_say_so(tmp_path):
    stage, _ = run_folder(tmp_path)
    problems = pd.DataFrame({"item_id": ["a", "b"], "department": ["水利局"] * 2, "township_code": ["610928100"] * 2,
                             "overdue": [True, False]})
    units = delivery_units(stage, pd.DataFrame({"path": ["departments/水利局.pdf"], "ok": [True]}), problems,
                           pd.DataFrame(columns=["village_code", "township_code", "township_name", "grade"]),
                           pd.DataFrame(), ["水利局"])
    write(stage, units)
    body = parsed(stage / OUTBOX / "部门_水利局.eml").get_body().get_content()
    assert "共 2 项，其中已超过整改期限 1 项" in body


# ------------------------------------------------------------------------------------------------ sending

def test_without_smtp_the_outbox_is_only_written(tmp_path, monkeypatch):
    monkeypatch.delenv("EVALPREP_SMTP_HOST", raising=False)
    stage, units = run_folder(tmp_path)
    write(stage, units)
    assert load_smtp_settings() is None
    assert deliver_week(stage, tmp_path, WEEK) is None
    assert not (stage / OUTBOX / "sent.csv").exists() and not ledger_path(tmp_path, WEEK).exists()


def test_messages_arrive_with_their_attachments_and_are_not_sent_twice(tmp_path, smtp_server):
    stage, units = run_folder(tmp_path)
    write(stage, units)
    sent = deliver_week(stage, tmp_path, WEEK)
    assert len(smtp_server.messages) == 4  # one per message, to all of its recipients
    assert sorted(sent["address"]) == sorted(["water@xunyang.example.org", "water2@xunyang.example.org",
                                              "poverty@xunyang.example.org", "chengguan@xunyang.example.org",
                                              "zongxi@xunyang.example.org"])
    assert set(sent["result"]) == {"sent"}
    [got] = smtp_server.received("chengguan@xunyang.example.org")
    assert attachments(got) == {"610928100_城关镇.pdf": (stage / "summaries/610928100_城关镇.pdf").read_bytes(),
                                "610928100_城关镇.xlsx": (stage / "feedback/610928100_城关镇.xlsx").read_bytes()}
    assert smtp_server.messages[0][2].replace(b"\r\n", b"\n") in [
        p.read_bytes().replace(b"\r\n", b"\n") for p in (stage / OUTBOX).glob("*.eml")]  # the .eml's bytes
    ledger = pd.read_csv(stage / OUTBOX / "sent.csv", encoding="utf-8-sig", dtype=str)
    assert list(ledger.columns) == ["unit", "address", "files", "sha256s", "time", "result", "detail"]
    assert len(ledger) == 5 and ledger_path(tmp_path, WEEK).read_bytes() == (stage / OUTBOX / "sent.csv").read_bytes()

    # the same week again (a rerun writes the same outbox into a new folder): nothing is sent twice
    again, units = run_folder(tmp_path / "rerun")
    write(again, units, ledger=ledger_path(tmp_path, WEEK))
    assert (again / OUTBOX / "sent.csv").exists()  # the record travels with the republished week
    assert deliver_week(again, tmp_path, WEEK).empty and len(smtp_server.messages) == 4

    # one list changed: only its unit is sent again, to both its addresses
    (again / "departments/水利局.xlsx").write_bytes(b"PK water sheet, corrected")
    write(again, units)
    sent = deliver_week(again, tmp_path, WEEK)
    assert sorted(sent["address"]) == ["water2@xunyang.example.org", "water@xunyang.example.org"]
    assert len(smtp_server.messages) == 5 and len(pd.read_csv(again / OUTBOX / "sent.csv", encoding="utf-8-sig")) == 7


def test_a_refused_recipient_is_reported_and_the_rest_arrive(tmp_path, smtp_server):
    smtp_server.refuse.add("water2@xunyang.example.org")
    stage, units = run_folder(tmp_path)
    write(stage, units)
    sent = deliver_week(stage, tmp_path, WEEK).set_index("address")
    assert sent.loc["water2@xunyang.example.org", "result"] == "refused"
    assert sent.loc["water2@xunyang.example.org", "detail"].startswith("550")
    assert sent.loc["water@xunyang.example.org", "result"] == "sent"
    assert len(smtp_server.received("water@xunyang.example.org")) == 1 and len(smtp_server.messages) == 4
    ledger = pd.read_csv(stage / OUTBOX / "sent.csv", encoding="utf-8-sig", dtype=str)
    assert ledger.loc[ledger["address"] == "water2@xunyang.example.org", "result"].tolist() == ["refused"]
    # the address fixed on the server's side: the next pass sends to it alone
    smtp_server.refuse.clear()
    again = deliver_week(stage, tmp_path, WEEK)
    assert again["address"].tolist() == ["water2@xunyang.example.org"] and again["result"].tolist() == ["sent"]


def test_a_transient_451_is_retried_then_delivered(tmp_path, smtp_server):
    smtp_server.flaky["poverty@xunyang.example.org"] = 2  # two 451s, the third try goes through
    smtp_server.flaky["zongxi@xunyang.example.org"] = 5  # more 451s than tries: failed, left for the next pass
    stage, units = run_folder(tmp_path)
    write(stage, units)
    sent = deliver_week(stage, tmp_path, WEEK).set_index("address")
    assert sent.loc["poverty@xunyang.example.org", "result"] == "sent"
    assert smtp_server.rcpt_tries["poverty@xunyang.example.org"] == 3
    assert len(smtp_server.received("poverty@xunyang.example.org")) == 1
    assert sent.loc["zongxi@xunyang.example.org", "result"] == "failed"
    assert "3 次尝试" in sent.loc["zongxi@xunyang.example.org", "detail"] and "451" in sent.loc["zongxi@xunyang.example.org", "detail"]
    again = deliver_week(stage, tmp_path, WEEK)  # 451 twice more, then delivered
    assert again["address"].tolist() == ["zongxi@xunyang.example.org"] and again["result"].tolist() == ["sent"]


def test_an_unreachable_server_fails_the_messages_not_the_run(tmp_path, smtp_server, monkeypatch):
    monkeypatch.setenv("EVALPREP_SMTP_PORT", str(free_port()))  # nothing listens there
    stage, units = run_folder(tmp_path)
    write(stage, units)
    sent = deliver_week(stage, tmp_path, WEEK)
    assert len(sent) == 5 and set(sent["result"]) == {"failed"} and "ConnectionRefusedError" in sent["detail"].iloc[0]


def test_smtp_settings_come_from_the_environment_only(monkeypatch):
    monkeypatch.setenv("EVALPREP_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("EVALPREP_SMTP_PASSWORD", "s3cret-value")
    monkeypatch.delenv("EVALPREP_SMTP_PORT", raising=False)
    monkeypatch.delenv("EVALPREP_SMTP_SECURITY", raising=False)
    smtp = load_smtp_settings()
    assert (smtp.port, smtp.security, smtp.password) == (587, "starttls", "s3cret-value")
    assert "s3cret-value" not in repr(smtp)
    monkeypatch.setenv("EVALPREP_SMTP_SECURITY", "ssl")
    assert load_smtp_settings().port == 465
    monkeypatch.setenv("EVALPREP_SMTP_SECURITY", "tls")
    with pytest.raises(ValueError, match="EVALPREP_SMTP_SECURITY"):
        load_smtp_settings()


# ------------------------------------------------------------------------------------------ failure notice

def office_reference(root: Path) -> Path:
    reference = root / "reference"
    reference.mkdir(parents=True)
    (reference / "contacts.csv").write_text("unit,name,email\n县脱贫攻坚指挥部办公室,办公室,office@xunyang.example.org\n",
                                            encoding="utf-8")
    return reference


def test_failure_notice_without_smtp_is_written_to_failures(tmp_path, monkeypatch):
    monkeypatch.delenv("EVALPREP_SMTP_HOST", raising=False)
    office_reference(tmp_path)
    when = dt.datetime(2016, 10, 3, 0, 0, tzinfo=dt.timezone.utc)
    failure_notice({"inbox": str(tmp_path / "inbox"), "week": WEEK, "out": str(tmp_path / "out")}, "brave-fox",
                   "身份证 610928196001011234 出错", when)
    [notice] = (tmp_path / "out" / "failures").glob("*.eml")
    message = parsed(notice)
    assert message["To"].addresses[0].addr_spec == "office@xunyang.example.org"
    text = message.get_body().get_content()
    assert "2016-W39" in text and "brave-fox" in text and "610928196001011234" not in text  # masked


def test_failure_notice_is_sent_to_the_office(tmp_path, smtp_server):
    office_reference(tmp_path)
    failure_notice({"inbox": str(tmp_path / "inbox"), "week": WEEK, "out": str(tmp_path / "out")}, "brave-fox",
                   "boom", dt.datetime(2016, 10, 3, tzinfo=dt.timezone.utc))
    [got] = smtp_server.received("office@xunyang.example.org")
    assert "每周运行失败" in got["Subject"] and len(smtp_server.messages) == 1


def test_the_office_is_a_county_setting(tmp_path, monkeypatch):
    """A county whose command office has another name (EVALPREP_OFFICE_NAME): its contacts.csv unit is the office,
    the failure notice goes to it and the messages are signed with it; the default name no longer matches."""
    from tasks.outbox import Unit, message_text

    office = "扶贫开发领导小组办公室"
    lead = Contact("旬阳县扶贫开发领导小组办公室", "", "lead@xunyang.example.org")
    assert is_office(lead.unit, office) and not is_office("旬阳县脱贫攻坚指挥部办公室", office)
    assert contacts_by_unit((lead,), REGISTER, office) == {("office", f"县{office}"): [lead]}
    _, body = message_text(Unit("department", "水利局", "水利局", ("a.pdf",)), WEEK, AS_OF, "旬阳县", office)
    assert f"报县{office}" in body and f"旬阳县{office}" in body and "指挥部" not in body

    monkeypatch.setenv("EVALPREP_OFFICE_NAME", office)
    monkeypatch.delenv("EVALPREP_SMTP_HOST", raising=False)
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "contacts.csv").write_text(f"unit,name,email\n{lead.unit},,{lead.email}\n", encoding="utf-8")
    failure_notice({"inbox": str(tmp_path / "inbox"), "week": WEEK, "out": str(tmp_path / "out")}, "brave-fox",
                   "boom", dt.datetime(2016, 10, 3, tzinfo=dt.timezone.utc))
    [notice] = (tmp_path / "out" / "failures").glob("*.eml")
    message = parsed(notice)
    assert message["To"].addresses[0].addr_spec == lead.email
    assert message.get_body().get_content().startswith(f"县{office}：")


def test_the_failure_notice_names_the_county_of_the_runs_county_yaml(tmp_path, monkeypatch):
    """Another county (its county.yaml beside the inbox names it): the notice the weekly flow's on_failure hook
    writes for its failed run says its name, not the setting's default 旬阳县; a county.yaml that cannot be read
    falls back to the setting (a notice never fails)."""
    from types import SimpleNamespace

    from flows.run_config import county_name
    from flows.weekly import failure_hook

    monkeypatch.delenv("EVALPREP_SMTP_HOST", raising=False)
    reference = office_reference(tmp_path)
    (reference / "county.yaml").write_text("county_name: 石泉县\n", encoding="utf-8")
    inbox = str(tmp_path / "inbox")
    assert county_name(inbox, None) == "石泉县" == county_name(None, str(reference))
    run = SimpleNamespace(parameters={"inbox": inbox, "week": WEEK, "out": str(tmp_path / "out")}, name="brave-fox")
    failure_hook(None, run, SimpleNamespace(message="boom"))  # what Prefect calls it with: the flow, its run, the state
    [notice] = (tmp_path / "out" / "failures").glob("*.eml")
    message = parsed(notice)
    assert "石泉县" in message["Subject"] and "旬阳县" not in message.get_body().get_content()
    (reference / "county.yaml").write_text("county_name: [石泉县\n", encoding="utf-8")
    assert county_name(inbox, None) == "旬阳县"
