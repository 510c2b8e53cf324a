"""The rectification ledger (整改台账): every problem as an item with a stable id across weeks.

Items are this week's department problem-list items (a village criterion failure per department that owns it,
a 双七 project without its owners) and every data problem of issues.csv (owned by the township: 镇政府). Each
item keeps the week it was first seen, the weeks it has been open, its deadline and a status:

- 新增     seen this week, never before;
- 未整改   seen this week and open last time (or its township sent nothing usable this week: nothing shows
           it fixed, so it stays open);
- 已整改   gone this week (`fixed_week`) — and it stays in the ledger, 已整改, in the weeks after;
- 反弹     fixed earlier, seen again this week (`reopened` counts how often).

`overdue` marks an open item whose deadline (criteria: the evaluation date less the catalogue's
rectify_days_before_evaluation; data problems: the end of the week `data_rule_weeks` after the week it
(re)appeared) is before the run's cut-off date. This week's ledger is computed from the newest earlier
recorded week's (tasks/history.py), so rerunning a week gives the same ledger.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from evalprep.files import write_atomic
from evalprep.redaction import csv_bytes
from evalprep.template import sheets
from evalprep.weeks import week_sunday
from expectations.catalogue import Profile, raw_catalogue
from tasks.ledger_ids import item_id
from tasks.render.formatting import clean_text

NEW, OPEN, FIXED, REOPENED = "新增", "未整改", "已整改", "反弹"
OPEN_STATUSES = (NEW, OPEN, REOPENED)
STATUS_ORDER = {REOPENED: 0, NEW: 1, OPEN: 2, FIXED: 3}
UNNAMED = "未明确"
TOWNSHIP_OWNER = raw_catalogue()["rectification"]["data_rule_owner"]  # 镇政府: who owns a data problem
KIND_DATA = "data"
KIND_WORDS = {"criterion": "指标未达标", "project": "项目缺责任主体", KIND_DATA: "数据问题"}
KEY = ["item_id", "department"]
DESCRIPTION = ["township_code", "township_name", "village_code", "village_name", "kind", "rule", "problem",
               "lead", "responsible_person", "count"]
LEDGER_COLUMNS = [*KEY, *DESCRIPTION[:7], "status", "overdue", "deadline", "first_seen", "opened_week",
                  "last_seen", "fixed_week", "weeks_open", "reopened", *DESCRIPTION[7:]]


def data_rule_weeks() -> int:
    return int(raw_catalogue()["rectification"]["data_rule_weeks"])


# ------------------------------------------------------------------------------------------- this week's items

def problem_items(problems: pd.DataFrame, profile: Profile, evaluation_date: dt.date) -> pd.DataFrame:
    """The department problem lists as ledger items: one per (item_id, department), due per criterion."""
    columns = [*KEY, *DESCRIPTION, "deadline"]
    if not len(problems):
        return pd.DataFrame(columns=columns)
    rows = []
    for item in problems.to_dict("records"):
        criterion = profile.criterion(item["code"])
        if item["kind"] == "project":
            problem = f"项目「{clean_text(item['project_name'])}」（{clean_text(item['project_id'])}）缺" + \
                "、".join({"department": "主责部门", "lead": "工作主抓人", "responsible_person": "工作责任人"}[g]
                         for g in clean_text(item["owner_gaps"]).split(";") if g)
        else:
            problem = f"{criterion.label}未达标"
        rows.append({
            "item_id": item["item_id"], "department": clean_text(item["department"], UNNAMED),
            "township_code": clean_text(item["township_code"]),
            "township_name": clean_text(item["township_name"], UNNAMED),
            "village_code": clean_text(item["village_code"]), "village_name": clean_text(item["village_name"]),
            "kind": item["kind"], "rule": criterion.code, "problem": problem,
            "lead": clean_text(item["lead"], UNNAMED), "responsible_person": clean_text(item["responsible_person"], UNNAMED),
            "count": 1, "deadline": criterion.rectify_by(evaluation_date),
        })
    return pd.DataFrame(rows, columns=columns)


def _record_keys(frames: Mapping[str, pd.DataFrame], rows: set[int]) -> tuple[dict[tuple[str, str, int], str],
                                                                           dict[tuple[str, str], str]]:
    """(file, sheet as written, Excel row) → the record's identity (its row key: household id, person id, village
    code, survey id, project id) for the Excel rows asked for, and (file, sheet as written) → the template's
    sheet key."""
    records: dict[tuple[str, str, int], str] = {}
    tables: dict[tuple[str, str], str] = {}
    template = sheets()
    for table, frame in frames.items():
        spec = template.get(table)
        if spec is None or not len(frame) or not {"_file", "_sheet", "_row"} <= set(frame.columns):
            continue
        for file, sheet in frame[["_file", "_sheet"]].drop_duplicates().itertuples(index=False, name=None):
            tables[(file, sheet)] = table
        key = spec.row_key if spec.row_key in frame.columns else None
        if key is None:
            continue
        asked = frame[frame["_row"].isin(rows)]  # a county has ~140,000 rows and a few thousand issues
        for file, sheet, row, value in zip(asked["_file"], asked["_sheet"], asked["_row"], asked[key]):
            if isinstance(value, str) and value and pd.notna(row):
                records[(file, sheet, int(row))] = value
    return records, tables


def data_items(issues: pd.DataFrame, frames: Mapping[str, pd.DataFrame], headers: pd.DataFrame,
               township_names: Mapping[str, str], week: str) -> pd.DataFrame:
    """issues.csv rows as ledger items owned by their township (镇政府). The id is the rule, the township, the
    sheet (template key), the record's own key (never the Excel row, which moves when rows are sorted) and
    the column (template name): a problem of a row whose key could not be read (not imported) joins the other
    such rows of its sheet and column in one item; `count` says how many cells it covers this week."""
    columns = [*KEY, *DESCRIPTION, "deadline"]
    if not len(issues):
        return pd.DataFrame(columns=columns)
    records, tables = _record_keys(frames, {int(r) for r in issues["row"] if pd.notna(r)})
    template = sheets()
    by_name = {spec.name: key for key, spec in template.items()}
    canonical = {(f, s, w): c for f, s, c, w in headers[["file", "sheet", "column", "written"]].itertuples(index=False)} \
        if len(headers) else {}
    labels = {code: rule["label"] for code, rule in raw_catalogue()["data_rules"].items()}
    due = week_sunday(week) + dt.timedelta(weeks=data_rule_weeks())
    rows: dict[str, dict] = {}
    for issue in issues.to_dict("records"):
        file, sheet, column = clean_text(issue["file"]), clean_text(issue["sheet"]), clean_text(issue["column"])
        row = issue["row"]
        table = tables.get((file, sheet)) or by_name.get(sheet) or sheet
        record = records.get((file, sheet, int(row)), "") if pd.notna(row) else ""
        name = canonical.get((file, sheet, column)) or column
        township = clean_text(issue["township_code"])
        identity = item_id(issue["rule"], township, table, record, name)
        if identity in rows:
            rows[identity]["count"] += 1
            continue
        where = template[table].name if table in template else sheet
        header = template[table].column(name).header if table in template and name in template[table].column_names else column
        thing = f"「{where}」{record + ' ' if record else ''}{header}".strip()
        rows[identity] = {
            "item_id": identity, "department": TOWNSHIP_OWNER, "township_code": township,
            "township_name": township_names.get(township) or UNNAMED, "village_code": clean_text(issue.get("village_code")),
            "village_name": "", "kind": KIND_DATA, "rule": issue["rule"],
            "problem": f"{labels.get(issue['rule'], issue['rule'])}：{thing}", "lead": UNNAMED,
            "responsible_person": UNNAMED, "count": 1, "deadline": due,
        }
    return pd.DataFrame(list(rows.values()), columns=columns)


# ------------------------------------------------------------------------------------------------ the ledger

def _week_after(week: str, weeks: int) -> dt.date:
    return week_sunday(week) + dt.timedelta(weeks=weeks)


def advance_ledger(previous: pd.DataFrame | None, current: pd.DataFrame, week: str, as_of: dt.date,
                   covered: Iterable[str]) -> pd.DataFrame:
    """This week's ledger from the previous recorded week's and this week's items (one row per item_id and
    department). `covered`: the townships whose submission was used this week; an open item of any other
    township is carried as 未整改 (nothing shows it fixed)."""
    covered = set(covered)
    before = previous.set_index(KEY) if previous is not None and len(previous) else None
    now = current.drop_duplicates(KEY).set_index(KEY) if len(current) else None
    rows = []
    keys = list(now.index) if now is not None else []
    seen = set(keys)
    if before is not None:
        keys += [k for k in before.index if k not in seen]
    for key in keys:
        last = before.loc[key].to_dict() if before is not None and key in before.index else None
        item = now.loc[key].to_dict() if now is not None and key in seen else None
        if item is not None:
            row = {**(last or {}), **item}
            if last is None:
                row.update(status=NEW, first_seen=week, opened_week=week, fixed_week="", weeks_open=1, reopened=0)
            elif last["status"] == FIXED:
                row.update(status=REOPENED, opened_week=week, fixed_week="", weeks_open=int(last["weeks_open"]) + 1,
                           reopened=int(last["reopened"]) + 1)
            else:
                row.update(status=OPEN, weeks_open=int(last["weeks_open"]) + 1)
            if row["kind"] == KIND_DATA:  # a data problem is due from the week it (re)appeared
                row["deadline"] = _week_after(row["opened_week"], data_rule_weeks())
            row["last_seen"] = week
        elif last["status"] == FIXED:
            row = dict(last)
        elif last["township_code"] not in covered:
            row = {**last, "status": OPEN, "weeks_open": int(last["weeks_open"]) + 1}
        else:
            row = {**last, "status": FIXED, "fixed_week": week, "count": 0}
        row["item_id"], row["department"] = key
        row["overdue"] = row["status"] in OPEN_STATUSES and as_of > _as_date(row["deadline"])
        rows.append(row)
    ledger = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
    if not len(ledger):
        return ledger
    ledger["deadline"] = ledger["deadline"].map(_as_date)
    for column in ("weeks_open", "reopened", "count"):
        ledger[column] = ledger[column].astype(int)
    ledger["overdue"] = ledger["overdue"].astype(bool)
    ledger["_status"] = ledger["status"].map(STATUS_ORDER)
    ledger = ledger.sort_values(["department", "_status", "overdue", "township_code", "village_code", "item_id"],
                                ascending=[True, True, False, True, True, True], kind="stable")
    return ledger[LEDGER_COLUMNS].reset_index(drop=True)


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def week_ledger(previous: pd.DataFrame | None, problems: pd.DataFrame, issues: pd.DataFrame,
                frames: Mapping[str, pd.DataFrame], headers: pd.DataFrame, submissions: pd.DataFrame,
                profile: Profile, week: str, as_of: dt.date, evaluation_date: dt.date) -> pd.DataFrame:
    """The week's ledger: this week's problem-list and data items against the previous recorded ledger."""
    names = {}
    if len(submissions):
        names = dict(zip(submissions["township_code"], submissions["township_name"].map(clean_text)))
    if len(problems):
        names.update(zip(problems["township_code"], problems["township_name"].map(clean_text)))
    covered = set(submissions.loc[submissions["used"].astype(bool), "township_code"]) if len(submissions) else set()
    items = pd.concat([problem_items(problems, profile, evaluation_date),
                       data_items(issues, frames, headers, names, week)], ignore_index=True)
    return advance_ledger(previous, items, week, as_of, covered)


# ---------------------------------------------------------------------------------------------- reading it

def closure(ledger: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per department or township: items seen, open, fixed, reopened this week, overdue and the closure rate
    (已整改 ÷ every item seen), worst rate first."""
    columns = [by, "items", "open", "fixed", "reopened", "overdue", "rate"]
    if ledger is None or not len(ledger):
        return pd.DataFrame(columns=columns)
    table = ledger.groupby(by, sort=True).agg(
        items=("item_id", "size"),
        open=("status", lambda s: int(s.isin(OPEN_STATUSES).sum())),
        fixed=("status", lambda s: int((s == FIXED).sum())),
        reopened=("status", lambda s: int((s == REOPENED).sum())),
        overdue=("overdue", "sum"),
    ).reset_index()
    table["overdue"] = table["overdue"].astype(int)
    table["rate"] = table["fixed"] / table["items"]
    return table.sort_values(["rate", "overdue", by], ascending=[True, False, True], kind="stable")[columns].reset_index(drop=True)


