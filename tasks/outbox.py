"""The week's outbox: one e-mail per department (its problem list, PDF and spreadsheet) and per township (its
summary, and its feedback workbook when the run made one), addressed from reference/contacts.csv.

Messages are RFC 5322 bytes from the standard library's email package (CRLF lines, Chinese subject and names
in RFC 2047 words, attachment file names in RFC 2231 parameters) and deterministic: the Date is the run's
cut-off date, the Message-ID and the MIME boundary derive from the content, so a rerun of the same week writes
the same bytes. `write_outbox` writes them as OUT/<week>/outbox/*.eml into the run's staging folder before
publishing (nothing is sent); tasks/mail.py sends the published ones when SMTP is configured.
Units without an address are listed in outbox/unaddressed.csv.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from evalprep.files import write_atomic
from evalprep.redaction import redact_text
from evalprep.settings import Settings
from tasks.mail import KIND_HEADER, UNIT_HEADER, WEEK_HEADER
from tasks.ingest.references import Contact, Register
from tasks.render.paths import department_list_path, safe_name, township_summary_path

if TYPE_CHECKING:
    import pandas as pd

OUTBOX, FAILURES = "outbox", "failures"
UNADDRESSED_FILE, SENT_FILE = "unaddressed.csv", "sent.csv"
DELIVERY_DIR = ".delivery"  # OUT/.delivery/<week>/sent.csv: the ledger of what was sent, kept across reruns
FEEDBACK_DIR = "feedback"  # OUT/<week>/feedback/<township code>_<township name>.xlsx (another stage writes it)
KIND_DEPARTMENT, KIND_TOWNSHIP, KIND_OFFICE = "department", "township", "office"
# The county command office receives the failure notices. Its name is a county setting (Settings.office_name,
# EVALPREP_OFFICE_NAME); a contacts.csv unit is the office when it ends with that name (any county before
# it, e.g. 旬阳县脱贫攻坚指挥部办公室) or is one of these short forms.
DEFAULT_OFFICE = Settings.office_name
OFFICE_SHORT_FORMS = ("办公室", "指挥部办公室", "office")
OFFICE_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
FALLBACK_SENDER = "evalprep@localhost"
MEDIA = {".pdf": ("application", "pdf"),
         ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
UNADDRESSED_COLUMNS = ["unit", "kind", "files", "reason"]


def is_office(unit: str, office: str = DEFAULT_OFFICE) -> bool:
    """Whether a contacts.csv unit is the county command office `office` (who receives failure notices)."""
    text = re.sub(r"\s+", "", unit)
    return text.lower() in OFFICE_SHORT_FORMS or text.endswith(office)


def office_key(office: str = DEFAULT_OFFICE) -> tuple[str, str]:
    """The office's (kind, key) among the units: the office as the county's messages name it (县…)."""
    return KIND_OFFICE, f"县{office}"


@dataclass(frozen=True)
class Unit:
    """Who one message goes to and what it carries: a department (key: its name) or a township (key: its
    code); files relative to the run folder, in attachment order; counts for the message text."""

    kind: str
    key: str
    name: str
    files: tuple[str, ...]
    counts: Mapping[str, int | None] = field(default_factory=dict, hash=False, compare=False)

    @property
    def eml_name(self) -> str:
        if self.kind == KIND_TOWNSHIP:
            return PurePosixPath(township_summary_path(self.key, self.name)).with_suffix(".eml").name
        return f"部门_{safe_name(self.name, 150)}.eml"


def contacts_by_unit(contacts: Iterable[Contact], register: Register,
                     office: str = DEFAULT_OFFICE) -> dict[tuple[str, str], list[Contact]]:
    """(kind, key) → the unit's contacts. A unit is the office (is_office), a township by its 9-digit code or its
    name (蜀河镇, 蜀河, 旬阳县蜀河镇), or else a department by its name exactly as the catalogue writes it."""
    found: dict[tuple[str, str], list[Contact]] = {}
    for contact in contacts:
        unit = contact.unit.strip()
        if is_office(unit, office):
            key = office_key(office)
        elif unit in register.township_names:
            key = (KIND_TOWNSHIP, unit)
        elif (code := register.township_by_name(unit)) is not None:
            key = (KIND_TOWNSHIP, code)
        else:
            key = (KIND_DEPARTMENT, unit)
        found.setdefault(key, []).append(contact)
    return found


def overdue_count(items: pd.DataFrame) -> int | None:
    """How many items are past their deadline, when the items say so (an `overdue` column); None otherwise."""
    if "overdue" not in items.columns:
        return None
    return int(items["overdue"].map(lambda v: str(v).strip().lower() in ("true", "1", "是", "yes")).sum())


def delivery_units(folder: Path, rendering: pd.DataFrame, problems: pd.DataFrame, villages: pd.DataFrame,
                   issues: pd.DataFrame, departments: Sequence[str]) -> list[Unit]:
    """The units of a county run: every department list and township summary that rendered (files present in
    `folder`), with the township's feedback workbook when there is one, and the counts their messages print."""
    rendered = set(rendering.loc[rendering["ok"].astype(bool), "path"]) if len(rendering) else set()
    units = []
    for department in departments:
        pdf = department_list_path(department)
        files = [p for p in (pdf, str(PurePosixPath(pdf).with_suffix(".xlsx")))
                 if pdf in rendered and (folder / p).is_file()]
        items = problems[problems["department"] == department] if len(problems) else problems
        units.append(Unit(KIND_DEPARTMENT, department, department, tuple(files),
                          {"items": len(items), "overdue": overdue_count(items)}))
    names = villages.drop_duplicates("township_code").set_index("township_code")["township_name"] if len(villages) else {}
    for code in sorted(names.index if len(villages) else ()):
        name = str(names[code])
        pdf = township_summary_path(code, name)
        files = [pdf] if pdf in rendered and (folder / pdf).is_file() else []
        files += sorted(p.relative_to(folder).as_posix() for p in (folder / FEEDBACK_DIR).glob(f"{code}_*.xlsx"))
        own = villages[villages["township_code"] == code]
        items = problems[problems["township_code"] == code] if len(problems) else problems
        item_ids = items["item_id"] if "item_id" in items.columns else items.index
        units.append(Unit(KIND_TOWNSHIP, code, name, tuple(files), {
            "villages": len(own), "failing": int((own["grade"] == "未达标").sum()),
            "items": int(item_ids.nunique()) if len(items) else 0,
            "overdue": overdue_count(items.drop_duplicates("item_id") if "item_id" in items.columns else items),
            "issues": int((issues["township_code"] == code).sum()) if len(issues) and "township_code" in issues else 0,
        }))
    return units


