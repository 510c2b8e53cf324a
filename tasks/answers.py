"""Departments' answers to their problem lists (部门回复): per item, 工作机制、解决办法、工作主抓人、工作责任人、
具体考核机制 and 计划完成日期, as the 2016-09-28 speech asks of every department.

Answers are keyed on (department, item_id) (tasks/ledger_ids.py: the same problem has the same id every week)
and kept in history/<profile>/answers.parquet, one row per (department, item_id, week): the answer a week's
department files gave. The answer in force for week W is, per item, the row of the latest week ≤ W, so an
answer given once stays with the item until the department sends a new one, and rerunning an earlier week
gives that week's answers again (same inputs, same bytes). Only a county-wide weekly run records, after
publishing; an inspection reads the store and never writes it.

`attach_answers(frame, answers)` is the one way answers are joined to a frame keyed on (department, item_id):
the department problem lists use it, and so can the rectification ledger.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalprep.files import write_atomic
from evalprep.locks import exclusive
from evalprep.weeks import parse_week

ANSWER_FIELDS = ("mechanism", "solution", "answer_lead", "answer_responsible", "assessment", "due_date")
ANSWER_HEADERS = {
    "mechanism": "工作机制", "solution": "解决办法", "answer_lead": "工作主抓人", "answer_responsible": "工作责任人",
    "assessment": "具体考核机制", "due_date": "计划完成日期",
}
KEY = ["department", "item_id"]
STORE_COLUMNS = [*KEY, "village_code", *ANSWER_FIELDS, "week", "file"]
ATTACHED_COLUMNS = [*ANSWER_FIELDS, "answer_week"]
ANSWERS_FILE = "answers.parquet"


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """STORE_COLUMNS as text, "" where a value is missing."""
    frame = frame.reindex(columns=STORE_COLUMNS).astype(object)
    return frame.where(frame.notna(), "").astype(str)


def empty_answers() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in STORE_COLUMNS})


def answers_path(history_dir: Path, profile: str) -> Path:
    return history_dir / profile / ANSWERS_FILE


def _stored(history_dir: Path, profile: str) -> pd.DataFrame:
    path = answers_path(history_dir, profile)
    if not path.exists():
        return empty_answers()
    frame = pd.read_parquet(path)
    return _text(frame)


def latest_per_item(rows: pd.DataFrame, week: str | None = None) -> pd.DataFrame:
    """Per (department, item_id), the row of the latest week (≤ `week` when given)."""
    if not len(rows):
        return empty_answers()
    rows = _text(rows)
    order = pd.Series(["%04d-%02d" % parse_week(w) for w in rows["week"]], index=rows.index)
    if week is not None:
        upto = order <= "%04d-%02d" % parse_week(week)
        rows, order = rows[upto], order[upto]
    rows = rows.assign(_order=order).sort_values([*KEY, "_order"], kind="stable")
    return rows.drop_duplicates(KEY, keep="last").drop(columns="_order").reset_index(drop=True)


def load_answers(history_dir: Path, profile: str, week: str) -> pd.DataFrame:
    """The stored answers in force for `week` (STORE_COLUMNS, one row per department and item)."""
    return latest_per_item(_stored(history_dir, profile), week)


def merged_answers(stored: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """This week's answers over the stored ones: a new answer replaces the item's earlier answer whole."""
    parts = [f.reindex(columns=STORE_COLUMNS) for f in (stored, new) if len(f)]
    if not parts:
        return empty_answers()
    both = _text(pd.concat(parts, ignore_index=True))
    return both.drop_duplicates(KEY, keep="last").sort_values(KEY, kind="stable").reset_index(drop=True)


def record_answers(history_dir: Path, profile: str, week: str, new: pd.DataFrame) -> Path | None:
    """Store this week's answers (replacing the same week's earlier rows of the same items); nothing when the
    week brought none. Called by the weekly county run after publishing."""
    if not len(new):
        return None
    path = answers_path(history_dir, profile)
    rows = _text(new).assign(week=week)
    with exclusive(path.parent / ".history.lock"):  # the history's lock (tasks/history.py)
        kept = _stored(history_dir, profile)
        same = kept.set_index([*KEY, "week"]).index.isin(rows.set_index([*KEY, "week"]).index)
        table = pd.concat([kept[~same], rows], ignore_index=True)
        table = table.sort_values([*KEY, "week"], kind="stable").reset_index(drop=True)
        write_atomic(path, table.to_parquet(index=False))
    return path


def attach_answers(frame: pd.DataFrame, answers: pd.DataFrame | None) -> pd.DataFrame:
    """`frame` (any rows with `department` and `item_id` columns) with the answer in force for each row:
    ATTACHED_COLUMNS (the six answer fields, and `answer_week`, the week it was given), "" where the
    department has not answered. Row order and the frame's own columns are kept."""
    out = frame.drop(columns=[c for c in ATTACHED_COLUMNS if c in frame], errors="ignore")
    given = (answers if answers is not None else empty_answers()).reindex(columns=STORE_COLUMNS)
    given = given.drop_duplicates(KEY, keep="last").rename(columns={"week": "answer_week"})
    keys = pd.MultiIndex.from_frame(out[KEY].astype(str)) if len(out) else pd.MultiIndex.from_tuples([], names=KEY)
    indexed = given.set_index(KEY)
    for column in ATTACHED_COLUMNS:
        values = indexed[column].reindex(keys) if len(indexed) else pd.Series([None] * len(out))
        out[column] = pd.Series(values.to_numpy(), index=out.index, dtype="object").fillna("").astype(str)
    return out


DOSSIER_COLUMNS = ["village_code", "department", "item_id", "code", "project_id", "project_name", *ATTACHED_COLUMNS]


def dossier_answers(problems: pd.DataFrame) -> pd.DataFrame:
    """The problem lists' items with their answers, only the columns a village dossier prints (so a dossier
    is rendered again when its answers change, not when another village's ordering does)."""
    return problems.reindex(columns=DOSSIER_COLUMNS).reset_index(drop=True)


def unanswered(frame: pd.DataFrame) -> pd.Series:
    """Rows still without a 解决办法 or a 工作责任人 from their department."""
    if not len(frame) or "solution" not in frame:
        return pd.Series(True, index=frame.index, dtype=bool)
    return (frame["solution"].fillna("") == "") | (frame["answer_responsible"].fillna("") == "")
