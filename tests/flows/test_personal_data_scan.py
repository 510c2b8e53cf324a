"""End to end (issue 12): ID and phone numbers typed where they do not belong — a village name, a project name, a
person's name, a header, numeric cells, a file name — and formulas typed as a village name and a file name go
through the real weekly flow; then EVERY file of the output (PDF text, every XML part of every xlsx including
docProps, CSV, HTML, JSON), every output path, the run's Prefect logs and its artifacts are scanned: no raw
number anywhere, no CSV field a spreadsheet would run. The outbox's .eml files are opened as a mail reader
opens them (headers, body and every attachment decoded). One exemption, a township's own feedback workbook
(issue 13: its own workbook back to it, unmasked), exactly in `OUT/<week>/feedback/*.xlsx` and as the
attachment of that township's own message in `OUT/<week>/outbox/`: there each workbook must hold only its own
township's numbers, and no other message may carry one."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from email import message_from_bytes, policy
from pathlib import Path, PurePosixPath

import openpyxl
import pytest

from evalprep import idcard
from tasks.feedback import SUFFIX as FEEDBACK_SUFFIX
from tasks.mail import KIND_HEADER, UNIT_HEADER
from tests.conftest import LAST_WEEK

pytestmark = pytest.mark.slow
TOWNSHIP = "610928100"


def person(k: int) -> tuple[str, str]:
    """A valid ID number (check character right) and a mobile number, distinct per place typed."""
    return idcard.make("610928", dt.date(1960 + k, k, 10 + k), 100 + k), f"1391234{k:04d}"


PLACES = ("village", "project", "person", "header", "numeric", "file")
TYPED = {place: person(k) for k, place in enumerate(PLACES, start=1)}
RAW = {number: place for place, pair in TYPED.items() for number in pair}
FORMULA = '=HYPERLINK("http://x","y")'


def header_row(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[1] if cell.value}


def plant(inbox: Path) -> None:
    """Type the numbers and formulas into township 610928100's week workbook, rename it, add a '=' file."""
    week = inbox / LAST_WEEK
    path = next(week.glob(f"{TOWNSHIP}_*.xlsx"))
    book = openpyxl.load_workbook(path)
    villages = book["村基本情况"]
    cols = header_row(villages)
    village_id, village_phone = TYPED["village"]
    villages.cell(2, cols["行政村"]).value = f"{villages.cell(2, cols['行政村']).value}{village_id}电话{village_phone}"
    villages.cell(3, cols["行政村"]).value = FORMULA
    villages.cell(3, cols["行政村"]).data_type = "s"  # typed as text (openpyxl would store a formula without a value)
    leader_id, leader_phone = TYPED["person"]
    villages.cell(2, cols["第一书记"]).value = f"王五{leader_id}"
    villages.cell(2, cols["驻村工作队长"]).value = f"赵六 {leader_phone}"

    projects = book["双七项目"]
    cols = header_row(projects)
    project_id, project_phone = TYPED["project"]
    projects.cell(2, cols["项目名称"]).value = f"{projects.cell(2, cols['项目名称']).value}{project_id}"
    projects.cell(2, cols["工作主抓人"]).value = f"杨丽{project_phone}"
    projects.cell(2, cols["工作责任人"]).value = f"{leader_phone}"

    header_id, header_phone = TYPED["header"]
    members = book["家庭成员"]
    members.cell(1, header_row(members)["技能证书编号"]).value = f"技能证书编号{header_id} {header_phone}"

    numeric_id, numeric_phone = TYPED["numeric"]
    households = book["贫困户"]
    cols = header_row(households)
    households.cell(2, cols["人均纯收入(元)"]).value = int(numeric_phone)  # a number, as Excel stores it
    households.cell(3, cols["家庭年纯收入(元)"]).value = numeric_id  # text in a numeric column
    projects.cell(3, header_row(projects)["投资(万元)"]).value = numeric_id
    book.save(path)

    file_id, file_phone = TYPED["file"]
    path.rename(week / f"{TOWNSHIP}_城关镇_{file_id}_{file_phone}_{LAST_WEEK}.xlsx")
    (week / "=HYPERLINK(1).xlsx").write_bytes(b"not a workbook")


def pdf_text(path: Path) -> str:
    return pdf_bytes_text(path.read_bytes())


def pdf_bytes_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode("utf-8")


def readable(name: str, data: bytes) -> str:
    """What a person can read in a file: PDF text, every XML part of an xlsx (cells, sheet names, docProps), the
    text of anything else (an .eml: see mail_parts). Whitespace removed, so a number broken over two lines is
    still found."""
    suffix = PurePosixPath(name).suffix
    if suffix == ".pdf":
        text = pdf_bytes_text(data)
    elif suffix == ".xlsx":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            text = "\n".join(archive.read(member).decode("utf-8") for member in archive.namelist())
    elif suffix == ".parquet":
        return ""  # machine tables (history) are not written into the output folder; checked below
    elif suffix == ".eml":
        text = "\n".join(part for _, part in mail_parts(data))
    else:
        text = data.decode("utf-8-sig", errors="replace")
    return "".join(text.split())


def readable_text(path: Path) -> str:
    return readable(path.name, path.read_bytes())


