"""Sending the outbox by SMTP (EVALPREP_SMTP_*), with retries and the ledger of what was sent.

- Each message is sent as the exact bytes of its .eml file, to those of its recipients who have not received
  the same attachments for the same week yet (ledger key: unit, address, the attachments' sha256s): a rerun of
  the week sends only what changed or was not sent.
- Transient errors — a 4xx reply (to the connection, the sender, a recipient or the data) or a lost or refused
  connection — are retried up to `tries` times per message, waiting `backoff` seconds, doubled each time.
- A 5xx reply for a recipient is final: `refused` in sent.csv, the other recipients and messages go on; a 5xx
  for the whole message (sender, data, authentication) marks all its recipients `refused`.
- The ledger OUT/.delivery/<week>/sent.csv is updated under a lock after each pass and copied to the published
  OUT/<week>/outbox/sent.csv (columns: unit, address, files, sha256s, time, result, detail; through the
  redaction gate, so an address made of a mobile number is written masked and compared masked).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from evalprep.files import write_atomic
from evalprep.locks import exclusive
from evalprep.redaction import redact_text
from evalprep.settings import SmtpSettings

if TYPE_CHECKING:
    import pandas as pd

SENT, REFUSED, FAILED = "sent", "refused", "failed"
# headers of each .eml naming its unit, kind and week (tasks/outbox.py writes them, the sender reads them back)
UNIT_HEADER, KIND_HEADER, WEEK_HEADER = "X-Evalprep-Unit", "X-Evalprep-Kind", "X-Evalprep-Week"
SENT_COLUMNS = ["unit", "address", "files", "sha256s", "time", "result", "detail"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one recipient of one message."""

    result: str  # sent / refused / failed
    detail: str = ""
    tries: int = 1


class Connection:
    """One SMTP connection, opened on first use and reopened after an error."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp, self.client = smtp, None

    def get(self) -> smtplib.SMTP:
        if self.client is None:
            s = self.smtp
            if s.security == "ssl":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
            if s.user:
                client.login(s.user, s.password or "")
            self.client = client
        return self.client

    def drop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return redact_text(f"{code} {' '.join(words.split())}")[:300]


def _transient(code: int) -> bool:
    return 400 <= code < 500


def send_message(connection: Connection, sender: str, recipients: Sequence[str], data: bytes, tries: int,
                 backoff: float, sleep: Callable[[float], None] = time.sleep) -> dict[str, Outcome]:
    """Send `data` to `recipients`, retrying transient errors; one Outcome per recipient."""
    outcomes: dict[str, Outcome] = {}
    pending, last = list(recipients), ""
    for attempt in range(1, tries + 1):
        if attempt > 1:
            sleep(backoff * 2 ** (attempt - 2))
        try:
            refused = connection.get().sendmail(sender, pending, data)
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused, 4xx or 5xx each
            refused = exc.recipients
        except smtplib.SMTPResponseException as exc:  # the server's reply to the connection, login, sender or data
            connection.drop()
            last = _reply(exc.smtp_code, exc.smtp_error)
            if _transient(exc.smtp_code):
                continue
            outcomes.update({a: Outcome(REFUSED, last, attempt) for a in pending})
            return outcomes
        except (smtplib.SMTPException, OSError) as exc:  # lost, refused or timed-out connection
            connection.drop()
            last = redact_text(f"{type(exc).__name__}: {exc}")[:300]
            continue
        still = []
        for address in pending:
            if address not in refused:
                outcomes[address] = Outcome(SENT, "", attempt)
                continue
            code, text = refused[address]
            last = _reply(code, text)
            if _transient(code):
                still.append(address)
            else:
                outcomes[address] = Outcome(REFUSED, last, attempt)
        pending = still
        if not pending:
            return outcomes
    outcomes.update({a: Outcome(FAILED, f"{tries} 次尝试后仍未发出：{last}", tries) for a in pending})
    return outcomes


def send_once(smtp: SmtpSettings, sender: str, recipients: Sequence[str], data: bytes) -> dict[str, Outcome]:
    """One message on its own connection (a failure notice)."""
    connection = Connection(smtp)
    try:
        return send_message(connection, sender, recipients, data, smtp.tries, smtp.backoff)
    finally:
        connection.drop()


@dataclass(frozen=True)
class Parsed:
    """What the ledger needs of one .eml file."""

    unit: str
    sender: str
    recipients: tuple[str, ...]
    files: tuple[str, ...]
    sha256s: tuple[str, ...]


def parse_eml(data: bytes) -> Parsed:

    message = message_from_bytes(data, policy=policy.default)
    files, hashes = [], []
    for part in message.iter_attachments():
        files.append(part.get_filename() or "")
        hashes.append(hashlib.sha256(part.get_payload(decode=True)).hexdigest())
    return Parsed(str(message.get(UNIT_HEADER, "")), parseaddr(str(message["From"]))[1],
                  tuple(a for _, a in getaddresses([str(v) for v in message.get_all("To", [])]) if a),
                  tuple(files), tuple(hashes))


def _key(unit: str, address: str, sha256s: str) -> tuple[str, str, str]:
    return unit, redact_text(address), sha256s


def read_ledger(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        return pd.DataFrame(columns=SENT_COLUMNS)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def deliver_outbox(outbox: Path, ledger: Path, smtp: SmtpSettings, sleep: Callable[[float], None] = time.sleep,
                   ) -> pd.DataFrame:
    """Send every .eml of `outbox` to the recipients who have not received the same attachments yet; append
    one row per recipient tried to the ledger and copy it to outbox/sent.csv. Returns the rows of this pass."""
    import pandas as pd

    from evalprep.redaction import csv_bytes
    from evalprep.runlog import run_logger

    log = run_logger()
    rows: list[dict[str, str]] = []
    with exclusive(ledger.parent / ".lock"):  # two runs of one week never send the same message twice
        done_before = read_ledger(ledger)
        done = {_key(r["unit"], r["address"], r["sha256s"]) for r in done_before.to_dict("records")
                if r["result"] == SENT}
        connection = Connection(smtp)
        try:
            for path in sorted(outbox.glob("*.eml")):
                data = path.read_bytes()
                message = parse_eml(data)
                sha256s = ";".join(message.sha256s)
                pending = [a for a in message.recipients if _key(message.unit, a, sha256s) not in done]
                if not pending:
                    continue
                outcomes = send_message(connection, smtp.sender or message.sender, pending, data, smtp.tries,
                                        smtp.backoff, sleep)
                now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
                for address, outcome in outcomes.items():
                    rows.append({"unit": message.unit, "address": address, "files": ";".join(message.files),
                                 "sha256s": sha256s, "time": now, "result": outcome.result, "detail": outcome.detail})
        finally:
            connection.drop()
        new = pd.DataFrame(rows, columns=SENT_COLUMNS)
        if rows or not ledger.is_file():
            write_atomic(ledger, csv_bytes(pd.concat([done_before, new], ignore_index=True) if len(done_before) else new))
        if outbox.is_dir():
            write_atomic(outbox / "sent.csv", ledger.read_bytes())
    sent = int((new["result"] == SENT).sum())
    log.info("邮件：本次发出 %d 封（收件人次），被拒收 %d，未能发出 %d；以前已发出的不再重发", sent,
             int((new["result"] == REFUSED).sum()), int((new["result"] == FAILED).sum()))
    for row in new[new["result"] != SENT].itertuples():
        log.warning("邮件未送达：%s <%s>：%s", row.unit, redact_text(row.address), row.detail)
    return new


__all__ = ["Connection", "Outcome", "deliver_outbox", "parse_eml", "send_message", "send_once"]