def _date(as_of: dt.date) -> str:
    return format_datetime(dt.datetime.combine(as_of, dt.time(0, 0), tzinfo=OFFICE_TZ))


def _describe(path: str, unit: Unit) -> str:
    """One line per attachment: its file name and what it is."""
    name = PurePosixPath(path).name
    if path.startswith(f"{FEEDBACK_DIR}/"):
        return f"{name}：整改反馈表（含本镇农户的个人信息，仅限本镇使用，请妥善保管，不要转发给其他单位或个人）"
    if unit.kind == KIND_DEPARTMENT:
        return f"{name}：部门问题清单（{'电子表格，完整清单' if name.endswith('.xlsx') else '打印版'}）"
    return f"{name}：本镇评估准备情况汇总"


def message_text(unit: Unit, week: str, as_of: dt.date, county: str, office: str = DEFAULT_OFFICE) -> tuple[str, str]:
    """Subject and body of a unit's message, in Chinese: what is attached, the week, the counts."""
    counts = unit.counts
    overdue = counts.get("overdue")
    late = f"，其中已超过整改期限 {overdue} 项" if overdue else ""
    lines = [f"{unit.name}：", "",
             f"现发送{county} {week} 周（数据截至 {as_of.year}年{as_of.month}月{as_of.day}日）的迎评准备材料，"
             f"附件 {len(unit.files)} 个："]
    lines += [f"  · {_describe(path, unit)}" for path in unit.files]
    if unit.kind == KIND_DEPARTMENT:
        subject = f"【{county}迎评准备】{week} 部门问题清单：{unit.name}"
        lines += ["", f"本周贵单位负责的问题共 {counts.get('items', 0)} 项{late}。请按清单逐项整改，"
                      f"整改情况报县{office}。"]
    else:
        subject = f"【{county}迎评准备】{week} 乡镇汇总：{unit.name}"
        lines += ["", f"本镇 {counts.get('villages', 0)} 个村，其中未达标 {counts.get('failing', 0)} 个；"
                      f"待整改事项 {counts.get('items', 0)} 项{late}；本周报送数据问题 {counts.get('issues', 0)} 条。"]
        if any(p.startswith(f"{FEEDBACK_DIR}/") for p in unit.files):
            lines += ["整改反馈表只含本镇的数据，其中有农户的个人信息，请只在本镇经办人员之间使用，"
                      f"填写整改情况后按时报回县{office}。"]
    lines += ["", f"{county}{office}", "（本邮件由迎评准备系统自动生成）", ""]
    return redact_text(subject), redact_text("\n".join(lines))


def _address(contact: Contact) -> Address:
    user, domain = contact.email.rsplit("@", 1)
    return Address(display_name=redact_text(contact.name), username=user, domain=domain)


