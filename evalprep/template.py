"""The township workbook template (submission_template.yaml): sheets, columns, aliases, vocabularies."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

TEMPLATE_PATH = Path(__file__).with_name("submission_template.yaml")


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    kind: str
    required: bool
    aliases: tuple[str, ...]
    digits: int | None

    @property
    def vocabulary(self) -> str | None:
        return self.kind.split(":", 1)[1] if self.kind.startswith("enum:") else None


@dataclass(frozen=True)
class Sheet:
    key: str
    name: str
    required: bool
    row_key: str | None
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@lru_cache(maxsize=None)
def _raw() -> dict:
    with open(TEMPLATE_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=None)
def sheets() -> dict[str, Sheet]:
    """Sheets by canonical key (households, members, villages, surveys, projects, cover, missed)."""
    out = {}
    for key, spec in _raw()["sheets"].items():
        cols = tuple(
            Column(
                name=c["name"],
                header=c["header"],
                kind=c.get("kind", "text"),
                required=bool(c.get("required", False)),
                aliases=tuple(c.get("aliases", ())),
                digits=c.get("digits"),
            )
            for c in spec["columns"]
        )
        out[key] = Sheet(key=key, name=spec["name"], required=bool(spec["required"]), row_key=spec.get("key"), columns=cols)
    return out


@lru_cache(maxsize=None)
def vocabularies() -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in _raw()["vocabularies"].items()}