def overdue_ids(ledger: pd.DataFrame | None) -> set[tuple[str, str]]:
    """(item_id, department) of every overdue item."""
    if ledger is None or not len(ledger):
        return set()
    due = ledger[ledger["overdue"].astype(bool)]
    return set(zip(due["item_id"], due["department"]))


def rate_text(fixed: int, items: int) -> str:
    """已整改 ÷ every item seen, as printed: 3 / 8（38%）; "—" when nothing was ever seen."""
    return f"{fixed} / {items}（{fixed / items:.0%}）" if items else "—"


# -------------------------------------------------------------------------------------------------- outputs

LEDGER_SHEET = (
    ("item_id", "台账编号", 34), ("department", "责任部门", 16), ("township_name", "乡镇", 10),
    ("village_name", "村", 10), ("village_code", "村代码", 14), ("kind_text", "类别", 12), ("problem", "问题", 44),
    ("status", "状态", 8), ("overdue_text", "逾期", 6), ("deadline", "整改期限", 12), ("first_seen", "首次发现", 10),
    ("weeks_open", "未整改周数", 8), ("fixed_week", "整改周", 10), ("reopened", "反弹次数", 8),
    ("lead", "项目所填主抓人", 10), ("responsible_person", "项目所填责任人", 10), ("count", "本周处数", 8),
    # the department's own answer (tasks/answers.py), when the ledger carries it
    ("solution", "部门解决办法", 30), ("mechanism", "工作机制", 20), ("answer_lead", "工作主抓人", 10),
    ("answer_responsible", "工作责任人", 10), ("assessment", "具体考核机制", 20), ("due_date", "计划完成日期", 12),
)
ANSWER_KEYS = ("solution", "mechanism", "answer_lead", "answer_responsible", "assessment", "due_date")
CLOSURE_SHEET = (("name", "名称", 18), ("items", "台账问题", 9), ("open", "未整改", 9), ("fixed", "已整改", 9),
                 ("reopened", "本周反弹", 9), ("overdue", "逾期", 9), ("rate", "整改率", 16))


