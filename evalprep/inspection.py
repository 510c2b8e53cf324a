"""What an inspection covers: the named townships plus the townships of the named villages."""
from __future__ import annotations

import re

VILLAGE_CODE = re.compile(r"^\d{12}$")
TOWNSHIP_CODE = re.compile(r"^\d{9}$")


def inspection_scope(townships: list[str], villages: list[str]) -> dict[str, list[str]]:
    """Townships to ingest and villages to render; a village brings in its own township."""
    bad = [v for v in villages if not VILLAGE_CODE.match(v)] + [t for t in townships if not TOWNSHIP_CODE.match(t)]
    if bad:
        raise ValueError(f"代码格式不对（镇代码9位，村代码12位）：{'、'.join(bad)}")
    if not townships and not villages:
        raise ValueError("检查前运行需要指定至少一个镇或村")
    towns = sorted(set(townships) | {v[:9] for v in villages})
    return {"townships": towns, "villages": sorted(set(villages))}