def build_message(*, subject: str, body: str, sender: str, recipients: Sequence[Contact], date: str,
                  attachments: Sequence[tuple[str, bytes]], headers: Mapping[str, str] = {}) -> bytes:
    """RFC 5322 bytes (CRLF lines): a text/plain body (UTF-8, base64) and the attachments (base64, file names in
    RFC 2231 parameters), with a Message-ID and MIME boundary derived from the content: same content, same
    bytes."""
    digest = hashlib.sha256()
    for part in (subject, body, sender, date, *(c.email for c in recipients), *(f"{k}:{v}" for k, v in headers.items())):
        digest.update(part.encode("utf-8") + b"\0")
    for name, data in attachments:
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    token = digest.hexdigest()
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = subject
    message["From"] = sender
    if recipients:
        message["To"] = [_address(c) for c in recipients]
    message["Date"] = date
    message["Message-ID"] = f"<{token[:32]}@{sender.rsplit('@', 1)[-1].strip('>') or 'localhost'}>"
    for key, value in headers.items():
        message[key] = value
    message.set_content(body, charset="utf-8", cte="base64")
    for name, data in attachments:
        maintype, subtype = MEDIA.get(PurePosixPath(name).suffix.lower(), ("application", "octet-stream"))
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name, params={"name": name})
    if message.is_multipart():
        message.set_boundary(f"=_evalprep_{token[32:56]}")
    return message.as_bytes()


def unit_message(unit: Unit, folder: Path, recipients: Sequence[Contact], week: str, as_of: dt.date, county: str,
                 sender: str, office: str = DEFAULT_OFFICE) -> bytes:
    subject, body = message_text(unit, week, as_of, county, office)
    attachments = [(PurePosixPath(p).name, (folder / p).read_bytes()) for p in unit.files]
    return build_message(subject=subject, body=body, sender=sender, recipients=recipients, date=_date(as_of),
                         attachments=attachments,
                         headers={UNIT_HEADER: unit.key, KIND_HEADER: unit.kind, WEEK_HEADER: week})


def sender_address(contacts: Iterable[Contact], configured: str | None, office: str = DEFAULT_OFFICE) -> str:
    """EVALPREP_SMTP_FROM, else the office's first address in contacts.csv, else evalprep@localhost."""
    addresses = [c.email for c in contacts if is_office(c.unit, office)]
    return configured or (addresses[0] if addresses else FALLBACK_SENDER)


def ledger_path(out_dir: Path, week: str) -> Path:
    """The ledger of what was sent for a week: beside the week folders, since a rerun replaces OUT/<week>/."""
    return out_dir / DELIVERY_DIR / week / SENT_FILE


def write_outbox(stage: Path, units: Sequence[Unit], contacts: Sequence[Contact], register: Register, week: str,
                 as_of: dt.date, county: str, sender: str, ledger: Path | None = None,
                 office: str = DEFAULT_OFFICE) -> pd.DataFrame:
    """One .eml per addressed unit with something to send under stage/outbox/, outbox/unaddressed.csv (units
    without an address or without a file), and a copy of the week's ledger of sent mail (outbox/sent.csv) when
    there is one. Returns the unaddressed rows."""
    import pandas as pd

    from evalprep.redaction import csv_bytes
    from evalprep.runlog import run_logger

    outbox = stage / OUTBOX
    outbox.mkdir(parents=True, exist_ok=True)
    addressed = contacts_by_unit(contacts, register, office)
    known = {(u.kind, u.key) for u in units} | {office_key(office)}
    for kind, key in sorted(set(addressed) - known):
        run_logger().warning("contacts.csv 中的单位「%s」不是本周任何部门或乡镇（部门名称须与问题清单一致，乡镇写名称或9位代码），"
                             "该行未使用", key)
    missing, written = [], 0
    for unit in units:
        files = ";".join(PurePosixPath(p).name for p in unit.files)
        if not unit.files:
            missing.append({"unit": unit.name, "kind": unit.kind, "files": "", "reason": "本周没有生成该单位的文件，未写邮件"})
            continue
        recipients = addressed.get((unit.kind, unit.key), [])
        if not recipients:
            missing.append({"unit": unit.name, "kind": unit.kind, "files": files,
                            "reason": "contacts.csv 中没有该单位的邮箱：请补上后重新运行本周，或手工发送这些文件"})
            continue
        write_atomic(outbox / unit.eml_name, unit_message(unit, stage, recipients, week, as_of, county, sender, office))
        written += 1
    unaddressed = pd.DataFrame(missing, columns=UNADDRESSED_COLUMNS)
    write_atomic(outbox / UNADDRESSED_FILE, csv_bytes(unaddressed))
    if ledger is not None and ledger.is_file():
        shutil.copyfile(ledger, outbox / SENT_FILE)
    run_logger().info("发件箱：写好 %d 封邮件（%s），%d 个单位没有邮箱或文件（见 %s/%s）", written, OUTBOX,
                      len(unaddressed), OUTBOX, UNADDRESSED_FILE)
    return unaddressed