def _closure_rows(ledger: pd.DataFrame, by: str) -> list[dict]:
    return [{**row, "name": row[by], "rate": rate_text(row["fixed"], row["items"])}
            for row in closure(ledger, by).to_dict("records")]


def ledger_xlsx(ledger: pd.DataFrame, week: str, as_of: dt.date, county: str) -> bytes:
    """ledger.xlsx: every item, then closure by department and by township (through attachments.xlsx_bytes,
    so it gets the project's spreadsheet settings)."""
    from tasks.attachments import Sheet, xlsx_bytes

    rows = [{**dict.fromkeys(ANSWER_KEYS, ""), **row, "kind_text": KIND_WORDS.get(row["kind"], row["kind"]), "deadline": row["deadline"].isoformat(),
             "overdue_text": "逾期" if row["overdue"] else ""} for row in ledger.to_dict("records")]
    document = {"title": f"{county}整改台账（{week}）", "author": county,
                "footer": f"数据截止 {as_of.isoformat()} · 已整改的问题保留在台账中"}
    return xlsx_bytes([Sheet("整改台账", LEDGER_SHEET, rows),
                       Sheet("各部门整改率", CLOSURE_SHEET, _closure_rows(ledger, "department")),
                       Sheet("各镇整改率", CLOSURE_SHEET, _closure_rows(ledger, "township_name"))], document, as_of)


