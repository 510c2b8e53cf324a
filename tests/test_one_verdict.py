"""Each criterion's verdict is taken once (GX in expectations/suites.py, or the catalogue's own comparison
functions for values GX never sees: Profile.metric_fails, Criterion.band_of); everything downstream reads the
stored status. This test fails when code elsewhere compares a value with a catalogue threshold again."""
from __future__ import annotations

import ast
from pathlib import Path

from expectations.catalogue import raw_catalogue

ROOT = Path(__file__).resolve().parents[1]
DECIDERS = {"expectations/suites.py", "expectations/catalogue.py"}
# the product; demo/ (the demo county generator and the preview county) writes its own truth with its own
# hands (the tests' oracle) and is not scanned
SCANNED = ("tasks", "flows", "evalprep", "expectations")


def threshold_keys() -> set[str]:
    """The names under which the catalogue keeps a line a value is compared with."""
    cat = raw_catalogue()
    keys = {k for m in cat["metrics"].values() for k in ("max", "min") if k in m}
    for criterion in cat["criteria"].values():
        keys |= {k for k, v in criterion.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return keys | {"poverty_line"}


def _mentions(node: ast.AST, keys: set[str], names: set[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Constant) and sub.slice.value in keys:
            return True
        if isinstance(sub, ast.Attribute) and sub.attr in keys:
            return True
        if isinstance(sub, ast.Name) and sub.id in names:
            return True
    return False


def comparisons_with_thresholds(source: str, keys: set[str]) -> list[int]:
    """Lines where a comparison (<, <=, >, >=) involves a catalogue threshold, directly or through a local
    name assigned from one."""
    tree = ast.parse(source)
    names: set[str] = set()
    for node in ast.walk(tree):  # names bound to a threshold anywhere in the module (a, b = p["x"], p["y"] too)
        if isinstance(node, ast.Assign):
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            targets = [t for target in node.targets
                       for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
            for target, value in zip(targets, values * (len(targets) if len(values) == 1 else 1)):
                if isinstance(target, ast.Name) and _mentions(value, keys, set()):
                    names.add(target.id)
    ordering = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
    return sorted({node.lineno for node in ast.walk(tree)
                   if isinstance(node, ast.Compare) and any(isinstance(op, ordering) for op in node.ops)
                   and any(_mentions(operand, keys, names) for operand in (node.left, *node.comparators))})


def test_the_scanner_finds_a_threshold_compared_again():
    keys = {"fail_below", "max"}
    assert comparisons_with_thresholds("ok = rate >= p['fail_below']\n", keys) == [1]
    assert comparisons_with_thresholds("line = crit.params['max']\n\nbad = x < line\n", keys) == [3]
    assert comparisons_with_thresholds("a, b = p['fail_below'], 3\nok = a > b\n", keys) == [2]
    assert comparisons_with_thresholds("fine = rate >= other\nshown = f\"{p['max']:.0%}\"\n", keys) == []


def test_no_threshold_is_compared_outside_the_deciders():
    keys = threshold_keys()
    offenders = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in DECIDERS:
                continue
            offenders += [f"{relative}:{line}" for line in comparisons_with_thresholds(path.read_text(encoding="utf-8"), keys)]
    assert not offenders, ("a catalogue threshold is compared again (read the stored status, or use the catalogue's "
                           "Profile.metric_fails / Criterion.band_of): " + ", ".join(offenders))
