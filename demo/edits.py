"""Week-dependent cell values and the injected gaps (defects) they produce."""
from __future__ import annotations

from dataclasses import dataclass, field

from .weeks import WEEKS, number

WEEK_NUMBERS = tuple(number(w) for w in WEEKS)


def active_weeks(fix_week: int) -> tuple[int, ...]:
    """Weeks in which a gap fixed in `fix_week` still shows."""
    return tuple(w for w in WEEK_NUMBERS if w < fix_week)


@dataclass
class Gap:
    """One injected defect: a criterion gap or a data-quality defect, and where it shows each week."""

    kind: str  # "criterion" or a data-quality kind such as "id_check_digit"
    code: str  # criterion code or data-rule code
    township_code: str
    village_code: str
    fix_week: int  # first week it no longer shows (NEVER: still open in the last week)
    where: dict[int, tuple[str, int, str]]  # week number → (table key, row index in the week's table source, column)
    household_id: str | None = None
    person_id: str | None = None
    project_id: str | None = None
    value: dict[int, object] = field(default_factory=dict)  # value written in that week, where telling

    @property
    def weeks(self) -> tuple[int, ...]:
        return tuple(sorted(self.where))


class Edits:
    """Cell values that differ from the base (final) tables in given weeks."""

    def __init__(self) -> None:
        self._cells: dict[str, dict[int, dict[str, dict[int, object]]]] = {}

    def set(self, table: str, idx: int, column: str, by_week: dict[int, object]) -> None:
        weeks = self._cells.setdefault(table, {})
        for week, value in by_week.items():
            weeks.setdefault(week, {}).setdefault(column, {})[idx] = value

    def same(self, table: str, idx: int, column: str, weeks: tuple[int, ...], value: object) -> None:
        self.set(table, idx, column, {w: value for w in weeks})

    def for_week(self, table: str, week: int) -> dict[str, dict[int, object]]:
        return self._cells.get(table, {}).get(week, {})
