"""docs/criteria.md, generated from the criteria catalogue: every criterion of every profile with its rule,
veto, departments, source, the function that decides it and the tests that pin it; the evaluators' metrics
and how a value exactly at a line is read. `python -m expectations.criteria_doc` rewrites the file;
tests/test_criteria_doc.py fails when the committed file differs from what the catalogue says."""
from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from expectations.catalogue import CATALOGUE_PATH, load_profile, profile_names, raw_catalogue

ROOT = CATALOGUE_PATH.parents[1]
DOC_PATH = ROOT / "docs" / "criteria.md"
# where rules are pinned at their boundaries on hand-computed cases (other tests use criteria in passing)
RULE_TESTS = ("tests/test_validate.py", "tests/test_suites.py", "tests/test_criteria_frames.py",
              "tests/test_unknowable.py", "tests/test_evaluators_view.py")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _tests_naming(code: str) -> list[str]:
    """The rule tests that name the criterion code in a string."""
    pattern = re.compile(rf"[\"']{re.escape(code)}[\"']")
    return [t for t in RULE_TESTS if pattern.search((ROOT / t).read_text(encoding="utf-8"))]


def _decided_in(code: str) -> str:
    from expectations.suites import CRITERION_BUILDERS

    builder = CRITERION_BUILDERS[code]
    return f"`{Path(inspect.getsourcefile(builder)).relative_to(ROOT).as_posix()}::{builder.__name__}` (GX)"


def criteria_markdown() -> str:
    cat = raw_catalogue()
    lines = ["# Criteria", "",
             "Generated from `expectations/catalogue.yaml` by `python -m expectations.criteria_doc`; "
             "`tests/test_criteria_doc.py` fails when this file drifts from the catalogue. Do not edit by hand.", ""]
    for name in profile_names():
        profile = load_profile(name)
        lines += [f"## {name}: {profile.label}", "",
                  f"Year {profile.year}, poverty line {profile.poverty_line:g} 元, evaluation date "
                  f"{profile.evaluation_date}.", "",
                  "| code | label | rule | veto | department (co) | source | decided in | tested in |",
                  "|---|---|---|---|---|---|---|---|"]
        for c in profile.criteria:
            departments = c.department + (f" ({'、'.join(c.co_departments)})" if c.co_departments else "")
            tests = ", ".join(f"`{t}`" for t in _tests_naming(c.code)) or "—"
            lines.append("| " + " | ".join(_cell(v) for v in (
                c.code, c.label, c.rule, "是" if c.veto else "否", departments, c.source, _decided_in(c.code), tests)) + " |")
        lines.append("")
    reading = cat["threshold_reading"]
    lines += ["## Evaluators' metrics", "",
              f"Exactly at a line: **{reading['at_threshold']}** (sources: {', '.join(reading['sources'])}). "
              "Compared in one place: `expectations/catalogue.py::Profile.metric_fails`.", "",
              "| metric | label | rule | line | source |", "|---|---|---|---|---|"]
    for key, metric in cat["metrics"].items():
        line = f"< {metric['max']:.0%}" if "max" in metric else f"> {metric['min']:.0%}"
        lines.append("| " + " | ".join(_cell(v) for v in (key, metric["label"], metric["rule"], line, metric["source"])) + " |")
    lines += ["", "## Sources", "", "| key | source |", "|---|---|"]
    lines += [f"| {key} | {_cell(text)} |" for key, text in cat["sources"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    DOC_PATH.write_text(criteria_markdown(), encoding="utf-8")
    print(f"wrote {DOC_PATH.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
