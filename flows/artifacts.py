"""Prefect artifacts of a run: the county scoreboard, what changed since last week, links to the documents."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pandas as pd
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from evalprep.redaction import redact_text, redact_value
from evalprep.settings import load_settings
from tasks.dossiers import rendering_summary

SCOREBOARD_COLUMNS = {"township_name": "乡镇", "villages": "村数", "villages_未达标": "未达标", "villages_合格": "合格",
                      "villages_优秀": "优秀", "key_villages_ready": "重点村达标", "key_villages": "重点村",
                      "households_failing": "不达标建档立卡户"}


def scoreboard_rows(townships: pd.DataFrame) -> list[dict]:
    """The county scoreboard as table rows (one per township, then the county total)."""
    table = townships[list(SCOREBOARD_COLUMNS)].rename(columns=SCOREBOARD_COLUMNS)
    total = table.drop(columns="乡镇").sum().to_dict()
    rows = table.to_dict("records") + [{"乡镇": "全县", **total}]
    return [{k: (int(v) if isinstance(v, (int, float)) else v) for k, v in row.items()} for row in rows]


def changes_markdown(week: str, changes: pd.DataFrame, previous_week_known: bool) -> str:
    """What changed since last week, in a few lines an official reads in the Prefect UI."""
    if not previous_week_known:
        return f"# {week}\n\n这是第一次记录的周次，暂无上周可比。\n"
    if changes.empty:
        return f"# {week}\n\n与上周相比，各村评定和未达标指标均无变化。\n"
    better = changes[changes["grade_now"] != changes["grade_before"]]
    lines = [f"# {week} 与上周相比", "", f"评定或未达标指标有变化的村：{len(changes)} 个。", ""]
    for row in better.itertuples(index=False):
        lines.append(f"- {row.village_name}（{row.village_code}）：{row.grade_before} → {row.grade_now}")
    fixed = changes[changes["fixed"] != ""]
    if len(fixed):
        lines += ["", f"有指标转为达标的村：{len(fixed)} 个；新出现未达标指标的村：{int((changes['new_failures'] != '').sum())} 个。"]
    return "\n".join(lines) + "\n"


def publish_artifacts(week: str, townships: pd.DataFrame, changes: pd.DataFrame, previous_week_known: bool,
                      run_folder: Path, rendering: pd.DataFrame) -> None:
    """Table, markdown and link artifacts on the current flow run, every text through the redaction gate (names,
    villages and file names printed there are typed by people)."""
    create_table_artifact(key="county-scoreboard", table=redact_value(scoreboard_rows(townships)),
                          description=redact_text(f"{week} 全县迎评记分板"))
    create_markdown_artifact(key="changes-since-last-week",
                             markdown=redact_text(changes_markdown(week, changes, previous_week_known)),
                             description="与上周相比的变化")
    create_markdown_artifact(key="documents-this-run", markdown=redact_text(f"# {week} 文档\n\n{rendering_summary(rendering)}"),
                             description="本次新生成、沿用和失败的文档")
    documents_artifact(week, run_folder)


def documents_artifact(week: str, run_folder: Path) -> None:
    """The run's documents on the flow run: an http link when EVALPREP_PUBLIC_URL is set, else the path as text
    to copy (a file:// link is one a browser does not open from the Prefect UI)."""
    link = documents_link(run_folder, load_settings().public_url)
    if link is not None:
        create_link_artifact(key="run-documents", link=link, link_text=f"{week} 全部档案（index.html）",
                             description="本次运行的全部文档")
    else:
        create_markdown_artifact(key="run-documents", markdown=redact_text(documents_path_markdown(week, run_folder)),
                                 description="本次运行的全部文档")


def documents_link(run_folder: Path, public_url: str | None) -> str | None:
    """The http address of the run's index.html when the office serves its output folder at `public_url`
    (EVALPREP_PUBLIC_URL; a run folder is always directly under the output folder), else None: a file://
    link is one a browser does not open from the Prefect UI."""
    if not public_url or not public_url.startswith(("http://", "https://")):
        return None
    return f"{public_url.rstrip('/')}/{quote(run_folder.name)}/index.html"


def documents_path_markdown(week: str, run_folder: Path) -> str:
    """Without EVALPREP_PUBLIC_URL: where the documents are, as text to copy, and how to get a link instead."""
    index = run_folder.resolve() / "index.html"
    return (f"# {week} 全部档案\n\n在本机的文件管理器或浏览器地址栏中粘贴下面的路径打开：\n\n```\n{index}\n```\n\n"
            "（浏览器不能从 Prefect 界面直接打开本机文件。要在这里显示可点击的链接：用 `evalprep serve-files` "
            "或办公室的网页服务器共享输出文件夹，并把它的地址设为 EVALPREP_PUBLIC_URL。）\n")