def week_outbox(stage: Path, config: Any, run: Mapping[str, Any], rendering: pd.DataFrame, problems: pd.DataFrame,
                villages: pd.DataFrame, issues: pd.DataFrame) -> pd.DataFrame:
    """The weekly flow's step: the county run's units and their messages written into the staging folder."""
    from evalprep.settings import load_mail_from
    from tasks.departments import department_names

    units = delivery_units(stage, rendering, problems, villages, issues, department_names(config.profile, problems))
    office = config.settings.office_name
    return write_outbox(stage, units, config.contacts, config.register, config.week, config.as_of, run["county"],
                        sender_address(config.contacts, load_mail_from(), office), ledger_path(config.out_dir, config.week),
                        office)


def deliver_week(published: Path, out_dir: Path, week: str) -> pd.DataFrame | None:
    """After publishing: send the week's outbox when EVALPREP_SMTP_HOST is set (tasks/mail.py); otherwise
    say that the messages were only written. Problems with sending never fail the run: they are in sent.csv."""
    from tasks.mail import deliver_outbox
    from evalprep.settings import load_smtp_settings
    from evalprep.runlog import run_logger

    log = run_logger()
    try:
        smtp = load_smtp_settings()
    except ValueError as exc:
        log.error("邮件未发送：%s", exc)
        return None
    if smtp is None:
        log.info("未设置 EVALPREP_SMTP_HOST：邮件只写入 %s/%s/，没有发送", week, OUTBOX)
        return None
    return deliver_outbox(published / OUTBOX, ledger_path(out_dir, week), smtp)




# ------------------------------------------------------------------------------------------ failure notices

def failure_notice(parameters: Mapping[str, Any], run_name: str, reason: str, when: dt.datetime,
                   county: str | None = None) -> None:
    """A failed weekly run: one short message to the office, written to OUT/failures/ and sent when SMTP is
    configured and contacts.csv names the office. `county`: the name the run prints (flows/run_config.county_name);
    the setting when not given."""
    from evalprep.errors import InputError
    from tasks.mail import send_once
    from evalprep.inbox import reference_dir
    from evalprep.settings import load_mail_from, load_settings, load_smtp_settings
    from tasks.ingest.references import load_contacts

    log = logging.getLogger("evalprep")
    settings = load_settings()
    out_dir = Path(parameters["out"]).resolve() if parameters.get("out") else settings.out_dir
    inbox = Path(parameters["inbox"]).resolve() if parameters.get("inbox") else settings.inbox_dir
    try:
        contacts = load_contacts(reference_dir(inbox, parameters.get("reference")))
    except (InputError, OSError) as exc:
        log.warning("失败通知：通讯录读不出（%s），只写入 %s/", exc, FAILURES)
        contacts = ()
    name = settings.office_name
    office = [c for c in contacts if is_office(c.unit, name)]
    week = parameters.get("week") or "最新一周"
    county = county or settings.county_name
    body = "\n".join([
        f"{office_key(name)[1]}：", "",
        f"{county}迎评准备的每周运行（{week}，运行名 {run_name}）于 "
        f"{when.astimezone(OFFICE_TZ):%Y-%m-%d %H:%M} 失败，本周结果没有发布，上一次发布的文件保持不变。",
        f"原因：{reason[:300]}",
        "请查看 Prefect 中该运行的日志，排除问题后重新运行本周（evalprep run --week …）。", "",
        "（本邮件由迎评准备系统自动生成）", ""])
    sender = sender_address(contacts, load_mail_from(), name)
    data = build_message(subject=redact_text(f"【{county}迎评准备】每周运行失败：{week}"), body=redact_text(body),
                         sender=sender, recipients=office, date=format_datetime(when.astimezone(OFFICE_TZ)),
                         attachments=[], headers={KIND_HEADER: "failure"})
    stamp = when.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = write_atomic(out_dir / FAILURES / f"{stamp}-{safe_name(run_name, 80)}.eml", data)
    smtp = load_smtp_settings()
    if smtp is None or not office:
        log.warning("每周运行失败，通知已写入 %s%s", path,
                    "" if office else f"（contacts.csv 中没有{office_key(name)[1]}的邮箱，未发送）")
        return
    results = send_once(smtp, sender, [c.email for c in office], data)
    log.warning("每周运行失败，通知已发给办公室：%s", "；".join(f"{a} {r.result}" for a, r in results.items()))
