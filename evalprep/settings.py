"""Paths and switches in one settings object, read from the environment (EVALPREP_*)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = PROJECT_ROOT / "report_templates"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    max_file_bytes: int
    render_processes: int
    inbox: Path | None = None  # EVALPREP_INBOX; default: data/inbox, else the demo county's inbox
    weekly_cron: str = "0 7 * * 1"  # Monday 07:00
    timezone: str = "Asia/Shanghai"
    deadline_day: int = 1  # days after the Sunday that ends the week
    deadline_time: str = "12:00"  # Asia/Shanghai
    dask_address: str | None = None  # EVALPREP_DASK_ADDRESS: tcp://scheduler:8786, or "local"
    document_store_days: float = 28  # EVALPREP_DOCUMENT_STORE_DAYS: stored documents unused this long are removed
    public_url: str | None = None  # EVALPREP_PUBLIC_URL: http address where the office serves the output folder
    county_name: str = "旬阳县"
    county_code: str = "610928"
    # The county command office, without the county's name (EVALPREP_OFFICE_NAME): it receives the failure
    # notices and signs the outbox's messages; contacts.csv names it so (tasks/outbox.py).
    office_name: str = "脱贫攻坚指挥部办公室"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def inbox_dir(self) -> Path:
        if self.inbox is not None:
            return self.inbox
        office = self.data_dir / "inbox"
        return office if office.is_dir() else self.demo_dir / "inbox"

    @property
    def history_dir(self) -> Path:
        return self.data_dir / "history"

    @property
    def reference_dir(self) -> Path:
        return self.data_dir / "reference"

    @property
    def demo_dir(self) -> Path:
        return self.data_dir / "demo"

    @property
    def out_dir(self) -> Path:
        return self.data_dir / "out"


def load_settings() -> Settings:
    """Settings from the environment, with defaults for one office machine."""
    env = os.environ
    return Settings(
        data_dir=Path(env.get("EVALPREP_DATA_DIR", PROJECT_ROOT / "data")).resolve(),
        max_file_bytes=int(float(env.get("EVALPREP_MAX_FILE_MB", "50")) * 1024 * 1024),
        # on a Dask cluster the Dask worker processes render (0 = in the task's own process)
        render_processes=int(env.get("EVALPREP_RENDER_PROCESSES", 0 if env.get("EVALPREP_DASK_ADDRESS") else os.cpu_count() or 1)),
        dask_address=env.get("EVALPREP_DASK_ADDRESS") or None,
        inbox=Path(env["EVALPREP_INBOX"]).resolve() if env.get("EVALPREP_INBOX") else None,
        weekly_cron=env.get("EVALPREP_WEEKLY_CRON", "0 7 * * 1"),
        timezone=env.get("EVALPREP_TIMEZONE", "Asia/Shanghai"),
        deadline_day=int(env.get("EVALPREP_DEADLINE_DAY", "1")),
        deadline_time=env.get("EVALPREP_DEADLINE_TIME", "12:00"),
        document_store_days=float(env.get("EVALPREP_DOCUMENT_STORE_DAYS", "28")),
        public_url=env.get("EVALPREP_PUBLIC_URL") or None,
        office_name=env.get("EVALPREP_OFFICE_NAME", "").strip() or Settings.office_name,
    )


SMTP_SECURITY = ("starttls", "ssl", "none")
SMTP_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    """Where the weekly outbox is sent (EVALPREP_SMTP_*). Credentials come from the environment only, never from
    a file, and the password never shows in a repr or a log line."""

    host: str
    port: int
    security: str = "starttls"  # starttls / ssl / none
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str | None = None  # EVALPREP_SMTP_FROM; default: the office's address in contacts.csv
    timeout: float = 30.0  # seconds per SMTP command
    tries: int = 3  # attempts per message on a transient error (4xx reply, lost connection)
    backoff: float = 2.0  # seconds before the second try, doubled before each further one


def load_smtp_settings() -> SmtpSettings | None:
    """The SMTP settings when EVALPREP_SMTP_HOST is set, else None (the outbox is only written as .eml files).
    A security mode other than starttls / ssl / none is a ValueError naming the variable."""
    env = os.environ
    host = env.get("EVALPREP_SMTP_HOST", "").strip()
    if not host:
        return None
    security = env.get("EVALPREP_SMTP_SECURITY", "starttls").strip().lower() or "starttls"
    if security not in SMTP_SECURITY:
        raise ValueError(f"EVALPREP_SMTP_SECURITY 应为 {' / '.join(SMTP_SECURITY)}，现为「{security}」")
    return SmtpSettings(
        host=host,
        port=int(env.get("EVALPREP_SMTP_PORT") or SMTP_DEFAULT_PORTS[security]),
        security=security,
        user=env.get("EVALPREP_SMTP_USER") or None,
        password=env.get("EVALPREP_SMTP_PASSWORD") or None,
        sender=env.get("EVALPREP_SMTP_FROM") or None,
        timeout=float(env.get("EVALPREP_SMTP_TIMEOUT", "30")),
        tries=max(1, int(env.get("EVALPREP_SMTP_TRIES", "3"))),
        backoff=float(env.get("EVALPREP_SMTP_BACKOFF", "2")),
    )


def load_mail_from() -> str | None:
    """EVALPREP_SMTP_FROM: the sender of the outbox's messages, also when they are only written as .eml files."""
    return os.environ.get("EVALPREP_SMTP_FROM") or None