def mail_parts(data: bytes) -> list[tuple[str, str]]:
    """A message as its reader sees it: ("", its decoded headers), ("", each text part decoded), and
    (file name, readable text) per attachment (base64 decoded, then read like any file)."""
    message = message_from_bytes(data, policy=policy.default)
    parts = [("", "\n".join(f"{key}: {value}" for key, value in message.items()))]
    for part in message.walk():
        if part.is_multipart():
            continue
        name, payload = part.get_filename(), part.get_payload(decode=True) or b""
        if name:
            parts.append((name, readable(name, payload)))
        else:
            parts.append(("", payload.decode(part.get_content_charset() or "utf-8", errors="replace")))
    return parts


def leaks(text: str) -> list[str]:
    return [f"{number} ({RAW[number]})" for number in RAW if number in text]


def formula_fields(path: Path) -> list[str]:
    """CSV fields a spreadsheet would run: starting with = + @ (or tab/CR), or '-' when not a number."""
    bad = []
    for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
        for field in row:
            if field[:1] in ("=", "+", "@", "\t", "\r"):
                bad.append(field)
            elif field.startswith("-"):
                try:
                    float(field)
                except ValueError:
                    bad.append(field)
    return bad


def is_feedback(path: Path, published: Path) -> bool:
    """A township's feedback workbook (tasks/feedback.py): its own workbook back to it, unmasked on purpose."""
    return path.parent == published / "feedback" and path.suffix == ".xlsx"


ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


def mailed_feedback(path: Path) -> list[tuple[str, str, str]]:
    """Scan one outbox message: its headers, body and every attachment but a feedback workbook carry no raw
    number; a feedback workbook may only be attached to its own township's message. Returns (township code,
    readable text, where) of each feedback workbook attached, for check_feedback."""
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    unit, kind = str(message.get(UNIT_HEADER, "")), str(message.get(KIND_HEADER, ""))
    found = []
    for name, text in mail_parts(path.read_bytes()):
        where = f"{path.name}: {name or 'headers/body'}"
        if name.endswith(FEEDBACK_SUFFIX):
            assert (kind, unit) == ("township", name[:9]), f"{where}: a feedback workbook in {kind} {unit}'s message"
            found.append((name[:9], "".join(text.split()), where))
        else:
            assert not leaks("".join(text.split())), (where, leaks("".join(text.split())))
    return found


def check_feedback(workbooks: list[tuple[str, str, str]], inbox: Path) -> None:
    """Exempt from the scan, each feedback workbook (code, readable text, where) holds only its own township's
    numbers: every ID number in it is in that township's own submission and in no other township's; the planted
    numbers are all in township 610928100's submission, so they are in its workbook (the clerk must see them)
    and in no other."""
    sent = {p.name[:9]: readable_text(p) for p in (inbox / LAST_WEEK).glob("*.xlsx") if p.name[:9].isdigit()}
    assert len(workbooks) == len(sent) >= 2
    for code, text, path in workbooks:
        numbers = set(ID_NUMBER.findall(text))
        own = set(ID_NUMBER.findall(sent[code]))
        others = set().union(*(set(ID_NUMBER.findall(t)) for c, t in sent.items() if c != code))
        assert numbers <= own and not numbers & others, path
        assert bool(leaks(text)) == (code == TOWNSHIP), (path, leaks(text))


def run_logs_and_artifacts(flow_run_id) -> tuple[list[str], list[str]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30)  # every log line of the run sent to the API before reading
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return [log.message for log in logs], [f"{a.key} {a.description} {a.data}" for a in artifacts]


def test_no_typed_number_reaches_any_output_and_no_csv_cell_runs(small_county, prefect_harness, tmp_path, monkeypatch):
    from flows.weekly import weekly_county_run

    inbox = tmp_path / "inbox"
    shutil.copytree(small_county / "inbox", inbox)
    plant(inbox)
    monkeypatch.setenv("EVALPREP_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "out"
    state = weekly_county_run(inbox=str(inbox), week=LAST_WEEK, out=str(out), reference=str(small_county / "reference"),
                              return_state=True)
    published = Path(state.result())

    # the run read the planted data (else the scan proves nothing)
    issues = (published / "issues.csv").read_text(encoding="utf-8-sig")
    assert "技能证书编号" in issues and "HYPERLINK(1)" in (published / "submissions.csv").read_text(encoding="utf-8-sig")
    assert any("王五" in pdf_text(p) for p in (published / "dossiers").rglob("*.pdf"))

    scanned, feedback, mailed = 0, [], []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        relative = path.relative_to(out).as_posix()
        assert not leaks(relative), relative
        if is_feedback(path, published):  # the one exemption: checked below instead
            feedback.append((path.name[:9], readable_text(path), relative))
            continue
        if path.suffix == ".eml":  # every part decoded; a feedback workbook only in its own township's message
            mailed += mailed_feedback(path)
        assert not leaks(readable_text(path)) or path.suffix == ".eml", (relative, leaks(readable_text(path)))
        if path.suffix == ".csv":
            assert not formula_fields(path), (relative, formula_fields(path))
        scanned += 1
    assert scanned > 20
    check_feedback(feedback, inbox)
    check_feedback(mailed, inbox)  # the demo's contacts.csv addresses every township: each got its own workbook
    csv_text = {p.name: p.read_text(encoding="utf-8-sig") for p in published.rglob("*.csv")}
    assert "'=HYPERLINK(1).xlsx" in csv_text["submissions.csv"]  # shown, not run

    logs, artifacts = run_logs_and_artifacts(state.state_details.flow_run_id)
    assert any("北沟村" in line for line in logs) and artifacts  # the planted village is logged (its file name)
    for line in logs + artifacts:
        assert not leaks("".join(line.split())), line
