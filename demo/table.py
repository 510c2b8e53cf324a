"""Column-oriented tables of plain Python values, copied per week with a few cells changed."""
from __future__ import annotations

from collections.abc import Iterable


class Table:
    """Named columns of equal length; values are str / int / float / bool / date or None (blank)."""

    def __init__(self, columns: Iterable[str]):
        self.cols: dict[str, list] = {c: [] for c in columns}

    def append(self, row: dict) -> int:
        n = len(self)
        for name, values in self.cols.items():
            values.append(row.get(name))
        return n

    def __len__(self) -> int:
        return len(next(iter(self.cols.values()))) if self.cols else 0

    def __getitem__(self, name: str) -> list:
        return self.cols[name]

    def get(self, idx: int, name: str):
        return self.cols[name][idx]

    def set(self, idx: int, name: str, value) -> None:
        self.cols[name][idx] = value

    def with_changes(self, changes: dict[str, dict[int, object]]) -> "Table":
        """A copy sharing unchanged columns; `changes` maps column → {row index: value}."""
        out = Table(())
        out.cols = dict(self.cols)
        for name, cells in changes.items():
            if cells:
                column = list(self.cols[name])
                for idx, value in cells.items():
                    column[idx] = value
                out.cols[name] = column
        return out

    def take(self, rows: list[int]) -> "Table":
        out = Table(())
        out.cols = {name: [values[i] for i in rows] for name, values in self.cols.items()}
        return out
