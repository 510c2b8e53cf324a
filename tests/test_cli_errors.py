"""Bad arguments and bad reference data: the real CLI in a subprocess exits with status 2 and ONE line on stderr
(Chinese, naming the argument or file), no traceback, before Prefect is imported; the weekly flow's body raises
the same InputError when called directly (the deployment path)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evalprep.errors import InputError, MissingInputError

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
WEEK = "2016-W39"
# main() as the console script runs it, reporting which heavy modules were loaded when it returned
PROBE = """
import sys
from flows.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(",".join(m for m in ("prefect", "pandas", "flows.weekly") if m in sys.modules))
sys.exit(code)
"""


@pytest.fixture()
def place(tmp_path) -> Path:
    """An inbox with one (unread) file in the week's folder, a complete reference folder, an empty data dir."""
    (tmp_path / "inbox" / WEEK).mkdir(parents=True)
    (tmp_path / "inbox" / WEEK / "610928100_城关镇.xlsx").write_bytes(b"not read: the run stops before")
    shutil.copytree(REFERENCE, tmp_path / "ref")
    (tmp_path / "data").mkdir()
    return tmp_path


def cli(place: Path, *args: str) -> tuple[int, list[str], str]:
    env = {**os.environ, "EVALPREP_DATA_DIR": str(place / "data"), "EVALPREP_INBOX": str(place / "inbox")}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120,
                          cwd=place, env=env)
    return done.returncode, done.stderr.splitlines(), done.stdout.strip()


def run_args(place: Path, *extra: str, week: str = WEEK, reference: str | None = "ref") -> list[str]:
    args = ["run", "--inbox", str(place / "inbox"), "--week", week]
    return args + (["--reference", str(place / reference)] if reference else []) + list(extra)


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


CASES = {
    # name: (how to spoil the place, the command line, words the one line must contain)
    "week-99": (None, lambda p: run_args(p, week="2016-W99"), ["2016-W99", "52"]),
    "week-no-w": (None, lambda p: run_args(p, week="2016-39"), ["YYYY-Www", "2016-39"]),
    "week-path": (None, lambda p: run_args(p, week="../x"), ["YYYY-Www", "../x"]),
    "reference-mistyped": (None, lambda p: run_args(p, reference="refs"), ["--reference", "refs"]),
    "inbox-missing": (None, lambda p: ["run", "--inbox", str(p / "inbx"), "--week", WEEK, "--reference", str(p / "ref")],
                      ["收件箱", "inbx"]),
    "profile-unknown": (None, lambda p: run_args(p, "--profile", "xunyang-2061"),
                        ["xunyang-2061", "xunyang-2016", "shaanxi-2017"]),
    "inspect-without-scope": (None, lambda p: ["inspect"], ["--village", "--township"]),
    "inspect-bad-code": (None, lambda p: ["inspect", "--village", "../../etc"], ["../../etc", "12"]),
    "week-empty": (lambda p: (p / "inbox" / WEEK / "610928100_城关镇.xlsx").unlink(), run_args,
                   [WEEK, "没有任何报表文件"]),
    "week-folder-missing": (None, lambda p: run_args(p, week="2016-W38"), ["2016-W38"]),
    "townships-headers": (lambda p: write(p / "ref" / "townships.csv", "code,name\n610928100,城关镇\n"), run_args,
                          ["townships.csv", "township_code"]),
    "townships-code": (lambda p: write(p / "ref" / "townships.csv", "township_code,township_name\n6.10928E+08,城关镇\n"),
                       run_args, ["townships.csv", "第 2 行", "6.10928E+08"]),
    "villages-headers": (lambda p: write(p / "ref" / "villages.csv", "村代码,村名\n610928100201,甲村\n"), run_args,
                         ["villages.csv", "village_code"]),
    "county-yaml-syntax": (lambda p: write(p / "ref" / "county.yaml", "targets: {2016: [\n"), run_args,
                           ["county.yaml", "YAML"]),
    "county-yaml-type": (lambda p: write(p / "ref" / "county.yaml",
                                         "targets: {2016: {key_villages: 四十五, exit_households: 10114}}\n"),
                         run_args, ["county.yaml", "targets.2016.key_villages"]),
    "county-yaml-no-targets": (lambda p: write(p / "ref" / "county.yaml", "county_name: 旬阳县\n"), run_args,
                               ["county.yaml", "targets.2016"]),
    "county-yaml-no-year": (None, lambda p: run_args(p, "--profile", "shaanxi-2017"), ["county.yaml", "targets.2017"]),
    "reference-without-register": (lambda p: (p / "ref" / "townships.csv").unlink(), run_args, ["townships.csv"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_input_is_one_line_and_exit_2_before_prefect_starts(place, name):
    spoil, args, words = CASES[name]
    if spoil:
        spoil(place)
    code, err, loaded = cli(place, *args(place))
    assert code == 2, err
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert err[0].startswith("evalprep: ")
    for word in words:
        assert word in err[0], (word, err[0])
    assert loaded == "", f"imported before the error: {loaded}"  # no Prefect, no pandas, no flows


def test_the_console_script_itself_exits_2_with_one_line(place):
    done = subprocess.run([sys.executable, "-m", "flows.cli", *run_args(place, week="2016-W53")],
                          capture_output=True, text=True, timeout=120, cwd=place)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "2016-W53" in done.stderr


def test_a_missing_argument_is_one_line_too(place):
    code, err, _ = cli(place, "run", "--inbox", str(place / "inbox"))
    assert code == 2 and len(err) == 1 and "--week" in err[0]


@pytest.mark.parametrize("name", ["week-99", "reference-mistyped", "week-empty", "townships-headers",
                                  "county-yaml-no-targets", "profile-unknown"])
def test_the_flow_called_directly_raises_the_same_input_error(place, name, monkeypatch):
    """The deployment path: the weekly flow's first step, resolve_run, rejects the same inputs."""
    from flows.run_config import resolve_run

    spoil, args, words = CASES[name]
    if spoil:
        spoil(place)
    argv = args(place)
    options = dict(zip(argv[1::2], argv[2::2]))
    monkeypatch.setenv("EVALPREP_DATA_DIR", str(place / "data"))
    with pytest.raises(InputError) as caught:
        resolve_run(inbox=options["--inbox"], week=options["--week"], out=str(place / "out"),
                    profile=options.get("--profile", "xunyang-2016"), reference=options.get("--reference"))
    assert "\n" not in str(caught.value) and all(word in str(caught.value) for word in words)
    assert not (place / "out").exists()  # nothing was written


def test_a_missing_input_is_also_a_file_not_found_error(place, monkeypatch):
    from flows.run_config import resolve_run

    monkeypatch.setenv("EVALPREP_DATA_DIR", str(place / "data"))
    with pytest.raises(FileNotFoundError) as caught:
        resolve_run(str(place / "inbox"), "2016-W38", reference=str(place / "ref"))
    assert isinstance(caught.value, MissingInputError) and "2016-W38" in str(caught.value)


def test_an_id_number_typed_into_a_reference_file_is_echoed_masked(place):
    """The one-line error goes through the redaction gate: a person reads it."""
    typed = "61092819800517123X"
    write(place / "ref" / "townships.csv", f"township_code,township_name\n{typed},城关镇\n")
    code, err, _ = cli(place, *run_args(place))
    assert code == 2 and len(err) == 1 and "townships.csv" in err[0]
    assert typed not in err[0] and "610928********123X" in err[0]