def write_ledger(stage: Path, ledger: pd.DataFrame, run: Mapping[str, object], townships: Iterable[str] = (),
                 villages: Iterable[str] = ()) -> None:
    """OUT/<week>/ledger.csv (the redaction gate's CSV) and ledger.xlsx; an inspection's folder gets the rows of
    its townships and villages."""
    ledger = in_scope(ledger, townships, villages)
    frame = ledger.copy()
    frame["deadline"] = frame["deadline"].map(lambda d: d.isoformat())
    write_atomic(stage / "ledger.csv", csv_bytes(frame))
    write_atomic(stage / "ledger.xlsx", ledger_xlsx(ledger, str(run["week"]), _as_date(run["as_of"]), str(run["county"])))


def in_scope(ledger: pd.DataFrame, townships: Iterable[str] = (), villages: Iterable[str] = ()) -> pd.DataFrame:
    """The ledger rows of an inspection's townships and of the townships of its villages (an inspection reads
    whole townships; a village code begins with its township's); all of it for a county run."""
    scope = set(townships) | {str(v)[:9] for v in villages}
    if not scope:
        return ledger
    return ledger[ledger["township_code"].isin(scope)].reset_index(drop=True)


def ordered_problems(problems: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """The department problem lists with overdue items first (tasks/departments.py overdue_first)."""
    from tasks.departments import overdue_first

    return overdue_first(problems, overdue_ids(ledger))
