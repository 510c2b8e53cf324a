"""The systemd units in deploy/systemd/ are well formed, start programs that exist once the repository is set up
(./run.sh setup), restart on failure and keep Prefect's telemetry off (README "Running as a service")."""
from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from evalprep.settings import PROJECT_ROOT

UNITS = PROJECT_ROOT / "deploy" / "systemd"
INSTALLED_AT = "/opt/evalprep"  # where the README installs the repository
NAMES = ("prefect-server.service", "evalprep-serve.service")


def parsed(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections → (key, value) in order (keys repeat: Environment=), comments and blank lines skipped."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"{path.name}:{number}: {line}"
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None and "=" in line, f"{path.name}:{number}: {line}"
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: dict, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


@pytest.mark.parametrize("name", NAMES)
def test_a_unit_restarts_on_failure_keeps_telemetry_off_and_starts_a_program_of_the_repository(name):
    unit = parsed(UNITS / name)
    assert set(unit) == {"Unit", "Service", "Install"}
    assert values(unit, "Service", "Restart") == ["on-failure"]
    assert values(unit, "Install", "WantedBy") == ["multi-user.target"]
    environment = dict(item.split("=", 1) for value in values(unit, "Service", "Environment")
                       for item in shlex.split(value))
    assert environment["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and environment["DO_NOT_TRACK"] == "1"
    assert values(unit, "Service", "WorkingDirectory") == [INSTALLED_AT]
    (command,) = values(unit, "Service", "ExecStart")
    program, *args = shlex.split(command)
    assert program.startswith(INSTALLED_AT + "/")
    in_repository = PROJECT_ROOT / program.removeprefix(INSTALLED_AT + "/")
    assert in_repository.is_file(), f"{program}: no {in_repository} after ./run.sh setup"
    assert args == (["serve"] if name == "evalprep-serve.service" else
                    ["server", "start", "--host", "127.0.0.1", "--port", "4200"])


def test_serve_talks_to_the_server_the_other_unit_starts_and_starts_after_it():
    server, serve = parsed(UNITS / "prefect-server.service"), parsed(UNITS / "evalprep-serve.service")
    assert "prefect-server.service" in " ".join(values(serve, "Unit", "After") + values(serve, "Unit", "Wants"))
    (start,) = values(server, "Service", "ExecStart")
    port = shlex.split(start)[shlex.split(start).index("--port") + 1]
    assert f"PREFECT_API_URL=http://127.0.0.1:{port}/api" in values(serve, "Service", "Environment")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (parsed above)")
def test_systemd_analyze_verifies_the_units_as_installed(tmp_path):
    for name in NAMES:  # as installed, with the repository where this one is
        text = (UNITS / name).read_text(encoding="utf-8").replace(INSTALLED_AT, str(PROJECT_ROOT))
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *(str(tmp_path / n) for n in NAMES)],
                          capture_output=True, text=True, timeout=120)
    problems = [line for line in (done.stdout + done.stderr).splitlines() if str(tmp_path) in line]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr
